// A return without receipt: the order cannot be found, so staff record the
// products brought back (scan or search, quantity, reason, condition) and
// the refund method; a manager of this store approves with their PIN, which
// the OMS core checks (never this screen). Online only.
import { useEffect, useMemo, useState } from "preact/hooks";
import { returnWithoutReceipt, searchProducts, staffList } from "../ipc";
import { useI18n } from "../i18n";
import { formatMoney } from "../format";
import { useScanHandler } from "../scan";
import type {
  AppError,
  ItemCondition,
  NoReceiptReceipt,
  ProductSummary,
  RefundMethod,
  ReturnReason,
  StaffMemberView,
} from "../generated/ipc";
import { ErrorMessage, Loading } from "../components/common";
import { outcomeText, PinEntry } from "../components/SignIn";

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

interface Line {
  product: ProductSummary;
  quantity: number;
  reason: ReturnReason;
  condition: ItemCondition;
}

type Found = { kind: "idle" } | { kind: "loading" } | { kind: "ready"; items: ProductSummary[] } | { kind: "error"; error: AppError };
type Managers = { kind: "loading" } | { kind: "ready"; managers: StaffMemberView[] } | { kind: "error"; error: AppError };

export function NoReceipt({ onBack }: { onBack: () => void }) {
  const { t, lang, returnReason, condition } = useI18n();
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Found>({ kind: "idle" });
  const [lines, setLines] = useState<Line[]>([]);
  const [method, setMethod] = useState<RefundMethod>("cash");
  const [managers, setManagers] = useState<Managers>({ kind: "loading" });
  const [managerId, setManagerId] = useState<string>("");
  const [approving, setApproving] = useState(false);
  const [receipt, setReceipt] = useState<NoReceiptReceipt | undefined>();
  // One key per return attempt, kept across retries of the same attempt.
  const [attemptKey, setAttemptKey] = useState(() => crypto.randomUUID());
  const [managersAttempt, setManagersAttempt] = useState(0);

  useEffect(() => {
    let stale = false;
    staffList().then(
      (list) => {
        if (stale) return;
        const only = list.members.filter((m) => m.role === "store_manager");
        setManagers({ kind: "ready", managers: only });
        setManagerId((id) => id || only[0]?.id || "");
      },
      (error: AppError) => !stale && setManagers({ kind: "error", error }),
    );
    return () => {
      stale = true;
    };
  }, [managersAttempt]);

  const add = (product: ProductSummary) => {
    setReceipt(undefined);
    setLines((current) => {
      const existing = current.find((l) => l.product.sku === product.sku);
      if (existing) return current.map((l) => (l === existing ? { ...l, quantity: Math.min(999, l.quantity + 1) } : l));
      return [...current, { product, quantity: 1, reason: "changed_mind", condition: "resaleable" }];
    });
    setApproving(false);
  };

  const find = (text: string, addSingle: boolean) => {
    const q = text.trim();
    if (!q) return;
    setFound({ kind: "loading" });
    searchProducts(q).then(
      (page) => {
        const only = page.items.length === 1 ? page.items[0] : undefined;
        if (addSingle && only) {
          add(only);
          setFound({ kind: "idle" });
        } else setFound({ kind: "ready", items: page.items.slice(0, 20) });
      },
      (error: AppError) => setFound({ kind: "error", error }),
    );
  };

  // A scanned barcode adds the product (the PIN pad claims scans while open).
  useScanHandler((code) => {
    find(code, true);
    return true;
  });

  const update = (sku: string, change: Partial<Line>) =>
    setLines((current) => current.map((l) => (l.product.sku === sku ? { ...l, ...change } : l)));

  const manager = useMemo(
    () => (managers.kind === "ready" ? managers.managers.find((m) => m.id === managerId) : undefined),
    [managers, managerId],
  );

  const approve = (pin: string) =>
    returnWithoutReceipt({
      lines: lines.map((l) => ({ sku: l.product.sku, quantity: l.quantity, reason: l.reason, condition: l.condition })),
      refund_method: method,
      manager_id: managerId,
      manager_pin: pin,
      idempotency_key: attemptKey,
    }).then((outcome) => {
      switch (outcome.outcome) {
        case "recorded":
          setReceipt(outcome.receipt);
          setLines([]);
          setFound({ kind: "idle" });
          setQuery("");
          setApproving(false);
          setAttemptKey(crypto.randomUUID());
          return undefined;
        case "not_a_manager":
          return { text: t("noreceipt.notManager"), code: "not_a_manager" };
        default:
          return outcomeText(outcome, manager?.name ?? "", t);
      }
    });

  return (
    <section aria-labelledby="noreceipt-title" data-testid="no-receipt">
      <button type="button" class="secondary" onClick={onBack}>
        {t("common.back")}
      </button>
      <h1 id="noreceipt-title">{t("noreceipt.title")}</h1>
      <p class="muted">{t("noreceipt.intro")}</p>

      {receipt && (
        <div class="card ok" role="status" data-testid="no-receipt-receipt">
          <p class="big">
            {t("noreceipt.recorded", {
              id: receipt.id,
              amount: formatMoney(receipt.total_refund, lang),
              method: receipt.refund_method === "cash" ? t("noreceipt.cash") : t("noreceipt.credit"),
              name: receipt.approved_by,
            })}
          </p>
          <ul class="plain">
            {receipt.lines.map((l) => (
              <li key={l.sku}>
                {l.sku} × {l.quantity} · {returnReason(l.reason)} · {formatMoney(l.refund, lang)} ·{" "}
                {l.restocked ? t("noreceipt.restocked") : t("noreceipt.quarantined")}
              </li>
            ))}
          </ul>
        </div>
      )}

      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          find(query, false);
        }}
      >
        <label class="grow">
          {t("noreceipt.find")}
          <input data-testid="no-receipt-query" value={query} maxLength={200} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <button type="submit" data-testid="no-receipt-search">
          {t("noreceipt.search")}
        </button>
      </form>
      {found.kind === "loading" && <Loading testId="no-receipt-searching" />}
      {found.kind === "error" && <ErrorMessage error={found.error} testId="no-receipt-search-error" />}
      {found.kind === "ready" && found.items.length === 0 && (
        <p class="muted" data-testid="no-receipt-none">
          {t("noreceipt.none")}
        </p>
      )}
      {found.kind === "ready" && found.items.length > 0 && (
        <ul class="results">
          {found.items.map((p) => (
            <li key={p.sku}>
              <button type="button" class="result" data-testid="no-receipt-hit" data-sku={p.sku} aria-label={t("noreceipt.add", { name: p.name })} onClick={() => add(p)}>
                <span class="result-main">
                  <span class="result-name">{p.name}</span>
                  <span class="result-meta">
                    {p.brand} · {p.sku}
                  </span>
                </span>
                <span class="result-price">{formatMoney(p.price, lang)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}

      <h2>{t("noreceipt.lines")}</h2>
      {lines.length === 0 && (
        <p class="muted" data-testid="no-receipt-empty">
          {t("noreceipt.empty")}
        </p>
      )}
      {lines.map((l) => (
        <div class="row card" key={l.product.sku} data-testid="no-receipt-line" data-sku={l.product.sku}>
          <span class="grow">
            <strong>{l.product.name}</strong> <span class="muted">· {l.product.sku}</span>
          </span>
          <label>
            <span class="visually-hidden">{t("noreceipt.qty", { name: l.product.name })}</span>
            <input
              type="number"
              class="qty"
              min={1}
              max={999}
              value={l.quantity}
              data-testid="no-receipt-qty"
              onInput={(e) => {
                const n = Math.round(Number(e.currentTarget.value));
                if (Number.isFinite(n) && n >= 1 && n <= 999) update(l.product.sku, { quantity: n });
              }}
            />
          </label>
          <label>
            <span class="visually-hidden">{t("order.reason")}</span>
            <select data-testid="no-receipt-reason" value={l.reason} onChange={(e) => update(l.product.sku, { reason: e.currentTarget.value as ReturnReason })}>
              {REASONS.map((r) => (
                <option key={r} value={r}>
                  {returnReason(r)}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span class="visually-hidden">{t("order.condition")}</span>
            <select
              data-testid="no-receipt-condition"
              value={l.condition}
              onChange={(e) => update(l.product.sku, { condition: e.currentTarget.value as ItemCondition })}
            >
              {CONDITIONS.map((c) => (
                <option key={c} value={c}>
                  {condition(c)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            class="secondary"
            aria-label={t("noreceipt.remove", { name: l.product.name })}
            onClick={() => setLines((current) => current.filter((x) => x !== l))}
          >
            ✕
          </button>
        </div>
      ))}

      {lines.length > 0 && (
        <div class="card">
          <fieldset class="choices">
            <legend>{t("noreceipt.refund")}</legend>
            {(["cash", "store_credit"] as RefundMethod[]).map((m) => (
              <label key={m} class={method === m ? "choice active" : "choice"}>
                <input type="radio" name="refund-method" data-testid={`refund-${m}`} checked={method === m} onChange={() => setMethod(m)} />
                {m === "cash" ? t("noreceipt.cash") : t("noreceipt.credit")}
              </label>
            ))}
          </fieldset>
          <h2>{t("noreceipt.approval")}</h2>
          {managers.kind === "loading" && <Loading testId="no-receipt-managers-loading" />}
          {managers.kind === "error" && (
            <ErrorMessage error={managers.error} testId="no-receipt-managers-error" onRetry={() => setManagersAttempt((n) => n + 1)} />
          )}
          {managers.kind === "ready" && managers.managers.length === 0 && (
            <p class="error-box" data-testid="no-receipt-no-manager">
              {t("noreceipt.noManager")}
            </p>
          )}
          {managers.kind === "ready" && managers.managers.length > 0 && (
            <>
              <label>
                {t("noreceipt.manager")}
                <select data-testid="no-receipt-manager" value={managerId} onChange={(e) => setManagerId(e.currentTarget.value)}>
                  {managers.managers.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name}
                    </option>
                  ))}
                </select>
              </label>
              {!approving && (
                <div class="row">
                  <button type="button" data-testid="no-receipt-approve" disabled={!manager} onClick={() => setApproving(true)}>
                    {t("noreceipt.submit")}
                  </button>
                </div>
              )}
              {approving && manager && (
                <PinEntry
                  title={t("signin.pinFor", { name: manager.name })}
                  submitLabel={t("noreceipt.submit")}
                  submit={approve}
                  onCancel={() => setApproving(false)}
                  cancelLabel={t("common.back")}
                />
              )}
            </>
          )}
        </div>
      )}
    </section>
  );
}
