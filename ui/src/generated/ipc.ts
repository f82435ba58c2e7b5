// Generated from src-tauri/src/dto.rs and error.rs by the Rust test
// `ipc_types_are_up_to_date`. Do not edit: change the Rust types, then run
// `AISLE_UPDATE_IPC_TYPES=1 cargo test -p aisle ipc_types`.

export type ErrorCode = "backend_starting" | "backend_unavailable" | "invalid_input" | "not_found" | "conflict" | "cannot_be_served" | "pickup_code_mismatch" | "forbidden" | "not_paired" | "no_keyring" | "internal";

export type AppError = { code: ErrorCode, message: string, };

export type Money = { amount_minor: number, currency: string, };

export type Lang = "en" | "fr" | "de";

export type AppInfo = { store: StoreRef, 
/**
 * The channel orders taken in the store are placed on.
 */
channel: string, 
/**
 * `embedded` (the bundled server) or `central`.
 */
backend: BackendKind, 
/**
 * The channel's stores, for click & collect elsewhere (this one first,
 * then by name).
 */
stores: Array<StoreRef>, };

export type StoreRef = { id: string, name: string, };

export type BackendKind = "embedded" | "central";

export type SyncStatus = { connectivity: Connectivity, 
/**
 * Last successful exchange with the OMS core (RFC 3339).
 */
last_sync_at: string | null, 
/**
 * Actions queued on this device, not yet answered by the core.
 */
pending: number, 
/**
 * Actions the core refused that staff have not dismissed.
 */
refused: number, 
/**
 * The last failure (why the core is unreachable), in plain words.
 */
last_error: string | null, 
/**
 * Something staff should know about this device, in plain words (e.g.
 * "No keyring: this device must pair again at next start.").
 */
notice: string | null, };

export type Connectivity = "unknown" | "online" | "offline" | "syncing";

export type ProductSummary = { sku: string, name: string, brand: string, 
/**
 * `standard`, `bulky` or `fragile`.
 */
product_type: string, barcodes: Array<string>, price: Money, };

export type ProductPage = { items: Array<ProductSummary>, next_cursor: string | null, };

export type SearchFilters = { 
/**
 * Exactly this brand.
 */
brand: string | null, 
/**
 * Exactly this product type (`standard`, `bulky`, `fragile`).
 */
product_type: string | null, 
/**
 * Only products with units available in this store (its cached stock
 * with the effect of actions queued here).
 */
in_stock_here: boolean, };

export type SearchFilterValues = { brands: Array<string>, product_types: Array<string>, 
/**
 * Whether the search answers from this device's cache (filled by its
 * first full pull); if not, from the OMS core.
 */
from_cache: boolean, };

export type ProductDetail = { product: ProductSummary, 
/**
 * This store's shelf.
 */
here: StockHere, 
/**
 * Other stores holding available units, nearest first.
 */
nearby: Array<NearbyStock>, 
/**
 * Available units at every location of the network.
 */
network_available: number, 
/**
 * Locations holding available units.
 */
network_locations: number, 
/**
 * Unified stock per sales channel.
 */
channels: Array<ChannelStock>, };

export type StockHere = { on_hand: number, available: number, };

export type NearbyStock = { location: string, name: string, distance_km: number, available: number, };

export type ChannelStock = { channel: string, unified_stock: number, };

export type DestinationInput = { postal_code: string | null, 
/**
 * ISO 3166 alpha-2, e.g. `FR`.
 */
country: string | null, pickup_store: string | null, };

export type DeliveryMethod = "home_delivery" | "pickup_point" | "click_and_collect" | "express_click_and_collect";

export type UnavailableReason = "method_not_offered" | "product_type_not_allowed" | "no_address" | "no_pickup_store" | "pickup_store_not_a_store" | "pickup_store_cannot_receive" | "pickup_store_no_express" | "pickup_store_not_in_channel" | "out_of_stock" | "no_eligible_location" | "capacity_reached" | "not_open_soon" | "no_carrier_route" | "insufficient_stock";

export type UnservableReason = "method_not_offered" | "no_address" | "no_pickup_store" | "pickup_store_not_a_store" | "pickup_store_cannot_receive" | "pickup_store_no_express" | "pickup_store_not_in_channel" | "product_type_not_allowed" | "out_of_stock" | "no_eligible_location" | "insufficient_stock" | "split_not_allowed" | "split_limit_reached";

export type Availability = { channel: string, methods: Array<MethodAvailability>, };

