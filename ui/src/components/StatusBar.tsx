// The sync status bar: online/offline, last sync, pending and refused
// intents, polled from the app (the sync engine's figures), and a notice such
// as "no keyring".
import { useEffect, useState } from "preact/hooks";
import { refusedActions, syncStatus } from "../ipc";
import { useI18n } from "../i18n";
import { formatTime } from "../format";
import type { RefusedAction, SyncStatus } from "../generated/ipc";
import { DeviceMenu } from "./DeviceMenu";

export const STATUS_POLL_MS = 5000;
/** While starting or offline, look again sooner. */
export const STATUS_RETRY_MS = 1000;

export function StatusBar() {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState<SyncStatus | undefined>();
  /** The refused actions with their reasons, once asked for. */
  const [refused, setRefused] = useState<RefusedAction[] | undefined>();
  const toggleRefused = () => {
    if (refused) return setRefused(undefined);
    refusedActions().then(setRefused, () => setRefused([]));
  };
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      syncStatus().then(
        (s) => {
          if (stop) return;
          setStatus(s);
          timer = setTimeout(poll, s.connectivity === "online" ? STATUS_POLL_MS : STATUS_RETRY_MS);
        },
        () => {
          if (stop) return;
          setStatus({ connectivity: "offline", last_sync_at: null, pending: 0, refused: 0, last_error: null, notice: null });
          timer = setTimeout(poll, STATUS_RETRY_MS);
        },
      );
    };
    poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);
  const state = status?.connectivity ?? "unknown";
  return (
    <div class={`statusbar ${state}`} data-testid="sync-status" data-state={state} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      <span title={status?.last_error ?? undefined}>{t(`sync.${state}`)}</span>
      <span>
        {status?.last_sync_at ? t("sync.last", { time: formatTime(status.last_sync_at, lang) }) : t("sync.never")}
      </span>
      {status && status.pending > 0 && <span>{t("sync.pending", { n: status.pending })}</span>}
      {status && status.refused > 0 && (
        <button type="button" class="refused link" data-testid="sync-refused" aria-expanded={refused !== undefined} onClick={toggleRefused}>
          {t("sync.refused", { n: status.refused })}
        </button>
      )}
      {refused && (
        <ul class="plain refused-list" data-testid="refused-list" aria-label={t("sync.refusedList")}>
          {refused.map((r) => (
            <li key={r.mutation_id}>
              #{r.mutation_id} {r.kind}: {r.reason}
            </li>
          ))}
        </ul>
      )}
      {status?.notice && (
        <span class="notice" data-testid="sync-notice">
          {status.notice}
        </span>
      )}
      <DeviceMenu pending={status?.pending ?? 0} />
    </div>
  );
}
