import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { mockCommands, offline, pending } from "../test-utils";
import { Orders } from "./Orders";

afterEach(() => {
  cleanup();
  clearMocks();
});

function search(text: string) {
  fireEvent.input(screen.getByTestId("order-query"), { target: { value: text } });
  fireEvent.click(screen.getByTestId("order-search"));
}

describe("Orders screen", () => {
  it("is loading, then lists matches", async () => {
    mockCommands({ search_orders: pending });
    render(<Orders onOpen={() => undefined} />);
    search("camille");
    expect(screen.getByTestId("orders-loading")).toBeTruthy();
    cleanup();
    mockCommands({
      search_orders: () => [
        { id: "O-A", status: "placed", channel: "web-fr", customer_name: "Camille Martin", placed_at: "2026-11-26T10:00:00Z" },
        { id: "O-B", status: "completed", channel: "stores", customer_name: "Camille Petit", placed_at: "2026-11-25T10:00:00Z" },
      ],
    });
    render(<Orders onOpen={() => undefined} />);
    search("camille");
    expect(await screen.findAllByTestId("order-hit")).toHaveLength(2);
  });

  it("opens an exact order number directly", async () => {
    const opened: string[] = [];
    mockCommands({
      search_orders: () => [{ id: "O-ABCD2345", status: "placed", channel: "web-fr", customer_name: "C", placed_at: "2026-11-26T10:00:00Z" }],
    });
    render(<Orders onOpen={(id) => opened.push(id)} />);
    search("o-abcd2345");
    await new Promise((r) => setTimeout(r, 10));
    expect(opened).toEqual(["O-ABCD2345"]);
  });

  it("says when nothing matches, and when offline", async () => {
    mockCommands({ search_orders: () => [] });
    render(<Orders onOpen={() => undefined} />);
    search("nobody");
    expect((await screen.findByTestId("orders-empty")).textContent).toBe("No order matches.");
    cleanup();
    mockCommands({ search_orders: offline });
    render(<Orders onOpen={() => undefined} />);
    search("nobody");
    expect((await screen.findByTestId("orders-error")).dataset.code).toBe("backend_unavailable");
  });
});
