// One order: lines, fulfilments, the orchestration explained in the UI's
// language, payments, and returns (choose lines, reason, condition; the
// refund is shown as the server computed it).
import { useEffect, useState } from "preact/hooks";
import { orderDetail, receiveReturn } from "../ipc";
import { useI18n } from "../i18n";
import { formatDate, formatMoney, formatTime } from "../format";
import type { AppError, ItemCondition, OrderDetail, ReturnReason, ReturnReceipt } from "../generated/ipc";
import { ErrorMessage, Loading } from "../components/common";
import { ReceiptActions } from "../components/Receipt";

const REASONS: ReturnReason[] = [
  "changed_mind",
  "does_not_fit",
  "defective",
  "damaged_in_transit",
  "not_as_described",
  "wrong_item",
  "arrived_late",
  "other",
];
const CONDITIONS: ItemCondition[] = ["resaleable", "damaged"];

interface Choice {
  quantity: number;
  reason: ReturnReason;
  condition: ItemCondition;
}

export function OrderView({ id, onBack }: { id: string; onBack: () => void }) {
  const i18n = useI18n();
  const { t, lang, method, orderStatus, fulfilmentStatus, reason } = i18n;
  const [state, setState] = useState<{ kind: "loading" } | { kind: "ready"; order: OrderDetail } | { kind: "error"; error: AppError }>({
    kind: "loading",
  });
  const [attempt, setAttempt] = useState(0);
  const [choices, setChoices] = useState<Record<number, Choice>>({});
  const [receipt, setReceipt] = useState<ReturnReceipt | undefined>();
  const [returnError, setReturnError] = useState<AppError | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let stale = false;
    setState((s) => (s.kind === "ready" ? s : { kind: "loading" }));
    orderDetail(id, lang).then(
      (order) => !stale && setState({ kind: "ready", order }),
      (error: AppError) => !stale && setState({ kind: "error", error }),
    );
    return () => {
      stale = true;
    };
  }, [id, lang, attempt]);

  if (state.kind === "loading") return <Loading testId="order-loading" />;
  if (state.kind === "error") {
    return (
      <section>
        <button type="button" class="secondary" onClick={onBack}>
          {t("common.back")}
        </button>
        <ErrorMessage error={state.error} testId="order-error" onRetry={() => setAttempt((n) => n + 1)} />
      </section>
    );
  }
  const order = state.order;
  const returnable = order.lines.filter((l) => l.returnable > 0);
  const chosen = Object.entries(choices).filter(([, c]) => c.quantity > 0);

  const submitReturn = () => {
    setBusy(true);
    setReturnError(undefined);
    receiveReturn({
      order_id: order.id,
      lines: chosen.map(([line, c]) => ({ line: Number(line), quantity: c.quantity, reason: c.reason, condition: c.condition })),
    }).then(
      (r) => {
        setBusy(false);
        setReceipt(r);
        setChoices({});
        setAttempt((n) => n + 1);
      },
      (error: AppError) => {
        setBusy(false);
        setReturnError(error);
      },
    );
  };

  return (
    <section class="order" aria-labelledby="order-title" data-testid="order-detail">
      <button type="button" class="secondary" onClick={onBack}>
        {t("common.back")}
      </button>
      <h1 id="order-title">{t("order.title", { id: order.id })}</h1>
      <p class="muted">
        {orderStatus(order.status)} · {order.channel} · {method(order.delivery)} · {formatTime(order.placed_at, lang)} · {order.customer.name}
        {order.customer.email ? ` · ${order.customer.email}` : ""}
        {order.customer.phone ? ` · ${order.customer.phone}` : ""}
      </p>
      <ReceiptActions orderId={order.id} email={order.customer.email} />

      <h2>{t("order.lines")}</h2>
      <table class="table">
        <tbody>
          {order.lines.map((l) => (
            <tr key={l.line}>
              <td>{l.line}</td>
              <td>{l.name}</td>
              <td class="num">× {l.quantity}</td>
              <td class="num">{formatMoney(l.unit_price, lang)}</td>
            </tr>
          ))}
          <tr>
            <td />
            <td>{t("order.shipping")}</td>
            <td />
            <td class="num">{formatMoney(order.shipping_fee, lang)}</td>
          </tr>
          <tr>
            <td />
            <td>
              <strong>{t("order.total")}</strong>
            </td>
            <td />
            <td class="num">
              <strong>{formatMoney(order.total, lang)}</strong>
            </td>
          </tr>
        </tbody>
      </table>

      <h2>{t("order.where")}</h2>
      <ul class="plain">
        {order.fulfilments.map((f) => (
          <li key={f.id} data-testid="order-fulfilment">
            <strong>{f.location_name}</strong> · {fulfilmentStatus(f.status)} · {f.lines.map((l) => `${l.quantity} × ${l.name}`).join(", ")} ·{" "}
            {formatDate(f.expected_date, lang)}
          </li>
        ))}
        {order.unservable.map((u) => (
          <li key={`u${u.line}`}>{t("ful.unservable", { missing: u.missing, sku: u.sku, reason: reason(u.reason) })}</li>
        ))}
      </ul>

      <h2>{t("order.explained")}</h2>
      <div class="card" data-testid="order-explanation">
        {order.explanation.length === 0 && <p class="muted">{t("order.noExplanation")}</p>}
        {order.explanation.map((sentence, i) => (
          <p key={i} class="explanation">
            {sentence}
          </p>
        ))}
      </div>

      {order.payments.length > 0 && (
        <>
          <h2>{t("order.payments")}</h2>
          <ul class="plain">
            {order.payments.map((p, i) => (
              <li key={i}>
                {p.kind} · {formatMoney(p.amount, lang)} · {p.status}
              </li>
            ))}
          </ul>
        </>
      )}

      <h2>{t("order.return")}</h2>
      {returnable.length === 0 ? (
        <p class="muted" data-testid="nothing-returnable">
          {t("order.noReturnable")}
        </p>
      ) : (
        <div class="return-form" data-testid="return-form">
          {returnable.map((l) => {
            const c = choices[l.line] ?? { quantity: 0, reason: "changed_mind" as ReturnReason, condition: "resaleable" as ItemCondition };
            const update = (patch: Partial<Choice>) => setChoices((all) => ({ ...all, [l.line]: { ...c, ...patch } }));
            return (
              <div class="row" key={l.line} data-testid="return-line" data-line={l.line}>
                <span class="grow">
                  <strong>{l.name}</strong> <span class="muted">· {t("order.returnable", { n: l.returnable })}</span>
                </span>
                <label>
                  <span class="visually-hidden">{t("order.returnQty", { name: l.name })}</span>
                  <input
                    type="number"
                    class="qty"
                    min={0}
                    max={l.returnable}
                    data-testid="return-quantity"
                    value={c.quantity}
                    onInput={(e) => update({ quantity: Math.max(0, Math.min(l.returnable, Number(e.currentTarget.value) || 0)) })}
                  />
                </label>
                <label>
                  <span class="visually-hidden">{t("order.reason")}</span>
                  <select data-testid="return-reason" value={c.reason} onChange={(e) => update({ reason: e.currentTarget.value as ReturnReason })}>
                    {REASONS.map((r) => (
                      <option key={r} value={r}>
                        {i18n.returnReason(r)}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  <span class="visually-hidden">{t("order.condition")}</span>
                  <select data-testid="return-condition" value={c.condition} onChange={(e) => update({ condition: e.currentTarget.value as ItemCondition })}>
                    {CONDITIONS.map((k) => (
                      <option key={k} value={k}>
                        {i18n.condition(k)}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
            );
          })}
          <button type="button" data-testid="receive-return" disabled={busy || chosen.length === 0} onClick={submitReturn}>
            {t("order.receive")}
          </button>
        </div>
      )}
      {returnError && <ErrorMessage error={returnError} testId="return-error" />}
      {receipt && (
        <div class="card ok" data-testid="return-receipt" role="status">
          <p class="big">{t("order.returned", { id: receipt.id, amount: formatMoney(receipt.total_refund, lang) })}</p>
          <ul class="plain">
            {receipt.lines.map((l) => (
              <li key={l.line}>
                {l.quantity} × {l.sku} · {i18n.returnReason(l.reason)} · {i18n.condition(l.condition)} · {formatMoney(l.refund, lang)} ·{" "}
                {t(`order.restock.${l.restock}`)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {order.returns.length > 0 && (
        <>
          <h2>{t("order.returns")}</h2>
          <ul class="plain" data-testid="order-returns">
            {order.returns.map((r) => (
              <li key={r.id}>
                {r.id} · {t("order.refund", { amount: formatMoney(r.total_refund, lang) })} · {formatTime(r.received_at, lang)}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
