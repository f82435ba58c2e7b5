// Helpers for component tests: IPC routed to handlers (unknown commands fail
// loudly), and sample payloads shaped like the generated IPC types.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { FulfilmentDetail, OrderDetail, ProductDetail, ProductSummary } from "./generated/ipc";

export type Handler = (args: Record<string, unknown>) => unknown;

export function mockCommands(handlers: Record<string, Handler>) {
  mockIPC((command, payload) => {
    const handler = handlers[command];
    if (!handler) throw new Error(`unexpected IPC command ${command}`);
    return handler((payload ?? {}) as Record<string, unknown>);
  });
}

export const offline = () => {
  throw { code: "backend_unavailable", message: "oms-server unreachable: connection refused" };
};

/** A promise that never settles: the screen stays loading. */
export const pending = () => new Promise(() => undefined);

export const lamp: ProductSummary = {
  sku: "SKU-000001",
  name: "Nordvik Oak Table Lamp Sand",
  brand: "Nordvik",
  product_type: "fragile",
  barcodes: ["2000000000008"],
  price: { amount_minor: 4999, currency: "EUR" },
};

export const lampDetail: ProductDetail = {
  product: lamp,
  here: { on_hand: 3, available: 2 },
  nearby: [{ location: "ST-FR-002", name: "Aisle Paris Montparnasse", distance_km: 2.1, available: 5 }],
  network_available: 120,
  network_locations: 9,
  channels: [{ channel: "web-fr", unified_stock: 100 }],
};

export const pickFulfilment: FulfilmentDetail = {
  id: "O-ABCD2345-1",
  order_id: "O-ABCD2345",
  location: "ST-FR-001",
  location_name: "Aisle Paris Rivoli",
  delivery: "express_click_and_collect",
  handover: true,
  ship_to: null,
  ship_to_name: null,
  status: "in_preparation",
  due_at: "2026-11-27T10:00:00Z",
  expected_date: "2026-11-27",
  tracking: null,
  lines: [{ line: 1, sku: lamp.sku, name: lamp.name, barcodes: lamp.barcodes, quantity: 2 }],
};

export const order: OrderDetail = {
  id: "O-ABCD2345",
  status: "completed",
  channel: "stores",
  delivery: "express_click_and_collect",
  customer: { name: "Camille Martin", email: "camille@example.com", phone: null, language: "fr" },
  payment: "in_store",
  placed_at: "2026-11-26T10:00:00Z",
  lines: [{ line: 1, sku: lamp.sku, name: lamp.name, quantity: 2, unit_price: lamp.price, returnable: 2 }],
  shipping_fee: { amount_minor: 0, currency: "EUR" },
  total: { amount_minor: 9998, currency: "EUR" },
  fulfilments: [
    {
      id: "O-ABCD2345-1",
      location: "ST-FR-001",
      location_name: "Aisle Paris Rivoli",
      delivery: "express_click_and_collect",
      handover: true,
      status: "picked_up",
      expected_date: "2026-11-27",
      lines: pickFulfilment.lines,
    },
  ],
  unservable: [],
  explanation: ["Aisle Paris Rivoli was chosen: it is the pickup store and holds every unit."],
  payments: [{ kind: "capture", amount: { amount_minor: 9998, currency: "EUR" }, status: "succeeded", link: null, detail: null }],
  returns: [],
};
