import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ProductPage, SearchFilterValues } from "../generated/ipc";
import { type Handler, lamp, mockCommands as mockIpc, offline, pending } from "../test-utils";
import { FILTER_VALUES_RETRY_MS, Search } from "./Search";

const fromCache: SearchFilterValues = {
  brands: ["Holzwerk", "Nordvik"],
  product_types: ["bulky", "fragile", "standard"],
  from_cache: true,
};
const noFilters = { brand: null, product_type: null, in_stock_here: false };

/** The screen's commands; the filter values come from the cache unless told. */
function mockCommands(handlers: Record<string, Handler>) {
  mockIpc({ search_filter_values: () => fromCache, ...handlers });
}

function typeQuery(text: string) {
  fireEvent.input(screen.getByTestId("search-input"), { target: { value: text } });
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Search screen", () => {
  it("invites the associate to type before anything is searched", () => {
    mockCommands({});
    render(<Search />);
    expect(screen.getByTestId("search-status").textContent).toBe("Type to search the catalogue.");
  });

  it("shows matching products with their price, and opens one", async () => {
    const asked: unknown[] = [];
    const opened: string[] = [];
    mockCommands({
      search_products: (args) => {
        asked.push(args);
        return { items: [lamp], next_cursor: null } satisfies ProductPage;
      },
    });
    render(<Search onOpen={(sku) => opened.push(sku)} />);
    typeQuery("oak lamp");
    expect(screen.getByTestId("search-status").textContent).toBe("Searching…");
    await screen.findByText("Nordvik Oak Table Lamp Sand");
    expect(screen.getByText("€49.99")).toBeTruthy();
    expect(screen.getByTestId("search-status").textContent).toBe("1 products");
    expect(asked).toEqual([{ query: "oak lamp", cursor: null, filters: noFilters }]);
    fireEvent.click(screen.getByTestId("search-result"));
    expect(opened).toEqual(["SKU-000001"]);
  });

  it("says so when nothing matches", async () => {
    mockCommands({ search_products: () => ({ items: [], next_cursor: null }) });
    render(<Search />);
    typeQuery("zebra");
    await waitFor(() => expect(screen.getByTestId("search-status").textContent).toBe("No products match."));
  });

  it("shows the server's error message", async () => {
    mockCommands({
      search_products: () => {
        throw { code: "internal", message: "disk full" };
      },
    });
    render(<Search />);
    typeQuery("oak");
    const error = await screen.findByTestId("search-error");
    expect(error.textContent).toContain("Something went wrong: disk full");
  });

  it("says when the OMS server is offline, and retries", async () => {
    let calls = 0;
    mockCommands({
      search_products: () => {
        calls++;
        if (calls === 1) offline();
        return { items: [lamp], next_cursor: null };
      },
    });
    render(<Search />);
    typeQuery("oak");
    const error = await screen.findByTestId("search-error");
    expect(error.dataset.code).toBe("backend_unavailable");
    expect(error.textContent).toContain("cannot be reached");
    fireEvent.click(screen.getByText("Try again"));
    await screen.findByText("Nordvik Oak Table Lamp Sand");
  });

  it("pages through results with the cursor, and back", async () => {
    const second = { ...lamp, sku: "SKU-000002", name: "Nordvik Oak Table Lamp Ivory" };
    mockCommands({
      search_products: (args) =>
        args.cursor === "cache:50" ? { items: [second], next_cursor: null } : { items: [lamp], next_cursor: "cache:50" },
    });
    render(<Search />);
    typeQuery("lamp");
    await screen.findByText("Nordvik Oak Table Lamp Sand");
    expect(screen.getByTestId("search-status").textContent).toBe("First 1 products");
    expect((screen.getByTestId("search-previous") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("search-next"));
    await screen.findByText("Nordvik Oak Table Lamp Ivory");
    expect(screen.getAllByTestId("search-result")).toHaveLength(1);
    expect(screen.getByTestId("search-status").textContent).toBe("Products 51–51");
    expect((screen.getByTestId("search-next") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("search-previous"));
    await screen.findByText("Nordvik Oak Table Lamp Sand");
  });

  it("offers the cached brands and types, and searches with the chosen filters", async () => {
    const asked: Record<string, unknown>[] = [];
    mockCommands({
      search_products: (args) => {
        asked.push(args);
        return { items: [lamp], next_cursor: null };
      },
    });
    render(<Search />);
    await waitFor(() => expect(screen.getAllByRole("option").map((o) => o.textContent)).toContain("Nordvik"));
    expect(screen.getByRole("option", { name: "Fragile" })).toBeTruthy();
    expect(screen.getByTestId("search-filters").dataset.source).toBe("cache");
    // Filters alone browse the catalogue.
    fireEvent.change(screen.getByTestId("filter-brand"), { target: { value: "Nordvik" } });
    await screen.findByText("Nordvik Oak Table Lamp Sand");
    fireEvent.change(screen.getByTestId("filter-type"), { target: { value: "fragile" } });
    fireEvent.click(screen.getByTestId("filter-in-stock"));
    typeQuery("oak");
    await waitFor(() =>
      expect(asked.at(-1)).toEqual({
        query: "oak",
        cursor: null,
        filters: { brand: "Nordvik", product_type: "fragile", in_stock_here: true },
      }),
    );
    expect(asked[0]).toEqual({ query: "", cursor: null, filters: { ...noFilters, brand: "Nordvik" } });
    // Clearing the filters and the text goes back to idle.
    fireEvent.click(screen.getByTestId("filter-clear"));
    typeQuery("");
    await waitFor(() => expect(screen.getByTestId("search-status").textContent).toBe("Type to search the catalogue."));
  });

  it("offers the core's filter values until the cache is filled, then the cache's", async () => {
    let filled = false;
    mockCommands({
      search_filter_values: () =>
        filled ? fromCache : { brands: ["Nordvik"], product_types: ["bulky", "fragile", "standard"], from_cache: false },
      search_products: () => ({ items: [lamp], next_cursor: null }),
    });
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      render(<Search />);
      await screen.findByRole("option", { name: "Nordvik" });
      expect(screen.getByTestId("search-filters").dataset.source).toBe("core");
      expect(screen.queryByRole("option", { name: "Holzwerk" })).toBeNull();
      expect((screen.getByTestId("filter-in-stock") as HTMLInputElement).disabled).toBe(false);
      filled = true;
      await vi.advanceTimersByTimeAsync(FILTER_VALUES_RETRY_MS);
      await waitFor(() => expect(screen.getByTestId("search-filters").dataset.source).toBe("cache"));
      expect(screen.getByRole("option", { name: "Holzwerk" })).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps searching while the filter values cannot be loaded", async () => {
    mockCommands({ search_filter_values: pending, search_products: () => ({ items: [lamp], next_cursor: null }) });
    render(<Search />);
    typeQuery("oak");
    await screen.findByText("Nordvik Oak Table Lamp Sand");
    expect((screen.getByTestId("filter-in-stock") as HTMLInputElement).disabled).toBe(true);
  });

  it("sends one search at a time: keystrokes while one runs only replace the waiting query", async () => {
    const asked: string[] = [];
    let release: ((page: ProductPage) => void) | undefined;
    mockCommands({
      search_products: (args) => {
        asked.push(String(args.query));
        if (asked.length === 1) return new Promise<ProductPage>((resolve) => (release = resolve));
        return { items: [lamp], next_cursor: null };
      },
    });
    render(<Search />);
    // A scanner types a barcode in a burst.
    const barcode = "2000000000008";
    for (let i = 1; i <= barcode.length; i++) typeQuery(barcode.slice(0, i));
    await waitFor(() => expect(release).toBeDefined());
    release?.({ items: [], next_cursor: null });
    await screen.findByText("Nordvik Oak Table Lamp Sand");
    expect(asked).toEqual(["2", barcode]);
  });

  it("never shows an answer to an older query", async () => {
    let release: ((page: ProductPage) => void) | undefined;
    mockCommands({
      search_products: (args) =>
        args.query === "oak"
          ? new Promise<ProductPage>((resolve) => (release = resolve))
          : { items: [{ ...lamp, name: "Walnut Bookshelf" }], next_cursor: null },
    });
    render(<Search />);
    typeQuery("oak");
    await waitFor(() => expect(release).toBeDefined());
    typeQuery("walnut");
    await screen.findByText("Walnut Bookshelf");
    release?.({ items: [lamp], next_cursor: null });
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByText("Nordvik Oak Table Lamp Sand")).toBeNull();
  });
});
