import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { QueueItem } from "../generated/ipc";
import { mockCommands, offline, pending } from "../test-utils";
import { Queue } from "./Queue";

afterEach(() => {
  cleanup();
  clearMocks();
});

const item = (n: number): QueueItem => ({
  id: `O-Q${String(n).padStart(7, "0")}-1`,
  order_id: `O-Q${String(n).padStart(7, "0")}`,
  delivery: "express_click_and_collect",
  handover: true,
  status: "awaiting_preparation",
  due_at: `2026-11-27T${String(8 + (n % 10)).padStart(2, "0")}:00:00Z`,
  units: 2,
  lines: 1,
});

describe("Queue screen", () => {
  it("is loading, then empty", async () => {
    mockCommands({ store_queue: pending });
    render(<Queue onOpen={() => undefined} />);
    expect(screen.getByTestId("queue-loading")).toBeTruthy();
    cleanup();
    mockCommands({ store_queue: () => ({ items: [], next_cursor: null }) });
    render(<Queue onOpen={() => undefined} />);
    expect((await screen.findByTestId("queue-empty")).textContent).toBe("Nothing to prepare.");
  });

  it("lists fulfilments and opens one", async () => {
    const opened: string[] = [];
    mockCommands({ store_queue: () => ({ items: [item(1), item(2)], next_cursor: null }) });
    render(<Queue onOpen={(id) => opened.push(id)} />);
    const rows = await screen.findAllByTestId("queue-item");
    expect(rows).toHaveLength(2);
    expect(rows[0]?.textContent).toContain("Pickup here");
    fireEvent.click(rows[1] as HTMLElement);
    expect(opened).toEqual(["O-Q0000002-1"]);
  });

  it("loads the next page from the core after the last row", async () => {
    const asked: unknown[] = [];
    mockCommands({
      store_queue: (args) => {
        asked.push(args.cursor);
        return args.cursor === null
          ? { items: Array.from({ length: 50 }, (_, i) => item(i)), next_cursor: "c1after49" }
          : { items: Array.from({ length: 20 }, (_, i) => item(50 + i)), next_cursor: null };
      },
    });
    render(<Queue onOpen={() => undefined} />);
    expect(await screen.findAllByTestId("queue-item")).toHaveLength(50);
    fireEvent.click(screen.getByTestId("queue-more"));
    await screen.findByText(/O-Q0000069/);
    expect(screen.getAllByTestId("queue-item")).toHaveLength(70);
    expect(screen.queryByTestId("queue-more")).toBeNull();
    expect(asked).toEqual([null, "c1after49"]);
  });

  it("shows errors and offline", async () => {
    mockCommands({ store_queue: offline });
    render(<Queue onOpen={() => undefined} />);
    expect((await screen.findByTestId("queue-error")).dataset.code).toBe("backend_unavailable");
    cleanup();
    mockCommands({
      store_queue: () => {
        throw { code: "forbidden", message: "not your store" };
      },
    });
    render(<Queue onOpen={() => undefined} />);
    expect((await screen.findByTestId("queue-error")).textContent).toContain("This device may not do this.");
  });
});
