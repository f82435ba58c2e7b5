import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { ProductPage } from "../generated/ipc";
import { lamp, mockCommands, offline } from "../test-utils";
import { Search } from "./Search";

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
    expect(asked).toEqual([{ query: "oak lamp", cursor: null }]);
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

  it("loads the next page with the cursor", async () => {
    const second = { ...lamp, sku: "SKU-000002", name: "Nordvik Oak Table Lamp Ivory" };
    mockCommands({
      search_products: (args) =>
        args.cursor === "c1next" ? { items: [second], next_cursor: null } : { items: [lamp], next_cursor: "c1next" },
    });
    render(<Search />);
    typeQuery("lamp");
    fireEvent.click(await screen.findByText("Show more"));
    await screen.findByText("Nordvik Oak Table Lamp Ivory");
    expect(screen.getAllByTestId("search-result")).toHaveLength(2);
    expect(screen.queryByText("Show more")).toBeNull();
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
