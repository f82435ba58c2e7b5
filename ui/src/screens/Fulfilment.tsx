// One fulfilment at the store: pick list with scan-to-confirm, items missing
// (and where they went), pack and label, ready, handover with the code.
import { useEffect, useState } from "preact/hooks";
import { fulfilmentDetail, fulfilmentStep, openLabel } from "../ipc";
import { useI18n } from "../i18n";
import { formatDate, formatTime } from "../format";
import { useScanHandler } from "../scan";
import type { AppError, FulfilmentDetail, LabelFile, StepInput, StepOutcome } from "../generated/ipc";
import { ErrorMessage, Loading } from "../components/common";

export function Fulfilment({ id, onBack }: { id: string; onBack: () => void }) {
  const { t, lang, method, fulfilmentStatus, reason } = useI18n();
  const [detail, setDetail] = useState<FulfilmentDetail | undefined>();
  const [loadError, setLoadError] = useState<AppError | undefined>();
  const [attempt, setAttempt] = useState(0);
  const [picked, setPicked] = useState<Record<number, number>>({});
  const [missing, setMissing] = useState<Record<number, number>>({});
  const [busy, setBusy] = useState(false);
  const [stepError, setStepError] = useState<AppError | undefined>();
  const [outcome, setOutcome] = useState<StepOutcome | undefined>();
  const [code, setCode] = useState("");
  const [label, setLabel] = useState<LabelFile | undefined>();
  const [scanNote, setScanNote] = useState<string | undefined>();

  useEffect(() => {
    let stale = false;
    setLoadError(undefined);
    fulfilmentDetail(id).then(
      (d) => !stale && setDetail(d),
      (error: AppError) => !stale && setLoadError(error),
    );
    return () => {
      stale = true;
    };
  }, [id, attempt]);

  const picking = detail?.status === "in_preparation";

  const pickOne = (line: number) => {
    const target = detail?.lines.find((l) => l.line === line);
    if (!target) return;
    setPicked((p) => ({ ...p, [line]: Math.min(target.quantity, (p[line] ?? 0) + 1) }));
  };

  useScanHandler((scanned) => {
    if (!detail || !picking) return false;
    const line = detail.lines.find(
      (l) => (l.barcodes.includes(scanned) || l.sku === scanned) && (picked[l.line] ?? 0) < l.quantity,
    );
    const known = detail.lines.some((l) => l.barcodes.includes(scanned) || l.sku === scanned);
    if (line) {
      pickOne(line.line);
      setScanNote(t("ful.scanned", { code: scanned }));
    } else {
      setScanNote(known ? t("ful.scanned", { code: scanned }) : t("ful.scanUnknown", { code: scanned }));
    }
    return true;
  });

  const step = (input: StepInput) => {
    setBusy(true);
    setStepError(undefined);
    fulfilmentStep(id, input, lang).then(
      (result) => {
        setBusy(false);
        setOutcome((previous) =>
          input.type === "report_missing" || !previous ? result : { ...result, rerouted: previous.rerouted, unservable: previous.unservable, explanation: previous.explanation },
        );
        setDetail(result.fulfilment);
        setPicked((p) => {
          const next: Record<number, number> = {};
          for (const l of result.fulfilment.lines) next[l.line] = Math.min(p[l.line] ?? 0, l.quantity);
          return next;
        });
        setMissing({});
      },
      (error: AppError) => {
        setBusy(false);
        setStepError(error);
      },
    );
  };

  if (loadError) {
    return (
      <section>
        <button type="button" class="secondary" onClick={onBack}>
          {t("common.back")}
        </button>
        <ErrorMessage error={loadError} testId="fulfilment-error" onRetry={() => setAttempt((n) => n + 1)} />
      </section>
    );
  }
  if (!detail) return <Loading testId="fulfilment-loading" />;

  const allPicked = detail.lines.every((l) => (picked[l.line] ?? 0) >= l.quantity);
  const anyMissing = Object.keys(missing).length > 0;

  return (
    <section class="fulfilment" aria-labelledby="ful-title" data-testid="fulfilment" data-status={detail.status}>
      <button type="button" class="secondary" onClick={onBack}>
        {t("common.back")}
      </button>
      <h1 id="ful-title">{t("ful.title", { id: detail.id })}</h1>
      <p class="muted">
        {t("ful.order", { id: detail.order_id })} · {method(detail.delivery)} · {t("queue.due", { time: formatTime(detail.due_at, lang) })}
      </p>
      <p class="status-pill" data-testid="fulfilment-status">
        {fulfilmentStatus(detail.status)}
      </p>
      {detail.ship_to_name && (
        <p class="muted" data-testid="ship-to">
          {t("ful.shipTo", { from: detail.location_name, to: detail.ship_to_name })}
        </p>
      )}

      {detail.status === "in_transit_to_store" && (
        <div class="row">
          <p class="muted">{t("ful.receiveHint")}</p>
          <button type="button" data-testid="receive-at-store" disabled={busy} onClick={() => step({ type: "receive_at_store" })}>
            {t("ful.receive")}
          </button>
        </div>
      )}

      {detail.status === "awaiting_preparation" && (
        <button type="button" data-testid="start-picking" disabled={busy} onClick={() => step({ type: "start_preparation" })}>
          {t("ful.start")}
        </button>
      )}

      <ul class="plain pick-list" data-testid="pick-list">
        {detail.lines.map((l) => {
          const count = picked[l.line] ?? 0;
          const done = count >= l.quantity;
          return (
            <li key={l.line} class={done ? "pick done" : "pick"} data-testid="pick-line" data-line={l.line} data-done={String(done)}>
              <span class="grow">
                <strong>{l.name}</strong>
                <span class="muted">
                  {" "}
                  · {l.sku} · {l.barcodes[0] ?? ""}
                </span>
                {picking && <span class="muted"> · {t("ful.picked", { picked: count, quantity: l.quantity })}</span>}
                {!picking && <span class="muted"> · {t("common.units", { n: l.quantity })}</span>}
              </span>
              {picking && (
                <>
                  <button type="button" class="secondary" data-testid="pick-confirm" disabled={done} onClick={() => pickOne(l.line)}>
                    {t("ful.confirm")}
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    data-testid="pick-missing"
                    aria-pressed={l.line in missing}
                    onClick={() =>
                      setMissing((m) => {
                        if (l.line in m) {
                          const { [l.line]: _, ...rest } = m;
                          return rest;
                        }
                        return { ...m, [l.line]: Math.min(count, l.quantity - 1) };
                      })
                    }
                  >
                    {t("ful.missing")}
                  </button>
                </>
              )}
              {picking && l.line in missing && (
                <label class="found">
                  {t("ful.found", { name: l.name })}
                  <input
                    type="number"
                    min={0}
                    max={l.quantity - 1}
                    data-testid="found-quantity"
                    value={missing[l.line]}
                    onInput={(e) => {
                      const found = Math.max(0, Math.min(l.quantity - 1, Number(e.currentTarget.value) || 0));
                      setMissing((m) => ({ ...m, [l.line]: found }));
                    }}
                  />
                </label>
              )}
            </li>
          );
        })}
      </ul>
      {picking && <p class="muted">{scanNote ?? t("ful.scanHint")}</p>}

      {picking && (
        <div class="row">
          {anyMissing && (
            <button
              type="button"
              data-testid="report-missing"
              disabled={busy}
              onClick={() =>
                step({
                  type: "report_missing",
                  lines: Object.entries(missing).map(([line, found]) => ({ line: Number(line), found })),
                })
              }
            >
              {t("ful.reportMissing")}
            </button>
          )}
          <button type="button" data-testid="mark-ready" disabled={busy || !allPicked || anyMissing} onClick={() => step({ type: "mark_ready" })}>
            {detail.handover ? t("ful.markReady") : t("ful.pack")}
          </button>
        </div>
      )}

      {outcome && (outcome.rerouted.length > 0 || outcome.unservable.length > 0 || outcome.explanation.length > 0) && (
        <div class="card" data-testid="reroute">
          <h2>{t("ful.rerouted")}</h2>
          <ul class="plain">
            {outcome.rerouted.map((f) => (
              <li key={f.id} data-testid="rerouted-fulfilment">
                {t("ful.reroutedTo", {
                  units: f.lines.map((l) => `${l.quantity} × ${l.name}`).join(", "),
                  place: f.location_name,
                  date: formatDate(f.expected_date, lang),
                })}
              </li>
            ))}
            {outcome.unservable.map((u) => (
              <li key={`${u.line}-${u.sku}`}>{t("ful.unservable", { missing: u.missing, sku: u.sku, reason: reason(u.reason) })}</li>
            ))}
          </ul>
          {outcome.explanation.map((sentence, i) => (
            <p key={i} class="explanation" data-testid="reroute-explanation">
              {sentence}
            </p>
          ))}
        </div>
      )}

      {detail.status === "ready_to_ship" && (
        <div class="row">
          <button
            type="button"
            data-testid="open-label"
            onClick={() =>
              openLabel(detail.id).then(
                (file) => setLabel(file),
                (error: AppError) => setStepError(error),
              )
            }
          >
            {t("ful.label")}
          </button>
          <button type="button" data-testid="ship" disabled={busy} onClick={() => step({ type: "ship" })}>
            {t("ful.ship")}
          </button>
        </div>
      )}
      {label && (
        <p class="muted" data-testid="label-path">
          {t("ful.labelSaved", { path: label.path })}
        </p>
      )}

      {detail.status === "ready_for_pickup" && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            step({ type: "hand_over", pickup_code: code.trim() });
          }}
        >
          <label>
            {t("ful.pickupCode")}
            <input
              data-testid="pickup-code"
              inputMode="numeric"
              autoComplete="off"
              value={code}
              maxLength={12}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
          </label>
          <button type="submit" data-testid="hand-over" disabled={busy || code.trim().length === 0}>
            {t("ful.handOver")}
          </button>
        </form>
      )}

      {(detail.status === "picked_up" || detail.status === "shipped" || detail.status === "rejected" || detail.status === "cancelled") && (
        <p class="ok big" data-testid="fulfilment-done">
          {t("ful.done", { status: fulfilmentStatus(detail.status) })}
        </p>
      )}

      {stepError && (
        <ErrorMessage
          error={stepError.code === "pickup_code_mismatch" ? { ...stepError, message: t("ful.codeWrong") } : stepError}
          testId="step-error"
        />
      )}
    </section>
  );
}
