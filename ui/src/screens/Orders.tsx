// Order lookup by number, e-mail, phone or name, through the OMS core (any
// channel's order: returns come from the whole chain). A scanned receipt
// barcode (Code 128 of the order number) opens that order while this screen
// is shown; a return without receipt starts from here too.
import { useState } from "preact/hooks";
import { searchOrders } from "../ipc";
import { useScanHandler } from "../scan";
import { NoReceipt } from "./NoReceipt";
import { useI18n } from "../i18n";
import { formatTime } from "../format";
import type { AppError, OrderHit } from "../generated/ipc";
import { ErrorMessage, LoadMore, Loading } from "../components/common";

/** What an order number looks like (`O-` and letters or digits). */
const ORDER_NUMBER = /^O-[A-Z0-9]{4,40}$/i;

export function Orders({ onOpen }: { onOpen: (id: string) => void }) {
  const { t, lang, orderStatus } = useI18n();
  const [query, setQuery] = useState("");
  const [state, setState] = useState<
    | { kind: "idle" }
    | { kind: "loading" }
    // `next`: the core's cursor to the next page, if any; `more`: that page.
    | { kind: "ready"; q: string; hits: OrderHit[]; next: string | null; more: "idle" | "loading" | AppError }
    | { kind: "error"; error: AppError }
  >({ kind: "idle" });
  const [short, setShort] = useState(false);
  const [noReceipt, setNoReceipt] = useState(false);

  const search = (text: string = query) => {
    const q = text.trim();
    if (q.length < 2) {
      setShort(true);
      return;
    }
    setShort(false);
    setState({ kind: "loading" });
    searchOrders(q).then(
      (page) => {
        const hits = page.items;
        if (hits.length === 1 && hits[0] && hits[0].id.toUpperCase() === q.toUpperCase()) onOpen(hits[0].id);
        else setState({ kind: "ready", q, hits, next: page.next_cursor, more: "idle" });
      },
      (error: AppError) => setState({ kind: "error", error }),
    );
  };
  const more = () => {
    if (state.kind !== "ready" || !state.next || state.more === "loading") return;
    const shown = state;
    setState({ ...shown, more: "loading" });
    searchOrders(shown.q, shown.next ?? undefined).then(
      (page) => setState({ ...shown, hits: [...shown.hits, ...page.items], next: page.next_cursor, more: "idle" }),
      (error: AppError) => setState({ ...shown, more: error }),
    );
  };

  // A receipt's barcode is the order number: find it and open it.
  useScanHandler((code) => {
    if (noReceipt || !ORDER_NUMBER.test(code.trim())) return false;
    setQuery(code.trim());
    search(code);
    return true;
  });

  if (noReceipt) return <NoReceipt onBack={() => setNoReceipt(false)} />;

  return (
    <section aria-labelledby="orders-title" data-testid="orders">
      <h1 id="orders-title">{t("orders.title")}</h1>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          search();
        }}
      >
        <label class="grow">
          {t("orders.label")}
          <input data-testid="order-query" value={query} maxLength={200} autoFocus onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <button type="submit" data-testid="order-search">
          {t("orders.search")}
        </button>
      </form>
      {short && <p class="muted">{t("orders.short")}</p>}
      <p>
        <button type="button" class="secondary" data-testid="no-receipt-open" onClick={() => setNoReceipt(true)}>
          {t("noreceipt.open")}
        </button>
      </p>
      {state.kind === "loading" && <Loading testId="orders-loading" />}
      {state.kind === "error" && <ErrorMessage error={state.error} testId="orders-error" onRetry={() => search()} />}
      {state.kind === "ready" && state.hits.length === 0 && (
        <p class="muted" data-testid="orders-empty">
          {t("orders.none")}
        </p>
      )}
      {state.kind === "ready" && state.hits.length > 0 && (
        <ul class="results">
          {state.hits.map((hit) => (
              <li key={hit.id}>
                <button type="button" class="result" data-testid="order-hit" data-id={hit.id} onClick={() => onOpen(hit.id)}>
                  <span class="result-main">
                    <span class="result-name">
                      {hit.id} · {hit.customer_name}
                    </span>
                    <span class="result-meta">
                      {hit.channel} · {orderStatus(hit.status)}
                    </span>
                  </span>
                  <span class="result-price">{formatTime(hit.placed_at, lang)}</span>
                </button>
              </li>
          ))}
        </ul>
      )}
      {state.kind === "ready" && typeof state.more === "object" && (
        <ErrorMessage error={state.more} testId="orders-more-error" onRetry={more} />
      )}
      {state.kind === "ready" && state.next && typeof state.more !== "object" && (
        <LoadMore loading={state.more === "loading"} onMore={more} testId="orders-more" />
      )}
    </section>
  );
}
