import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { Page, Product } from "../types";
import { Search } from "./Search";

const lamp: Product = {
  sku: "SKU-000001",
  name: "Nordvik Oak Table Lamp Sand",
  brand: "Nordvik",
  product_type: "fragile",
  barcodes: ["2000000000008"],
  price: { amount_minor: 4999, currency: "EUR" },
};

type Handler = (args: Record<string, unknown>) => unknown;

/** Routes IPC to `handlers`; any other command fails the test loudly. */
function mockCommands(handlers: Record<string, Handler>) {
  mockIPC((command, payload) => {
    const handler = handlers[command];
    if (!handler) throw new Error(`unexpected IPC command ${command}`);
    return handler((payload ?? {}) as Record<string, unknown>);
  });
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

  it("shows matching products with their price", async () => {
    const asked: unknown[] = [];
    mockCommands({
      search_products: (args) => {
        asked.push(args);
        return { items: [lamp] } satisfies Page<Product>;
      },
    });
    render(<Search />);
    typeQuery("oak lamp");
    expect(screen.getByTestId("search-status").textContent).toBe("Searching…");
    await screen.findByText("Nordvik Oak Table Lamp Sand");
    expect(screen.getByText("€49.99")).toBeTruthy();
    expect(screen.getByTestId("search-status").textContent).toBe("1 products");
    expect(asked).toEqual([{ query: "oak lamp", cursor: null }]);
  });

  it("says so when nothing matches", async () => {
    mockCommands({ search_products: () => ({ items: [] }) });
    render(<Search />);
    typeQuery("zebra");
    await waitFor(() =>
      expect(screen.getByTestId("search-status").textContent).toBe("No products match."),
    );
  });

  it("shows the server's error message", async () => {
    mockCommands({
      search_products: () => {
        throw { code: "backend_unavailable", message: "The bundled OMS server was not found" };
      },
    });
    render(<Search />);
    typeQuery("oak");
    const error = await screen.findByTestId("search-error");
    expect(error.textContent).toBe("The bundled OMS server was not found");
  });

  it("loads the next page with the cursor", async () => {
    const second = { ...lamp, sku: "SKU-000002", name: "Nordvik Oak Table Lamp Ivory" };
    mockCommands({
      search_products: (args) =>
        args.cursor === "c1next" ? { items: [second] } : { items: [lamp], next_cursor: "c1next" },
    });
    render(<Search />);
    typeQuery("lamp");
    fireEvent.click(await screen.findByText("Show more"));
    await screen.findByText("Nordvik Oak Table Lamp Ivory");
    expect(screen.getAllByTestId("search-result")).toHaveLength(2);
    expect(screen.queryByText("Show more")).toBeNull();
  });

  it("never shows an answer to an older query", async () => {
    let release: ((page: Page<Product>) => void) | undefined;
    mockCommands({
      search_products: (args) =>
        args.query === "oak"
          ? new Promise<Page<Product>>((resolve) => (release = resolve))
          : { items: [{ ...lamp, name: "Walnut Bookshelf" }] },
    });
    render(<Search />);
    typeQuery("oak");
    // Wait until the "oak" request is in flight, then type on.
    await waitFor(() => expect(release).toBeDefined());
    typeQuery("walnut");
    await screen.findByText("Walnut Bookshelf");
    release?.({ items: [lamp] });
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByText("Nordvik Oak Table Lamp Sand")).toBeNull();
  });
});
