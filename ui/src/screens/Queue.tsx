// The store's queue: open fulfilments by due time, a page at a time from the
// OMS core ("Show more" loads the next page after the last row shown).
import { useEffect, useState } from "preact/hooks";
import { storeQueue } from "../ipc";
import { useI18n } from "../i18n";
import { formatTime } from "../format";
import type { AppError, QueueItem } from "../generated/ipc";
import { ErrorMessage, LoadMore, Loading } from "../components/common";

type State =
  | { kind: "loading" }
  | { kind: "ready"; items: QueueItem[]; next: string | null; more: "idle" | "loading" | AppError }
  | { kind: "error"; error: AppError };

export function Queue({ onOpen }: { onOpen: (id: string) => void }) {
  const { t, lang, method, fulfilmentStatus } = useI18n();
  const [state, setState] = useState<State>({ kind: "loading" });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let stale = false;
    setState({ kind: "loading" });
    storeQueue().then(
      (page) => !stale && setState({ kind: "ready", items: page.items, next: page.next_cursor, more: "idle" }),
      (error: AppError) => !stale && setState({ kind: "error", error }),
    );
    return () => {
      stale = true;
    };
  }, [attempt]);
  const more = () => {
    if (state.kind !== "ready" || !state.next || state.more === "loading") return;
    const shown = state;
    setState({ ...shown, more: "loading" });
    storeQueue(shown.next ?? undefined).then(
      (page) => setState({ kind: "ready", items: [...shown.items, ...page.items], next: page.next_cursor, more: "idle" }),
      (error: AppError) => setState({ ...shown, more: error }),
    );
  };
  return (
    <section aria-labelledby="queue-title" data-testid="queue">
      <div class="row spread">
        <h1 id="queue-title">{t("queue.title")}</h1>
        <button type="button" class="secondary" data-testid="queue-refresh" onClick={() => setAttempt((n) => n + 1)}>
          {t("queue.refresh")}
        </button>
      </div>
      {state.kind === "loading" && <Loading testId="queue-loading" />}
      {state.kind === "error" && <ErrorMessage error={state.error} testId="queue-error" onRetry={() => setAttempt((n) => n + 1)} />}
      {state.kind === "ready" && state.items.length === 0 && (
        <p class="muted" data-testid="queue-empty">
          {t("queue.empty")}
        </p>
      )}
      {state.kind === "ready" && state.items.length > 0 && (
        <ul class="results">
          {state.items.map((item) => (
            <li key={item.id}>
              <button type="button" class="result" data-testid="queue-item" data-order={item.order_id} data-id={item.id} onClick={() => onOpen(item.id)}>
                <span class="result-main">
                  <span class="result-name">
                    {item.order_id} · {item.handover ? t("queue.handover") : t("queue.ship")}
                  </span>
                  <span class="result-meta">
                    {method(item.delivery)} · {t("common.units", { n: item.units })} · {fulfilmentStatus(item.status)}
                  </span>
                </span>
                <span class="result-price">{t("queue.due", { time: formatTime(item.due_at, lang) })}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {state.kind === "ready" && typeof state.more === "object" && (
        <ErrorMessage error={state.more} testId="queue-more-error" onRetry={more} />
      )}
      {state.kind === "ready" && state.next && typeof state.more !== "object" && (
        <LoadMore loading={state.more === "loading"} onMore={more} testId="queue-more" />
      )}
    </section>
  );
}