export type MethodAvailability = { method: DeliveryMethod, possible: boolean, reason: UnavailableReason | null, requested: number, 
/**
 * Units this method could deliver in all (product ATP; for a cart the
 * smallest share of a line).
 */
quantity: number, 
/**
 * Delivered, or ready for pickup (local date).
 */
expected_date: string | null, 
/**
 * Click & collect: when it is ready at the store (RFC 3339).
 */
ready_at: string | null, shipments: Array<ShipmentView>, };

export type ShipmentView = { location: string, location_name: string, units: number, expected_date: string, };

export type CartLineInput = { sku: string, quantity: number, };

export type CheckoutDelivery = "carry_out" | "home_delivery" | "click_and_collect" | "express_click_and_collect";

export type PaymentChoice = "in_store" | "gateway";

export type CustomerInput = { 
/**
 * A customer picked from the register (`search_customers`); none for
 * details entered for this order only (offline, or a guest).
 */
id: string | null, name: string, email: string | null, phone: string | null, language: Lang, };

export type CheckoutInput = { lines: Array<CartLineInput>, customer: CustomerInput, delivery: CheckoutDelivery, destination: DestinationInput, payment: PaymentChoice, 
/**
 * Made once per checkout attempt by the UI (a UUID): sending the same
 * checkout again after a timeout answers the same order.
 */
idempotency_key: string, };

export type OrderStatus = "placed" | "partially_allocated" | "allocated" | "completed" | "cancelled";

export type FulfilmentStatus = "awaiting_preparation" | "in_preparation" | "ready_for_pickup" | "ready_to_ship" | "in_transit_to_store" | "picked_up" | "shipped" | "cancelled" | "rejected";

export type PickLine = { line: number, sku: string, name: string, barcodes: Array<string>, quantity: number, };

export type FulfilmentDetail = { id: string, order_id: string, location: string, location_name: string, delivery: DeliveryMethod, 
/**
 * Collected at this location (rather than shipped).
 */
handover: boolean, 
/**
 * Click & collect served by another location: the pickup store the
 * parcel goes to (received and handed over there), and its name.
 */
ship_to: string | null, ship_to_name: string | null, status: FulfilmentStatus, due_at: string, expected_date: string, tracking: string | null, lines: Array<PickLine>, };

export type QueueItem = { id: string, order_id: string, delivery: DeliveryMethod, handover: boolean, status: FulfilmentStatus, due_at: string, units: number, lines: number, };

export type QueuePage = { items: Array<QueueItem>, 
/**
 * Pass back to get the next page; none on the last page.
 */
next_cursor: string | null, };

export type LineFoundInput = { line: number, found: number, };

export type StepInput = { "type": "start_preparation" } | { "type": "report_missing", lines: Array<LineFoundInput>, } | { "type": "mark_ready" } | { "type": "ship" } | { "type": "hand_over", pickup_code: string, } | { "type": "receive_at_store" } | { "type": "cancel" };

export type UnservableView = { line: number, sku: string, missing: number, reason: UnservableReason, };

export type FulfilmentSummary = { id: string, location: string, location_name: string, delivery: DeliveryMethod, handover: boolean, status: FulfilmentStatus, expected_date: string, lines: Array<PickLine>, };

export type StepOutcome = { fulfilment: FulfilmentDetail, order_status: OrderStatus, 
/**
 * Fulfilments that took over missing units.
 */
rerouted: Array<FulfilmentSummary>, unservable: Array<UnservableView>, 
/**
 * Plain sentences from the server: where the missing units went and why.
 */
explanation: Array<string>, };

export type LabelFile = { path: string, 
/**
 * Whether the system's PDF viewer was started (to print from it).
 */
opened: boolean, };

export type OrderHit = { id: string, status: OrderStatus, channel: string, customer_name: string, placed_at: string, };

export type OrderHitPage = { items: Array<OrderHit>, 
/**
 * Pass back to get the next page; none on the last page.
 */
next_cursor: string | null, };

export type CustomerView = { name: string, email: string | null, phone: string | null, language: Lang, };

export type OrderLineDetail = { line: number, sku: string, name: string, quantity: number, unit_price: Money, 
/**
 * Units delivered and not yet returned.
 */
returnable: number, };

export type PaymentLine = { 
/**
 * `authorise`, `capture`, `void`, `refund`…
 */
kind: string, amount: Money, status: string, 
/**
 * Where the customer pays (a payment link the gateway made; the core
 * sent it to the customer).
 */
link: string | null, 
/**
 * While pending, why, in the core's words (shown as a detail only).
 */
detail: string | null, };

export type ReturnReason = "changed_mind" | "does_not_fit" | "defective" | "damaged_in_transit" | "not_as_described" | "wrong_item" | "arrived_late" | "other";

