import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { ReturnReceipt } from "../generated/ipc";
import { mockCommands, offline, order, pending } from "../test-utils";
import { OrderView } from "./OrderView";

afterEach(() => {
  cleanup();
  clearMocks();
});

const receipt: ReturnReceipt = {
  id: "R-1",
  order_id: order.id,
  location: "ST-FR-001",
  lines: [
    {
      line: 1,
      sku: "SKU-000001",
      quantity: 1,
      reason: "defective",
      condition: "damaged",
      refund: { amount_minor: 4999, currency: "EUR" },
      restock: "quarantine",
    },
  ],
  shipping_refund: { amount_minor: 0, currency: "EUR" },
  total_refund: { amount_minor: 4999, currency: "EUR" },
  received_at: "2026-11-27T10:00:00Z",
};

describe("Order screen", () => {
  it("is loading, then explains the orchestration", async () => {
    mockCommands({ order_detail: pending });
    render(<OrderView id={order.id} onBack={() => undefined} />);
    expect(screen.getByTestId("order-loading")).toBeTruthy();
    cleanup();
    const asked: unknown[] = [];
    mockCommands({
      order_detail: (args) => {
        asked.push(args);
        return order;
      },
    });
    render(<OrderView id={order.id} onBack={() => undefined} />);
    expect((await screen.findByTestId("order-explanation")).textContent).toContain("was chosen");
    expect(asked).toEqual([{ id: order.id, lang: "en" }]);
  });

  it("takes a return and shows the refund", async () => {
    const sent: unknown[] = [];
    mockCommands({
      order_detail: () => order,
      receive_return: (args) => {
        sent.push(args.request);
        return receipt;
      },
    });
    render(<OrderView id={order.id} onBack={() => undefined} />);
    fireEvent.input(await screen.findByTestId("return-quantity"), { target: { value: "1" } });
    fireEvent.change(screen.getByTestId("return-reason"), { target: { value: "defective" } });
    fireEvent.change(screen.getByTestId("return-condition"), { target: { value: "damaged" } });
    fireEvent.click(screen.getByTestId("receive-return"));
    const shown = await screen.findByTestId("return-receipt");
    expect(shown.textContent).toContain("refund €49.99");
    expect(shown.textContent).toContain("quarantined");
    await waitFor(() =>
      expect(sent).toEqual([{ order_id: order.id, lines: [{ line: 1, quantity: 1, reason: "defective", condition: "damaged" }] }]),
    );
  });

  it("says when nothing is returnable", async () => {
    mockCommands({ order_detail: () => ({ ...order, lines: order.lines.map((l) => ({ ...l, returnable: 0 })), explanation: [] }) });
    render(<OrderView id={order.id} onBack={() => undefined} />);
    expect(await screen.findByTestId("nothing-returnable")).toBeTruthy();
    expect(screen.getByTestId("order-explanation").textContent).toBe("No decision recorded.");
  });

  it("shows errors and offline", async () => {
    mockCommands({ order_detail: offline });
    render(<OrderView id={order.id} onBack={() => undefined} />);
    expect((await screen.findByTestId("order-error")).dataset.code).toBe("backend_unavailable");
  });
  it("offers the order's receipt, printed or by e-mail", async () => {
    const asked: unknown[] = [];
    mockCommands({
      order_detail: () => order,
      email_receipt: (args) => {
        asked.push(args);
        return { to: "camille@example.com", delivery: "pending" };
      },
    });
    render(<OrderView id={order.id} onBack={() => undefined} />);
    fireEvent.click(await screen.findByTestId("receipt-email"));
    expect((await screen.findByTestId("receipt-sent")).textContent).toContain("camille@example.com");
    expect(asked).toEqual([{ order: order.id, to: null, lang: "en" }]);
    expect(screen.getByTestId("receipt-print")).toBeTruthy();
  });
});
