import type { ComponentChildren } from "preact";
import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { lamp, mockCommands, offline, pending } from "../test-utils";
import { ScanContext, type ScanHandler } from "../scan";
import { NoReceipt } from "./NoReceipt";
import { Orders } from "./Orders";

afterEach(() => {
  cleanup();
  clearMocks();
});

/** Delivers scans to the newest handler first, like the app shell. */
function withScans(children: ComponentChildren) {
  let handlers: ScanHandler[] = [];
  const registry = {
    push: (h: ScanHandler) => {
      handlers.push(h);
      return () => {
        handlers = handlers.filter((x) => x !== h);
      };
    },
  };
  const scan = (code: string) => [...handlers].reverse().some((h) => h(code));
  return { ui: <ScanContext.Provider value={registry}>{children}</ScanContext.Provider>, scan };
}

const camille = { id: "STAFF-ST-FR-001-M", name: "Camille Laurent", role: "store_manager", offline_ok: false };
const ines = { id: "STAFF-ST-FR-001-A", name: "Inès Moreau", role: "store_associate", offline_ok: false };
const staff = () => ({ members: [camille, ines], offline: false });
const noop = () => undefined;

function typePin(pin: string) {
  for (const d of pin) fireEvent.click(screen.getByTestId(`pin-key-${d}`));
  fireEvent.click(screen.getByTestId("pin-submit"));
}

