// Product search: instant results from the OMS core as the associate types.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatMoney } from "../format";
import { searchProducts } from "../ipc";
import type { AppError, Product } from "../types";

/** Pause after the last keystroke before searching (a scanner types faster). */
export const SEARCH_DEBOUNCE_MS = 120;

type State =
  | { kind: "idle" }
  | { kind: "loading" }
  | { kind: "results"; items: Product[]; nextCursor: string | undefined; loadingMore: boolean }
  | { kind: "error"; error: AppError };

export function Search() {
  const [query, setQuery] = useState("");
  const [state, setState] = useState<State>({ kind: "idle" });
  // Only the answer to the latest request may be shown.
  const latest = useRef(0);

  useEffect(() => {
    const text = query.trim();
    if (text === "") {
      latest.current++;
      setState({ kind: "idle" });
      return;
    }
    const request = ++latest.current;
    setState({ kind: "loading" });
    const timer = setTimeout(() => {
      searchProducts(text).then(
        (page) => {
          if (request === latest.current) {
            setState({ kind: "results", items: page.items, nextCursor: page.next_cursor, loadingMore: false });
          }
        },
        (error: AppError) => {
          if (request === latest.current) setState({ kind: "error", error });
        },
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query]);

  const loadMore = () => {
    if (state.kind !== "results" || !state.nextCursor || state.loadingMore) return;
    const request = latest.current;
    setState({ ...state, loadingMore: true });
    searchProducts(query.trim(), state.nextCursor).then(
      (page) => {
        if (request !== latest.current) return;
        setState({
          kind: "results",
          items: [...state.items, ...page.items],
          nextCursor: page.next_cursor,
          loadingMore: false,
        });
      },
      (error: AppError) => {
        if (request === latest.current) setState({ kind: "error", error });
      },
    );
  };

  return (
    <section class="search" aria-labelledby="search-title">
      <h1 id="search-title" class="visually-hidden">
        Product search
      </h1>
      <label class="search-field">
        <span class="visually-hidden">Search products</span>
        <input
          type="search"
          data-testid="search-input"
          placeholder="Search by name, brand, SKU or barcode"
          value={query}
          autoFocus
          autoComplete="off"
          maxLength={200}
          onInput={(event) => setQuery(event.currentTarget.value)}
        />
      </label>
      <div class="search-status" role="status" aria-live="polite" data-testid="search-status">
        {statusText(state)}
      </div>
      {state.kind === "error" && (
        <p class="error" role="alert" data-testid="search-error">
          {state.error.message}
        </p>
      )}
      {state.kind === "results" && state.items.length > 0 && (
        <ul class="results" data-testid="search-results">
          {state.items.map((product) => (
            <li key={product.sku} class="result" data-testid="search-result">
              <div class="result-main">
                <span class="result-name">{product.name}</span>
                <span class="result-meta">
                  {product.brand} · {product.sku} · {product.product_type}
                </span>
              </div>
              <span class="result-price">{formatMoney(product.price)}</span>
            </li>
          ))}
        </ul>
      )}
      {state.kind === "results" && state.nextCursor && (
        <button type="button" class="more" onClick={loadMore} disabled={state.loadingMore}>
          {state.loadingMore ? "Loading…" : "Show more"}
        </button>
      )}
    </section>
  );
}

function statusText(state: State): string {
  switch (state.kind) {
    case "idle":
      return "Type to search the catalogue.";
    case "loading":
      return "Searching…";
    case "error":
      return state.error.code === "backend_starting" ? "The OMS server is starting…" : "Search failed.";
    case "results":
      if (state.items.length === 0) return "No products match.";
      return state.nextCursor ? `First ${state.items.length} products` : `${state.items.length} products`;
  }
}
