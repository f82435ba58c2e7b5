// Product search: instant results from the OMS core as the associate types.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatMoney } from "../format";
import { searchProducts } from "../ipc";
import { useI18n } from "../i18n";
import type { AppError, ProductSummary } from "../generated/ipc";
import { ErrorMessage } from "../components/common";

/** Pause after the last keystroke before searching (a scanner types faster). */
export const SEARCH_DEBOUNCE_MS = 120;

type State =
  | { kind: "idle" }
  | { kind: "loading" }
  | { kind: "results"; items: ProductSummary[]; nextCursor: string | null; loadingMore: boolean }
  | { kind: "error"; error: AppError };

export function Search({ initialQuery = "", onOpen }: { initialQuery?: string; onOpen?: (sku: string) => void }) {
  const { t, lang } = useI18n();
  const [query, setQuery] = useState(initialQuery);
  const [state, setState] = useState<State>({ kind: "idle" });
  const [attempt, setAttempt] = useState(0);
  // Only the answer to the latest request may be shown.
  const latest = useRef(0);

  useEffect(() => setQuery(initialQuery), [initialQuery]);

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
  }, [query, attempt]);

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

  const statusText = (): string => {
    switch (state.kind) {
      case "idle":
        return t("search.idle");
      case "loading":
        return t("search.loading");
      case "error":
        return state.error.code === "backend_starting" ? t("common.starting") : t("search.failed");
      case "results":
        if (state.items.length === 0) return t("search.none");
        return state.nextCursor ? t("search.first", { n: state.items.length }) : t("search.count", { n: state.items.length });
    }
  };

  return (
    <section class="search" aria-labelledby="search-title">
      <h1 id="search-title" class="visually-hidden">
        {t("search.title")}
      </h1>
      <label class="search-field">
        <span class="visually-hidden">{t("search.label")}</span>
        <input
          type="search"
          data-testid="search-input"
          placeholder={t("search.placeholder")}
          value={query}
          autoFocus
          autoComplete="off"
          maxLength={200}
          onInput={(event) => setQuery(event.currentTarget.value)}
        />
      </label>
      <div class="search-status" role="status" aria-live="polite" data-testid="search-status">
        {statusText()}
      </div>
      {state.kind === "error" && (
        <ErrorMessage error={state.error} testId="search-error" onRetry={() => setAttempt((n) => n + 1)} />
      )}
      {state.kind === "results" && state.items.length > 0 && (
        <ul class="results" data-testid="search-results">
          {state.items.map((product) => (
            <li key={product.sku}>
              <button type="button" class="result" data-testid="search-result" data-sku={product.sku} onClick={() => onOpen?.(product.sku)}>
                <span class="result-main">
                  <span class="result-name">{product.name}</span>
                  <span class="result-meta">
                    {product.brand} · {product.sku} · {product.product_type}
                  </span>
                </span>
                <span class="result-price">{formatMoney(product.price, lang)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {state.kind === "results" && state.nextCursor && (
        <button type="button" class="more" onClick={loadMore} disabled={state.loadingMore}>
          {state.loadingMore ? t("common.loading") : t("search.more")}
        </button>
      )}
    </section>
  );
}
