import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useI18n } from "../i18n";
import type { AppError } from "../generated/ipc";

/** An error as the associate should read it: offline and starting have their
 *  own sentences; others show the server's message. */
export function ErrorMessage({ error, onRetry, testId }: { error: AppError; onRetry?: () => void; testId?: string }) {
  const { t } = useI18n();
  let text: string;
  switch (error.code) {
    case "backend_unavailable":
      text = t("common.offline");
      break;
    case "backend_starting":
      text = t("common.starting");
      break;
    case "not_found":
      text = t("error.not_found");
      break;
    case "forbidden":
      text = t("error.forbidden");
      break;
    case "pickup_code_mismatch":
      text = t("ful.codeWrong");
      break;
    default:
      text = t(`error.${error.code}`, { message: error.message });
  }
  return (
    <div class={`error-box ${error.code === "backend_unavailable" ? "offline" : ""}`} role="alert" data-testid={testId ?? "error"} data-code={error.code}>
      <p>{text}</p>
      {onRetry && (
        <button type="button" class="secondary" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}

export function Loading({ testId }: { testId?: string }) {
  const { t } = useI18n();
  return (
    <p class="muted" role="status" aria-live="polite" data-testid={testId ?? "loading"}>
      {t("common.loading")}
    </p>
  );
}

/** Rows per page of long lists. */
export const PAGE_SIZE = 50;

/** Shows `rows` a page at a time when there are more than a page. */
export function Paged<T>({ rows, render, listClass }: { rows: T[]; render: (row: T) => ComponentChildren; listClass?: string }) {
  const { t } = useI18n();
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const from = current * PAGE_SIZE;
  const shown = rows.slice(from, from + PAGE_SIZE);
  return (
    <>
      <ul class={listClass ?? "results"}>{shown.map(render)}</ul>
      {rows.length > PAGE_SIZE && (
        <nav class="pager" aria-label="pages" data-testid="pager">
          <button type="button" class="secondary" disabled={current === 0} onClick={() => setPage(current - 1)}>
            {t("common.previous")}
          </button>
          <span>{t("common.page", { from: from + 1, to: from + shown.length, total: rows.length })}</span>
          <button type="button" class="secondary" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            {t("common.next")}
          </button>
        </nav>
      )}
    </>
  );
}

/** "Show more" under a list paged by the OMS core: loads the next page. */
export function LoadMore({ loading, onMore, testId }: { loading: boolean; onMore: () => void; testId: string }) {
  const { t } = useI18n();
  return (
    <p class="pager">
      <button type="button" class="secondary" data-testid={testId} disabled={loading} aria-busy={loading} onClick={onMore}>
        {loading ? t("list.loadingMore") : t("list.more")}
      </button>
    </p>
  );
}