export type ItemCondition = "resaleable" | "damaged";

export type Restock = "sellable" | "quarantine";

export type RefundLineView = { line: number, sku: string, quantity: number, reason: ReturnReason, condition: ItemCondition, refund: Money, restock: Restock, };

export type ReturnReceipt = { id: string, order_id: string, location: string, lines: Array<RefundLineView>, shipping_refund: Money, total_refund: Money, received_at: string, };

export type OrderDetail = { id: string, status: OrderStatus, channel: string, delivery: DeliveryMethod, customer: CustomerView, payment: PaymentChoice, placed_at: string, lines: Array<OrderLineDetail>, shipping_fee: Money, total: Money, fulfilments: Array<FulfilmentSummary>, unservable: Array<UnservableView>, 
/**
 * The orchestration explained: placement first, then each
 * re-orchestration, in the language asked.
 */
explanation: Array<string>, payments: Array<PaymentLine>, returns: Array<ReturnReceipt>, };

export type ReturnLineInput = { line: number, quantity: number, reason: ReturnReason, condition: ItemCondition, };

export type CustomerHit = { id: string, name: string, email: string | null, phone: string | null, language: Lang, };

export type NewCustomerInput = { name: string, email: string | null, phone: string | null, language: Lang, };

export type CustomerSaved = { customer: CustomerHit, 
/**
 * The e-mail address was registered already: this is that customer and
 * nothing was created.
 */
existing: boolean, };

export type ReceiptSent = { to: string, 
/**
 * `pending` (queued in the core's outbox) or `delivered`.
 */
delivery: string, };

export type ReturnInput = { order_id: string, lines: Array<ReturnLineInput>, };

export type QueuedAction = { 
/**
 * The local mutation id (gapless on this device).
 */
mutation_id: number, 
/**
 * The local reference to show on the receipt (e.g. `pending-12`).
 */
reference: string, };

export type PlaceOutcome = OrderDetail | QueuedAction;

export type RefusedAction = { mutation_id: number, 
/**
 * `place_order`, `carry_out_sale`, …
 */
kind: string, reason: string, created_at: string, };

export type PairingPhase = "needs_pairing" | "starting" | "ready" | "failed";

export type PairingReason = "revoked" | "not_paired" | "no_keyring";

export type PairingState = { phase: PairingPhase, 
/**
 * Why pairing is needed again, for the UI to say in its language.
 */
reason: PairingReason | null, 
/**
 * Why pairing is needed (revoked, not in the keyring…) or why it failed.
 */
message: string | null, 
/**
 * The central server paired with, or to pair with (e.g. from
 * `AISLE_SERVER_URL`); none for the built-in server.
 */
server_url: string | null, mode: BackendKind, };

export type PairingInput = { server_url: string, code: string, device_label: string, };

export type StaffMemberView = { id: string, name: string, role: StaffRole, 
/**
 * Signed in on this device within the offline window, so they may sign
 * in again while the core is unreachable.
 */
offline_ok: boolean, };

export type StaffRole = "store_manager" | "store_associate";

export type StaffList = { members: Array<StaffMemberView>, offline: boolean, };

export type SignedInStaff = { member: StaffMemberView, 
/**
 * Signed in against the hash kept on this device (the core was
 * unreachable).
 */
offline: boolean, };

export type SignInOutcome = { "outcome": "signed_in", staff: SignedInStaff, } | { "outcome": "wrong_pin", attempts_left: number | null, } | { "outcome": "locked_out", minutes: number | null, } | { "outcome": "offline_not_allowed" };

export type RefundMethod = "cash" | "store_credit";

export type NoReceiptLineInput = { sku: string, quantity: number, reason: ReturnReason, condition: ItemCondition, };

export type NoReceiptInput = { lines: Array<NoReceiptLineInput>, refund_method: RefundMethod, manager_id: string, manager_pin: string, idempotency_key: string, };

export type NoReceiptLineView = { sku: string, quantity: number, reason: ReturnReason, condition: ItemCondition, refund: Money, restocked: boolean, };

export type NoReceiptReceipt = { id: string, lines: Array<NoReceiptLineView>, total_refund: Money, refund_method: RefundMethod, 
/**
 * The manager who approved, by name.
 */
approved_by: string, received_at: string, };

export type NoReceiptOutcome = { "outcome": "recorded", receipt: NoReceiptReceipt, } | { "outcome": "wrong_pin", attempts_left: number | null, } | { "outcome": "locked_out", minutes: number | null, } | { "outcome": "not_a_manager" };