describe("Return without receipt", () => {
  it("starts empty, finds and adds a product by scan; lists the store's managers only", async () => {
    mockCommands({ staff_list: staff, search_products: () => ({ items: [lamp], next_cursor: null }) });
    const { ui, scan } = withScans(<NoReceipt onBack={noop} />);
    render(ui);
    expect(screen.getByTestId("no-receipt-empty")).toBeTruthy();
    expect(scan("2000000000008")).toBe(true);
    const line = await screen.findByTestId("no-receipt-line");
    expect(line.dataset.sku).toBe(lamp.sku);
    const manager = (await screen.findByTestId("no-receipt-manager")) as HTMLSelectElement;
    expect([...manager.options].map((o) => o.value)).toEqual([camille.id]);
  });

  it("shows the product search loading and its errors", async () => {
    mockCommands({ staff_list: staff, search_products: pending });
    render(<NoReceipt onBack={noop} />);
    fireEvent.input(screen.getByTestId("no-receipt-query"), { target: { value: "lamp" } });
    fireEvent.click(screen.getByTestId("no-receipt-search"));
    expect(screen.getByTestId("no-receipt-searching")).toBeTruthy();
    cleanup();
    mockCommands({ staff_list: staff, search_products: offline });
    render(<NoReceipt onBack={noop} />);
    fireEvent.input(screen.getByTestId("no-receipt-query"), { target: { value: "lamp" } });
    fireEvent.click(screen.getByTestId("no-receipt-search"));
    expect((await screen.findByTestId("no-receipt-search-error")).dataset.code).toBe("backend_unavailable");
    cleanup();
    mockCommands({ staff_list: staff, search_products: () => ({ items: [], next_cursor: null }) });
    render(<NoReceipt onBack={noop} />);
    fireEvent.input(screen.getByTestId("no-receipt-query"), { target: { value: "nothing" } });
    fireEvent.click(screen.getByTestId("no-receipt-search"));
    expect(await screen.findByTestId("no-receipt-none")).toBeTruthy();
  });

  it("says when the managers cannot be listed (offline) or there is none", async () => {
    mockCommands({ staff_list: offline, search_products: () => ({ items: [lamp], next_cursor: null }) });
    const first = withScans(<NoReceipt onBack={noop} />);
    render(first.ui);
    first.scan("2000000000008");
    expect((await screen.findByTestId("no-receipt-managers-error")).dataset.code).toBe("backend_unavailable");
    cleanup();
    mockCommands({ staff_list: () => ({ members: [ines], offline: false }), search_products: () => ({ items: [lamp], next_cursor: null }) });
    const second = withScans(<NoReceipt onBack={noop} />);
    render(second.ui);
    second.scan("2000000000008");
    expect(await screen.findByTestId("no-receipt-no-manager")).toBeTruthy();
  });

  it("needs the manager's PIN: wrong, locked out, then recorded with the same attempt key", async () => {
    const sent: Record<string, unknown>[] = [];
    const answers = [
      { outcome: "wrong_pin", attempts_left: 4 },
      { outcome: "not_a_manager" },
      { outcome: "locked_out", minutes: 5 },
      {
        outcome: "recorded",
        receipt: {
          id: "RET-1",
          lines: [
            { sku: lamp.sku, quantity: 2, reason: "does_not_fit", condition: "resaleable", refund: { amount_minor: 9998, currency: "EUR" }, restocked: true },
          ],
          total_refund: { amount_minor: 9998, currency: "EUR" },
          refund_method: "store_credit",
          approved_by: "Camille Laurent",
          received_at: "2026-11-27T10:00:00Z",
        },
      },
    ];
    mockCommands({
      staff_list: staff,
      search_products: () => ({ items: [lamp], next_cursor: null }),
      return_without_receipt: (args) => {
        sent.push(args.request as Record<string, unknown>);
        return answers[sent.length - 1];
      },
    });
    const { ui, scan } = withScans(<NoReceipt onBack={noop} />);
    render(ui);
    scan("2000000000008");
    scan("2000000000008");
    expect(((await screen.findByTestId("no-receipt-qty")) as HTMLInputElement).value).toBe("2");
    fireEvent.change(screen.getByTestId("no-receipt-reason"), { target: { value: "does_not_fit" } });
    fireEvent.click(screen.getByTestId("refund-store_credit"));
    fireEvent.click(await screen.findByTestId("no-receipt-approve"));
    // While the PIN pad is open, scans are not products.
    expect(scan("2000000000008")).toBe(true);
    typePin("1111");
    expect((await screen.findByTestId("pin-refused")).textContent).toBe("Wrong PIN. 4 attempt(s) left before a lock-out.");
    typePin("1111");
    expect((await screen.findByTestId("pin-refused")).dataset.code).toBe("not_a_manager");
    typePin("1111");
    await screen.findByText("Too many wrong PINs. Try again in 5 minute(s) or ask a manager.");
    typePin("1234");
    const receipt = await screen.findByTestId("no-receipt-receipt");
    expect(receipt.textContent).toContain("RET-1");
    expect(receipt.textContent).toContain("Camille Laurent");
    expect(sent[0]).toMatchObject({
      lines: [{ sku: lamp.sku, quantity: 2, reason: "does_not_fit", condition: "resaleable" }],
      refund_method: "store_credit",
      manager_id: camille.id,
      manager_pin: "1111",
    });
    const keys = new Set(sent.map((r) => r.idempotency_key));
    expect(keys.size).toBe(1);
    expect(screen.getByTestId("no-receipt-empty")).toBeTruthy();
  });
});

describe("Orders screen and receipts", () => {
  it("opens the order of a scanned receipt barcode", async () => {
    const opened: string[] = [];
    mockCommands({
      search_orders: (args) => ({
        items: [{ id: String(args.query).toUpperCase(), status: "completed", channel: "web-fr", customer_name: "C", placed_at: "2026-11-26T10:00:00Z" }],
        next_cursor: null,
      }),
    });
    const { ui, scan } = withScans(<Orders onOpen={(id) => opened.push(id)} />);
    render(ui);
    expect(scan("2000000000008")).toBe(false);
    expect(scan("O-ABCD2345")).toBe(true);
    await screen.findByDisplayValue("O-ABCD2345");
    await new Promise((r) => setTimeout(r, 10));
    expect(opened).toEqual(["O-ABCD2345"]);
  });

  it("opens a return without receipt", async () => {
    mockCommands({ staff_list: staff });
    render(<Orders onOpen={noop} />);
    fireEvent.click(screen.getByTestId("no-receipt-open"));
    expect(await screen.findByTestId("no-receipt")).toBeTruthy();
  });
});
