// Typed wrappers over the app's IPC commands: the only place the UI calls
// `invoke`. Every rejection is normalised to an AppError. The payload types
// are generated from Rust (src/generated/ipc.ts).
import { invoke } from "@tauri-apps/api/core";
import type {
  AppError,
  AppInfo,
  Availability,
  CartLineInput,
  CheckoutInput,
  DestinationInput,
  ErrorCode,
  FulfilmentDetail,
  LabelFile,
  Lang,
  OrderDetail,
  OrderHitPage,
  PairingInput,
  PairingState,
  PlaceOutcome,
  QueuedAction,
  RefusedAction,
  ProductDetail,
  ProductPage,
  QueuePage,
  ReturnInput,
  ReturnReceipt,
  SearchFilters,
  SearchFilterValues,
  StepInput,
  StepOutcome,
  SyncStatus,
  NoReceiptInput,
  NoReceiptOutcome,
  SignedInStaff,
  SignInOutcome,
  StaffList,
  CustomerHit,
  CustomerSaved,
  NewCustomerInput,
  ReceiptSent,
} from "./generated/ipc";

const ERROR_CODES: Record<ErrorCode, true> = {
  backend_starting: true,
  backend_unavailable: true,
  invalid_input: true,
  not_found: true,
  conflict: true,
  cannot_be_served: true,
  pickup_code_mismatch: true,
  forbidden: true,
  not_paired: true,
  no_keyring: true,
  internal: true,
};

/** Dispatched on `window` when a command answers `not_paired` (the server no
 *  longer accepts this device): the pairing gate listens. */
export const NOT_PAIRED_EVENT = "aisle:not-paired";

export function toAppError(error: unknown): AppError {
  if (typeof error === "object" && error !== null && "code" in error && "message" in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (typeof code === "string" && code in ERROR_CODES) {
      return { code: code as ErrorCode, message: String(message) };
    }
  }
  return { code: "internal", message: String(error) };
}

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    const appError = toAppError(error);
    if (appError.code === "not_paired" && typeof window !== "undefined") {
      window.dispatchEvent(new CustomEvent(NOT_PAIRED_EVENT, { detail: appError }));
    }
    throw appError;
  }
}

export const appInfo = () => call<AppInfo>("app_info");

/** Whether this device is paired (never waits). */
export const pairingState = () => call<PairingState>("pairing_state");
/** Pairs with a central OMS server; answers the store, once the device runs. */
export const pairDevice = (pairing: PairingInput) => call<AppInfo>("pair_device", { pairing });
/** Uses the built-in demo server (the embedded default). */
export const chooseEmbeddedServer = () => call<null>("use_embedded_server");
/** Forgets this device; the app restarts on the pairing screen. */
export const forgetDevice = () => call<null>("forget_device");
export const syncStatus = () => call<SyncStatus>("sync_status");

export function searchProducts(query: string, cursor?: string, filters?: SearchFilters): Promise<ProductPage> {
  return call<ProductPage>("search_products", { query, cursor: cursor ?? null, filters: filters ?? null });
}

/** The brands and product types the search filters offer. */
export const searchFilterValues = () => call<SearchFilterValues>("search_filter_values");

export const productDetail = (sku: string) => call<ProductDetail>("product_detail", { sku });

export const productAtp = (sku: string, quantity: number, destination: DestinationInput) =>
  call<Availability>("product_atp", { sku, quantity, destination });

export const cartAtp = (lines: CartLineInput[], destination: DestinationInput) =>
  call<Availability>("cart_atp", { lines, destination });

/** Placed now (an order), or queued in the outbox while the core is down. */
export const placeOrder = (checkout: CheckoutInput) => call<PlaceOutcome>("place_order", { checkout });

export function isQueued(outcome: PlaceOutcome): outcome is QueuedAction {
  return "mutation_id" in outcome;
}

/** A carry-out sale at this store, queued and applied locally at once. */
export const carryOutSale = (lines: CartLineInput[]) => call<QueuedAction>("carry_out_sale", { lines });

export const syncNow = () => call<null>("sync_now");

export const refusedActions = () => call<RefusedAction[]>("refused_actions");

/** A page of orders (`cursor`: the previous page's `next_cursor`). */
export const searchOrders = (query: string, cursor?: string) =>
  call<OrderHitPage>("search_orders", { query, cursor: cursor ?? null });

export const orderDetail = (id: string, lang: Lang) => call<OrderDetail>("order_detail", { id, lang });

export const receiveReturn = (request: ReturnInput) => call<ReturnReceipt>("receive_return", { request });

/** A page of the store's queue (`cursor`: the previous page's `next_cursor`). */
export const storeQueue = (cursor?: string) => call<QueuePage>("store_queue", { cursor: cursor ?? null });

export const fulfilmentDetail = (id: string) => call<FulfilmentDetail>("fulfilment_detail", { id });

export const fulfilmentStep = (id: string, step: StepInput, lang: Lang) =>
  call<StepOutcome>("fulfilment_step", { id, step, lang });

export const openLabel = (id: string) => call<LabelFile>("open_label", { id });

/** Customers of the register by name, e-mail or phone (at least 2 characters). */
export const searchCustomers = (query: string) => call<CustomerHit[]>("search_customers", { query });
/** Registers a customer, or answers the one with the same e-mail (`existing`). */
export const createCustomer = (customer: NewCustomerInput) => call<CustomerSaved>("create_customer", { customer });
/** Saves the order's receipt PDF and opens it in the system viewer. */
export const openReceipt = (order: string, lang: Lang) => call<LabelFile>("open_receipt", { order, lang });
/** Queues the receipt by e-mail to the order's address, or to `to`. */
export const emailReceipt = (order: string, to: string | null, lang: Lang) =>
  call<ReceiptSent>("email_receipt", { order, to, lang });

/** This store's staff for the sign-in screen (kept list when offline). */
export const staffList = () => call<StaffList>("staff_list");
/** Who is signed in on this device, if anyone. */
export const currentStaff = () => call<SignedInStaff | null>("current_staff");
/** Checks a PIN with the OMS core (offline: the hash kept on this device). */
export const staffSignIn = (staffId: string, pin: string) => call<SignInOutcome>("staff_sign_in", { staffId, pin });
export const staffSignOut = () => call<null>("staff_sign_out");
/** A return without receipt, approved by a manager's PIN checked by the core. */
export const returnWithoutReceipt = (request: NoReceiptInput) =>
  call<NoReceiptOutcome>("return_without_receipt", { request });
