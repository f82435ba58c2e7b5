import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { OrderDetail } from "../generated/ipc";
import { mockCommands, offline, order, pending } from "../test-utils";
import { PaymentLinkStatus, ReceiptActions } from "./Receipt";

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Receipt buttons", () => {
  it("opens the receipt PDF, showing it is being prepared", async () => {
    const asked: unknown[] = [];
    let answer: () => unknown = pending;
    mockCommands({
      open_receipt: (args) => {
        asked.push(args);
        return answer();
      },
    });
    render(<ReceiptActions orderId="O-ABCD2345" email="camille@example.com" />);
    fireEvent.click(screen.getByTestId("receipt-print"));
    expect(screen.getByTestId("receipt-print").textContent).toBe("Preparing the receipt…");
    expect(asked).toEqual([{ order: "O-ABCD2345", lang: "en" }]);
    cleanup();
    answer = () => ({ path: "/data/receipts/receipt-O-ABCD2345.pdf", opened: true });
    render(<ReceiptActions orderId="O-ABCD2345" email="camille@example.com" />);
    fireEvent.click(screen.getByTestId("receipt-print"));
    const done = await screen.findByTestId("receipt-printed");
    expect(done.dataset.path).toBe("/data/receipts/receipt-O-ABCD2345.pdf");
    expect(done.textContent).toContain("open in the PDF viewer");
  });

  it("e-mails the receipt to the order's address", async () => {
    const asked: unknown[] = [];
    mockCommands({
      email_receipt: (args) => {
        asked.push(args);
        return { to: "camille@example.com", delivery: "pending" };
      },
    });
    render(<ReceiptActions orderId="O-ABCD2345" email="camille@example.com" />);
    fireEvent.click(screen.getByTestId("receipt-email"));
    expect((await screen.findByTestId("receipt-sent")).textContent).toBe("The receipt is on its way to camille@example.com.");
    expect(asked).toEqual([{ order: "O-ABCD2345", to: null, lang: "en" }]);
  });

  it("asks for an address when the order has none", async () => {
    const asked: unknown[] = [];
    mockCommands({
      email_receipt: (args) => {
        asked.push(args);
        return { to: "walkin@example.com", delivery: "pending" };
      },
    });
    render(<ReceiptActions orderId="O-ABCD2345" email={null} />);
    fireEvent.click(screen.getByTestId("receipt-email"));
    expect(asked).toEqual([]);
    fireEvent.input(screen.getByTestId("receipt-email-to"), { target: { value: " walkin@example.com " } });
    fireEvent.click(screen.getByTestId("receipt-email-send"));
    expect(await screen.findByTestId("receipt-sent")).toBeTruthy();
    expect(asked).toEqual([{ order: "O-ABCD2345", to: "walkin@example.com", lang: "en" }]);
  });

  it("offline, says the receipt needs the OMS core", async () => {
    mockCommands({ open_receipt: offline, email_receipt: offline });
    render(<ReceiptActions orderId="O-ABCD2345" email="camille@example.com" />);
    fireEvent.click(screen.getByTestId("receipt-print"));
    fireEvent.click(screen.getByTestId("receipt-email"));
    expect((await screen.findByTestId("receipt-print-error")).textContent).toContain("cannot be reached");
    expect((await screen.findByTestId("receipt-email-error")).dataset.code).toBe("backend_unavailable");
  });

  it("shows other errors with the core's words", async () => {
    mockCommands({
      email_receipt: () => {
        throw { code: "invalid_input", message: "the order has no e-mail address" };
      },
    });
    render(<ReceiptActions orderId="O-ABCD2345" email="camille@example.com" />);
    fireEvent.click(screen.getByTestId("receipt-email"));
    expect((await screen.findByTestId("receipt-email-error")).dataset.code).toBe("invalid_input");
  });
});

describe("Payment link status", () => {
  const byLink = (auth: Partial<OrderDetail["payments"][number]>): OrderDetail => ({
    ...order,
    payment: "gateway",
    payments: [{ kind: "authorise", amount: order.total, status: "pending", link: null, detail: null, ...auth }],
  });

  it("shows nothing for orders paid at the till", () => {
    mockCommands({});
    render(<PaymentLinkStatus order={order} />);
    expect(screen.queryByTestId("payment-link")).toBeNull();
  });

  it("says what the payment waits for, with the core's detail, and refreshes", () => {
    let refreshed = 0;
    mockCommands({});
    render(<PaymentLinkStatus order={byLink({ detail: "no payment gateway configured" })} onRefresh={() => refreshed++} />);
    expect(screen.getByTestId("payment-link-text").textContent).toContain("Waiting for the payment gateway");
    expect(screen.getByTestId("payment-link-detail").textContent).toBe("no payment gateway configured");
    fireEvent.click(screen.getByTestId("payment-refresh"));
    expect(refreshed).toBe(1);
  });

  it("shows the link the customer was sent", () => {
    mockCommands({});
    render(<PaymentLinkStatus order={byLink({ status: "succeeded", link: "https://pay.example.test/l/O-ABCD2345" })} />);
    expect(screen.getByTestId("payment-link-text").textContent).toContain("https://pay.example.test/l/O-ABCD2345");
    expect(screen.getByTestId("payment-link").dataset.status).toBe("succeeded");
    expect(screen.queryByTestId("payment-refresh")).toBeNull();
  });

  it("says when the payment was declined", () => {
    mockCommands({});
    render(<PaymentLinkStatus order={byLink({ status: "declined" })} />);
    expect(screen.getByTestId("payment-link-text").textContent).toBe("The payment was declined.");
  });
});
