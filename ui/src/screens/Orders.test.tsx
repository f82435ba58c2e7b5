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
      search_orders: () => ({
        items: [
          { id: "O-A", status: "placed", channel: "web-fr", customer_name: "Camille Martin", placed_at: "2026-11-26T10:00:00Z" },
          { id: "O-B", status: "completed", channel: "stores", customer_name: "Camille Petit", placed_at: "2026-11-25T10:00:00Z" },
        ],
        next_cursor: null,
      }),
    });
    render(<Orders onOpen={() => undefined} />);
    search("camille");
    expect(await screen.findAllByTestId("order-hit")).toHaveLength(2);
  });

  it("opens an exact order number directly", async () => {
    const opened: string[] = [];
    mockCommands({
      search_orders: () => ({
        items: [{ id: "O-ABCD2345", status: "placed", channel: "web-fr", customer_name: "C", placed_at: "2026-11-26T10:00:00Z" }],
        next_cursor: null,
      }),
    });
    render(<Orders onOpen={(id) => opened.push(id)} />);
    search("o-abcd2345");
    await new Promise((r) => setTimeout(r, 10));
    expect(opened).toEqual(["O-ABCD2345"]);
  });

  it("loads more pages from the core with its cursor", async () => {
    const hit = (n: number) => ({ id: `O-P${n}`, status: "placed", channel: "web-fr", customer_name: `Camille ${n}`, placed_at: "2026-11-26T10:00:00Z" });
    const asked: unknown[] = [];
    let failNext = true;
    mockCommands({
      search_orders: (args) => {
        asked.push(args.cursor);
        if (args.cursor === null) return { items: Array.from({ length: 50 }, (_, i) => hit(i)), next_cursor: "c1next" };
        if (failNext) {
          failNext = false;
          throw { code: "backend_unavailable", message: "unreachable" };
        }
        return { items: [hit(50), hit(51)], next_cursor: null };
      },
    });
    render(<Orders onOpen={() => undefined} />);
    search("camille");
    expect(await screen.findAllByTestId("order-hit")).toHaveLength(50);
    fireEvent.click(screen.getByTestId("orders-more"));
    // The next page failed: the rows stay, with the error and a retry.
    expect((await screen.findByTestId("orders-more-error")).dataset.code).toBe("backend_unavailable");
    expect(screen.getAllByTestId("order-hit")).toHaveLength(50);
    fireEvent.click(screen.getByText("Try again"));
    await screen.findByText("O-P51 · Camille 51");
    expect(screen.getAllByTestId("order-hit")).toHaveLength(52);
    expect(screen.queryByTestId("orders-more")).toBeNull();
    expect(asked).toEqual([null, "c1next", "c1next"]);
  });

  it("says when nothing matches, and when offline", async () => {
    mockCommands({ search_orders: () => ({ items: [], next_cursor: null }) });
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
