// The sync status bar: online/offline, last sync, pending and refused
// intents, polled from the app (the sync engine's figures once it lands).
import { useEffect, useState } from "preact/hooks";
import { syncStatus } from "../ipc";
import { useI18n } from "../i18n";
import { formatTime } from "../format";
import type { SyncStatus } from "../generated/ipc";

export const STATUS_POLL_MS = 5000;

export function StatusBar() {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState<SyncStatus | undefined>();
  useEffect(() => {
    let stop = false;
    const poll = () =>
      syncStatus().then(
        (s) => !stop && setStatus(s),
        () =>
          !stop &&
          setStatus({ state: "offline", last_sync_at: null, pending: 0, refused: 0, detail: null }),
      );
    void poll();
    const timer = setInterval(poll, STATUS_POLL_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, []);
  const state = status?.state ?? "starting";
  return (
    <div class={`statusbar ${state}`} data-testid="sync-status" data-state={state} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      <span>{t(`sync.${state}`)}</span>
      <span>
        {status?.last_sync_at ? t("sync.last", { time: formatTime(status.last_sync_at, lang) }) : t("sync.never")}
      </span>
      {status && status.pending > 0 && <span>{t("sync.pending", { n: status.pending })}</span>}
      {status && status.refused > 0 && <span class="refused">{t("sync.refused", { n: status.refused })}</span>}
    </div>
  );
}
