// Product search and browse: instant results as the associate types, from
// the device's cache once it is filled (the OMS core before that), with
// filters (brand, product type, in stock here) and pages of 50.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { formatMoney } from "../format";
import { searchFilterValues, searchProducts } from "../ipc";
import { useI18n, type Key } from "../i18n";
import type { AppError, ProductSummary, SearchFilters, SearchFilterValues } from "../generated/ipc";
import { ErrorMessage } from "../components/common";

/**
 * No debounce: every keystroke searches at once, because the cache answers
 * in about a millisecond and a debounce alone would spend most of the
 * 50 ms keystroke-to-results budget waiting. What keeps a barcode scanner
 * (13 keystrokes in ~30 ms, keyboard wedge) from sending a storm is that at
 * most one search is in flight: keystrokes typed meanwhile only replace the
 * query waiting to go, which is sent when the answer arrives — so a scan
 * costs two or three searches, not thirteen, and a person typing never
 * waits. Should an answer be slow (the core answering before the cache is
 * filled), the waiting query goes anyway after this many milliseconds; the
 * late answer is then ignored (only the latest request's answer is shown).
 */
export const SEARCH_MAX_WAIT_MS = 150;

/** Until they come from the cache (filled by the first full pull), ask
 *  again for the filter values this often. */
export const FILTER_VALUES_RETRY_MS = 3000;

type Page = { items: ProductSummary[]; nextCursor: string | null };

type State =
  | { kind: "idle" }
  | { kind: "loading" }
  | { kind: "results"; query: string; page: Page; index: number; turning: boolean }
  | { kind: "error"; error: AppError };

const NO_FILTERS: SearchFilters = { brand: null, product_type: null, in_stock_here: false };
const PAGE_ROWS = 50;

const hasFilters = (f: SearchFilters) => f.brand !== null || f.product_type !== null || f.in_stock_here;

/** Runs one search at a time; the latest waiting one replaces any other. */
function useSingleFlight() {
  // The search that holds the line (its number), if any.
  const current = useRef(0);
  const busy = useRef(false);
  const waiting = useRef<(() => Promise<void>) | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const release = (id: number) => {
    if (id !== current.current || !busy.current) return;
    clearTimeout(timer.current);
    busy.current = false;
    const run = waiting.current;
    waiting.current = null;
    if (run) start(run);
  };
  const start = (run: () => Promise<void>) => {
    const id = ++current.current;
    busy.current = true;
    // The answer is slow: do not hold the latest query back for it.
    timer.current = setTimeout(() => release(id), SEARCH_MAX_WAIT_MS);
    void run().finally(() => release(id));
  };
  return (run: () => Promise<void>) => {
    if (busy.current) waiting.current = run;
    else start(run);
  };
}

