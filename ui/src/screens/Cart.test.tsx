import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { useState } from "preact/hooks";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckoutInput } from "../generated/ipc";
import { lamp, mockCommands, offline, order, pending } from "../test-utils";
import { Cart, type CartLine } from "./Cart";

afterEach(() => {
  cleanup();
  clearMocks();
});

function Harness({ initial }: { initial: CartLine[] }) {
  const [lines, setLines] = useState(initial);
  return (
    <Cart
      lines={lines}
      setLines={setLines}
      stores={[
        { id: "ST-FR-001", name: "Aisle Paris Rivoli" },
        { id: "ST-FR-002", name: "Aisle Paris Montparnasse" },
      ]}
      onOpenOrder={() => undefined}
    />
  );
}

function fill() {
  fireEvent.input(screen.getByTestId("customer-name"), { target: { value: "Camille Martin" } });
  fireEvent.input(screen.getByTestId("customer-email"), { target: { value: "camille@example.com" } });
  fireEvent.input(screen.getByTestId("checkout-postal"), { target: { value: "75011" } });
}

describe("Cart screen", () => {
  it("is empty at first", () => {
    mockCommands({});
    render(<Harness initial={[]} />);
    expect(screen.getByTestId("cart-empty")).toBeTruthy();
  });

  it("asks for the customer's contact before placing", () => {
    mockCommands({});
    render(<Harness initial={[{ product: lamp, quantity: 2 }]} />);
    expect(screen.getByTestId("cart-total").textContent).toContain("€99.98");
    fireEvent.input(screen.getByTestId("customer-name"), { target: { value: "Camille" } });
    fireEvent.click(screen.getByTestId("place-order"));
    expect(screen.getByTestId("checkout-problem").textContent).toBe("Enter an e-mail address or a phone number.");
  });

  it("places the order, showing the order number", async () => {
    const sent: CheckoutInput[] = [];
    mockCommands({
      place_order: (args) => {
        sent.push(args.checkout as CheckoutInput);
        return order;
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 2 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("place-order"));
    expect((await screen.findByTestId("order-number")).textContent).toBe("O-ABCD2345");
    expect(sent[0]).toMatchObject({
      lines: [{ sku: lamp.sku, quantity: 2 }],
      delivery: "home_delivery",
      destination: { postal_code: "75011", country: "FR", pickup_store: null },
      payment: "in_store",
      customer: { name: "Camille Martin", email: "camille@example.com", phone: null },
    });
    expect(sent[0]?.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("sells now (carry-out) through the outbox, showing the local reference", async () => {
    const sent: unknown[] = [];
    mockCommands({
      carry_out_sale: (args) => {
        sent.push(args.lines);
        return { mutation_id: 4, reference: "sale-4" };
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 2 }]} />);
    fireEvent.click(screen.getByTestId("sell-now"));
    expect((await screen.findByTestId("queued-reference")).textContent).toBe("sale-4");
    expect(screen.getByTestId("queued-confirmation").dataset.kind).toBe("sale");
    expect(sent).toEqual([[{ sku: lamp.sku, quantity: 2 }]]);
  });

  it("shows a queued order when the core is unreachable", async () => {
    mockCommands({ place_order: () => ({ mutation_id: 5, reference: "pending-5" }) });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("place-order"));
    expect((await screen.findByTestId("queued-reference")).textContent).toBe("pending-5");
    expect(screen.getByTestId("queued-confirmation").textContent).toContain("will be sent when online");
  });

  it("resends the same idempotency key after an offline failure", async () => {
    const keys: string[] = [];
    let calls = 0;
    mockCommands({
      place_order: (args) => {
        keys.push((args.checkout as CheckoutInput).idempotency_key);
        calls++;
        if (calls === 1) offline();
        return order;
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("place-order"));
    const error = await screen.findByTestId("checkout-error");
    expect(error.dataset.code).toBe("backend_unavailable");
    fireEvent.click(screen.getByTestId("place-order"));
    await screen.findByTestId("confirmation");
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("starts a new attempt when the cart changes", async () => {
    const keys: string[] = [];
    mockCommands({
      place_order: (args) => {
        keys.push((args.checkout as CheckoutInput).idempotency_key);
        throw { code: "cannot_be_served", message: "no location can serve this order" };
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("place-order"));
    expect((await screen.findByTestId("checkout-error")).textContent).toContain("cannot be served");
    fireEvent.input(screen.getByTestId("customer-name"), { target: { value: "Camille M." } });
    fireEvent.click(screen.getByTestId("place-order"));
    await waitFor(() => expect(keys).toHaveLength(2));
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("shows the loading state while placing", () => {
    mockCommands({ place_order: pending });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("place-order"));
    expect(screen.getByTestId("place-order").textContent).toBe("Placing the order…");
  });

  it("collects at another store of the channel", async () => {
    const sent: CheckoutInput[] = [];
    mockCommands({
      place_order: (args) => {
        sent.push(args.checkout as CheckoutInput);
        return order;
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fireEvent.click(screen.getByTestId("delivery-click_and_collect"));
    fireEvent.change(screen.getByTestId("checkout-pickup-store"), { target: { value: "ST-FR-002" } });
    fireEvent.input(screen.getByTestId("customer-name"), { target: { value: "Camille" } });
    fireEvent.input(screen.getByTestId("customer-phone"), { target: { value: "0612345678" } });
    fireEvent.click(screen.getByTestId("payment-gateway"));
    fireEvent.click(screen.getByTestId("place-order"));
    await screen.findByTestId("confirmation");
    expect(sent[0]).toMatchObject({
      delivery: "click_and_collect",
      destination: { pickup_store: "ST-FR-002", postal_code: null },
      payment: "gateway",
    });
  });

  it("places carry-out as express click & collect paid in store", async () => {
    const sent: CheckoutInput[] = [];
    mockCommands({
      place_order: (args) => {
        sent.push(args.checkout as CheckoutInput);
        return order;
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fireEvent.click(screen.getByTestId("delivery-carry_out"));
    fireEvent.input(screen.getByTestId("customer-name"), { target: { value: "Camille" } });
    fireEvent.input(screen.getByTestId("customer-phone"), { target: { value: "+33 6 12 34 56 78" } });
    fireEvent.click(screen.getByTestId("place-order"));
    await screen.findByTestId("confirmation");
    expect(sent[0]).toMatchObject({ delivery: "carry_out", payment: "in_store" });
  });
  it("places the order for a customer picked from the register", async () => {
    const sent: CheckoutInput[] = [];
    mockCommands({
      search_customers: () => [{ id: "C-7KQ2MX9A", name: "Ana Martin", email: "ana@example.com", phone: null, language: "de" }],
      place_order: (args) => {
        sent.push(args.checkout as CheckoutInput);
        return order;
      },
    });
    render(<Harness initial={[{ product: lamp, quantity: 1 }]} />);
    fireEvent.input(screen.getByTestId("customer-search"), { target: { value: "ana" } });
    fireEvent.click(await screen.findByTestId("customer-hit"));
    expect(screen.getByTestId("customer-chosen").textContent).toContain("Ana Martin");
    fireEvent.input(screen.getByTestId("checkout-postal"), { target: { value: "75011" } });
    fireEvent.click(screen.getByTestId("place-order"));
    await screen.findByTestId("order-number");
    expect(sent[0]?.customer).toEqual({ id: "C-7KQ2MX9A", name: "Ana Martin", email: "ana@example.com", phone: null, language: "de" });
  });

  it("offers the receipt and the payment link's state on the confirmation", async () => {
    mockCommands({
      place_order: () => ({
        ...order,
        payment: "gateway",
        payments: [{ kind: "authorise", amount: order.total, status: "pending", link: null, detail: null }],
      }),
      open_receipt: () => ({ path: "/data/receipts/receipt-O-ABCD2345.pdf", opened: false }),
    });
    render(<Harness initial={[{ product: lamp, quantity: 2 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("payment-gateway"));
    fireEvent.click(screen.getByTestId("place-order"));
    await screen.findByTestId("order-number");
    expect(screen.getByTestId("payment-link-text").textContent).toContain("Waiting for the payment gateway");
    fireEvent.click(screen.getByTestId("receipt-print"));
    expect((await screen.findByTestId("receipt-printed")).textContent).toBe("The receipt is saved at /data/receipts/receipt-O-ABCD2345.pdf.");
  });

  it("says a queued order has its receipt once synced", async () => {
    mockCommands({ place_order: () => ({ mutation_id: 5, reference: "pending-5" }) });
    render(<Harness initial={[{ product: lamp, quantity: 2 }]} />);
    fill();
    fireEvent.click(screen.getByTestId("place-order"));
    expect((await screen.findByTestId("receipt-after-sync")).textContent).toContain("available once the order is synced");
    expect(screen.queryByTestId("receipt-print")).toBeNull();
  });
});