export function Search({ initialQuery = "", onOpen }: { initialQuery?: string; onOpen?: (sku: string) => void }) {
  const { t, lang } = useI18n();
  const [query, setQuery] = useState(initialQuery);
  const [filters, setFilters] = useState<SearchFilters>(NO_FILTERS);
  const [values, setValues] = useState<SearchFilterValues | null>(null);
  const [state, setState] = useState<State>({ kind: "idle" });
  const [attempt, setAttempt] = useState(0);
  // Only the answer to the latest request may be shown.
  const latest = useRef(0);
  // Cursors of the pages before the shown one (for "Previous").
  const cursors = useRef<(string | null)[]>([]);
  const schedule = useSingleFlight();

  useEffect(() => setQuery(initialQuery), [initialQuery]);

  // The filter values; asked again until they come from the cache.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let alive = true;
    const load = () =>
      searchFilterValues().then(
        (found) => {
          if (!alive) return;
          setValues(found);
          if (!found.from_cache) timer = setTimeout(load, FILTER_VALUES_RETRY_MS);
        },
        () => {
          if (alive) timer = setTimeout(load, FILTER_VALUES_RETRY_MS);
        },
      );
    load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, []);

  /** Shows page `index` (its cursor `cursor`) of the current search. */
  const fetchPage = (request: number, text: string, cursor: string | null, index: number) =>
    searchProducts(text, cursor ?? undefined, filters).then(
      (page) => {
        if (request !== latest.current) return;
        cursors.current = [...cursors.current.slice(0, index), cursor];
        setState({ kind: "results", query: text, page: { items: page.items, nextCursor: page.next_cursor }, index, turning: false });
      },
      (error: AppError) => {
        if (request === latest.current) setState({ kind: "error", error });
      },
    );

  // A layout effect: the search starts right after the keystroke's render,
  // not after the next paint (where useEffect would wait up to a frame).
  useLayoutEffect(() => {
    const text = query.trim();
    const request = ++latest.current;
    if (text === "" && !hasFilters(filters)) {
      setState({ kind: "idle" });
      return;
    }
    setState((current) => (current.kind === "results" ? { ...current, turning: true } : { kind: "loading" }));
    schedule(() => fetchPage(request, text, null, 0));
  }, [query, filters, attempt]);

  const turn = (index: number, cursor: string | null) => {
    if (state.kind !== "results") return;
    const request = ++latest.current;
    setState({ ...state, turning: true });
    void fetchPage(request, query.trim(), cursor, index);
  };

  const setFilter = (change: Partial<SearchFilters>) => setFilters((current) => ({ ...current, ...change }));

  const statusText = (): string => {
    switch (state.kind) {
      case "idle":
        return t("search.idle");
      case "loading":
        return t("search.loading");
      case "error":
        return state.error.code === "backend_starting" ? t("common.starting") : t("search.failed");
      case "results": {
        const { items, nextCursor } = state.page;
        if (items.length === 0 && state.index === 0) return t("search.none");
        if (state.index === 0) return nextCursor ? t("search.first", { n: items.length }) : t("search.count", { n: items.length });
        const from = state.index * PAGE_ROWS + 1;
        return t("search.range", { from, to: from + items.length - 1 });
      }
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
      {/* data-source: where searches are answered (the app bench waits for "cache"). */}
      <fieldset class="search-filters" data-testid="search-filters" data-source={values?.from_cache ? "cache" : "core"}>
        <legend class="visually-hidden">{t("search.filters")}</legend>
        <label>
          {t("search.brand")}
          <select
            data-testid="filter-brand"
            value={filters.brand ?? ""}
            disabled={!values || values.brands.length === 0}
            onChange={(event) => setFilter({ brand: event.currentTarget.value || null })}
          >
            <option value="">{t("search.allBrands")}</option>
            {values?.brands.map((brand) => (
              <option key={brand} value={brand}>
                {brand}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("search.type")}
          <select
            data-testid="filter-type"
            value={filters.product_type ?? ""}
            disabled={!values}
            onChange={(event) => setFilter({ product_type: event.currentTarget.value || null })}
          >
            <option value="">{t("search.allTypes")}</option>
            {values?.product_types.map((type) => (
              <option key={type} value={type}>
                {typeLabel(t, type)}
              </option>
            ))}
          </select>
        </label>
        <label class={`choice ${filters.in_stock_here ? "active" : ""}`}>
          <input
            type="checkbox"
            data-testid="filter-in-stock"
            checked={filters.in_stock_here}
            disabled={!values}
            onChange={(event) => setFilter({ in_stock_here: event.currentTarget.checked })}
          />
          {t("search.inStock")}
        </label>
        {hasFilters(filters) && (
          <button type="button" class="secondary" data-testid="filter-clear" onClick={() => setFilters(NO_FILTERS)}>
            {t("search.clearFilters")}
          </button>
        )}
      </fieldset>
      {/* data-query: the text the shown results answer (the app bench waits for it). */}
      <div
        class="search-status"
        role="status"
        aria-live="polite"
        data-testid="search-status"
        data-query={state.kind === "results" && !state.turning ? state.query : undefined}
      >
        {statusText()}
      </div>
      {state.kind === "error" && (
        <ErrorMessage error={state.error} testId="search-error" onRetry={() => setAttempt((n) => n + 1)} />
      )}
      {state.kind === "results" && state.page.items.length > 0 && (
        <ul class="results" data-testid="search-results" aria-busy={state.turning}>
          {state.page.items.map((product) => (
            <li key={product.sku}>
              <button type="button" class="result" data-testid="search-result" data-sku={product.sku} onClick={() => onOpen?.(product.sku)}>
                <span class="result-main">
                  <span class="result-name">{product.name}</span>
                  <span class="result-meta">
                    {product.brand} · {product.sku} · {typeLabel(t, product.product_type)}
                  </span>
                </span>
                <span class="result-price">{formatMoney(product.price, lang)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {state.kind === "results" && (state.index > 0 || state.page.nextCursor) && (
        <nav class="pager" aria-label="pages" data-testid="search-pager">
          <button
            type="button"
            class="secondary"
            data-testid="search-previous"
            disabled={state.index === 0 || state.turning}
            onClick={() => turn(state.index - 1, cursors.current[state.index - 1] ?? null)}
          >
            {t("common.previous")}
          </button>
          <button
            type="button"
            class="secondary"
            data-testid="search-next"
            disabled={!state.page.nextCursor || state.turning}
            onClick={() => turn(state.index + 1, state.page.nextCursor)}
          >
            {t("common.next")}
          </button>
        </nav>
      )}
    </section>
  );
}

function typeLabel(t: (key: Key) => string, type: string): string {
  switch (type) {
    case "standard":
    case "bulky":
    case "fragile":
      return t(`search.type.${type}`);
    default:
      return type;
  }
}
