// Cart and checkout: lines, customer, delivery, payment, then the order's
// confirmation. One idempotency key per checkout attempt: pressing "Place
// order" again after a failure resends the same key, so the order is never
// placed twice; changing anything starts a new attempt. The customer is
// picked from the core's register (or created there), or — offline, or for
// a guest — entered for this order only.
import { useEffect, useState } from "preact/hooks";
import { carryOutSale, cartAtp, isQueued, orderDetail, placeOrder } from "../ipc";
import { LANGS, useI18n } from "../i18n";
import { formatDate, formatMoney } from "../format";
import type {
  AppError,
  Availability,
  CheckoutDelivery,
  CustomerHit,
  DestinationInput,
  Lang,
  OrderDetail,
  PaymentChoice,
  ProductSummary,
  QueuedAction,
  StoreRef,
} from "../generated/ipc";
import { ErrorMessage, Loading } from "../components/common";
import { CustomerPicker } from "../components/CustomerPicker";
import { PaymentLinkStatus, ReceiptActions } from "../components/Receipt";
import { MethodList } from "./Product";

export interface CartLine {
  product: ProductSummary;
  quantity: number;
}

const DELIVERIES: CheckoutDelivery[] = ["carry_out", "home_delivery", "click_and_collect", "express_click_and_collect"];

function newKey(): string {
  return globalThis.crypto.randomUUID();
}

export function Cart({
  lines,
  setLines,
  stores,
  onOpenOrder,
}: {
  lines: CartLine[];
  setLines: (update: (lines: CartLine[]) => CartLine[]) => void;
  /** The channel's stores, this one first. */
  stores: StoreRef[];
  onOpenOrder: (id: string) => void;
}) {
  const { t, lang, method } = useI18n();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [phone, setPhone] = useState("");
  const [customerLang, setCustomerLang] = useState<Lang>(lang);
  /** Picked from (or saved to) the customer register. */
  const [chosen, setChosen] = useState<CustomerHit | null>(null);
  const [delivery, setDelivery] = useState<CheckoutDelivery>("home_delivery");
  const [postalCode, setPostalCode] = useState("");
  const [country, setCountry] = useState("FR");
  const [pickupStore, setPickupStore] = useState("");
  const [payment, setPayment] = useState<PaymentChoice>("in_store");
  const [atp, setAtp] = useState<{ kind: "loading" } | { kind: "ready"; value: Availability } | { kind: "error"; error: AppError }>();
  const [placing, setPlacing] = useState(false);
  const [failure, setFailure] = useState<AppError | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [placed, setPlaced] = useState<OrderDetail | undefined>();
  const [attemptKey, setAttemptKey] = useState<string | undefined>();
  /** Queued in the outbox: a carry-out sale, or an order while offline. */
  const [queued, setQueued] = useState<{ kind: "sale" | "order"; action: QueuedAction } | undefined>();
  const [selling, setSelling] = useState(false);

  // Anything changed: the next press is a new attempt.
  useEffect(() => {
    setAttemptKey(undefined);
  }, [lines, name, email, phone, customerLang, chosen, delivery, postalCode, country, pickupStore, payment]);

  const pick = (customer: CustomerHit | null) => {
    setChosen(customer);
    setName(customer?.name ?? "");
    setEmail(customer?.email ?? "");
    setPhone(customer?.phone ?? "");
    if (customer) setCustomerLang(customer.language);
  };

  const destination = (): DestinationInput => ({
    postal_code: delivery === "home_delivery" ? postalCode.trim() || null : null,
    country,
    pickup_store: delivery === "click_and_collect" || delivery === "express_click_and_collect" ? pickupStore.trim() || null : null,
  });

  if (queued) {
    const sale = queued.kind === "sale";
    return (
      <section class="confirmation" data-testid="queued-confirmation" data-kind={queued.kind} aria-labelledby="queued-title">
        <h1 id="queued-title">{sale ? t("cart.sold") : t("cart.queued")}</h1>
        <p class="big" data-testid="queued-reference">
          {queued.action.reference}
        </p>
        <p>{sale ? t("cart.soldNote") : t("cart.queuedNote")}</p>
        <p class="muted" data-testid="receipt-after-sync">
          {sale ? t("receipt.saleAfterSync") : t("receipt.afterSync")}
        </p>
        <div class="row">
          <button
            type="button"
            class="secondary"
            data-testid="new-sale"
            onClick={() => {
              setQueued(undefined);
              pick(null);
              setAtp(undefined);
            }}
          >
            {t("cart.newSale")}
          </button>
        </div>
      </section>
    );
  }

  if (placed) {
    return (
      <section class="confirmation" data-testid="confirmation" aria-labelledby="confirmation-title">
        <h1 id="confirmation-title">{t("cart.confirmed", { id: placed.id })}</h1>
        <p class="big" data-testid="order-number">
          {placed.id}
        </p>
        <p>
          {t("order.total")}: <strong>{formatMoney(placed.total, lang)}</strong> · {method(placed.delivery)}
        </p>
        <ul class="plain" data-testid="confirmation-fulfilments">
          {placed.fulfilments.map((f) => (
            <li key={f.id}>
              {f.location_name}: {f.lines.map((l) => `${l.quantity} × ${l.name}`).join(", ")} —{" "}
              {t("atp.expected", { date: formatDate(f.expected_date, lang) })}
            </li>
          ))}
        </ul>
        <PaymentLinkStatus
          order={placed}
          onRefresh={() => {
            orderDetail(placed.id, lang).then(setPlaced, () => undefined);
          }}
        />
        <ReceiptActions orderId={placed.id} email={placed.customer.email} />
        <div class="row">
          <button type="button" onClick={() => onOpenOrder(placed.id)}>
            {t("order.title", { id: placed.id })}
          </button>
          <button
            type="button"
            class="secondary"
            data-testid="new-sale"
            onClick={() => {
              setPlaced(undefined);
              pick(null);
              setAtp(undefined);
            }}
          >
            {t("cart.newSale")}
          </button>
        </div>
      </section>
    );
  }

  if (lines.length === 0) {
    return (
      <section aria-labelledby="cart-title">
        <h1 id="cart-title">{t("cart.title")}</h1>
        <p class="muted" data-testid="cart-empty">
          {t("cart.empty")}
        </p>
      </section>
    );
  }

  const currency = lines[0]?.product.price.currency ?? "EUR";
  const total = lines.reduce((sum, l) => sum + l.product.price.amount_minor * l.quantity, 0);

  const place = () => {
    setProblem(undefined);
    setFailure(undefined);
    if (!name.trim()) return setProblem(t("cart.nameNeeded"));
    if (!email.trim() && !phone.trim()) return setProblem(t("cart.contactNeeded"));
    if (delivery === "home_delivery" && !postalCode.trim()) return setProblem(t("cart.postalNeeded"));
    const key = attemptKey ?? newKey();
    setAttemptKey(key);
    setPlacing(true);
    placeOrder({
      lines: lines.map((l) => ({ sku: l.product.sku, quantity: l.quantity })),
      customer: { id: chosen?.id ?? null, name: name.trim(), email: email.trim() || null, phone: phone.trim() || null, language: customerLang },
      delivery,
      destination: destination(),
      payment: delivery === "carry_out" ? "in_store" : payment,
      idempotency_key: key,
    }).then(
      (outcome) => {
        setPlacing(false);
        if (isQueued(outcome)) setQueued({ kind: "order", action: outcome });
        else setPlaced(outcome);
        setLines(() => []);
      },
      (error: AppError) => {
        setPlacing(false);
        setFailure(error);
        // Keep the key: pressing again resends the same attempt.
        setAttemptKey(key);
      },
    );
  };

  const sellNow = () => {
    setProblem(undefined);
    setFailure(undefined);
    setSelling(true);
    carryOutSale(lines.map((l) => ({ sku: l.product.sku, quantity: l.quantity }))).then(
      (action) => {
        setSelling(false);
        setQueued({ kind: "sale", action });
        setLines(() => []);
      },
      (error: AppError) => {
        setSelling(false);
        setFailure(error);
      },
    );
  };

  return (
    <section class="cart" aria-labelledby="cart-title" data-testid="cart">
      <h1 id="cart-title">{t("cart.title")}</h1>
      <ul class="plain cart-lines">
        {lines.map((line) => (
          <li key={line.product.sku} class="cart-line" data-testid="cart-line">
            <span class="grow">
              <strong>{line.product.name}</strong>
              <span class="muted"> · {line.product.sku}</span>
            </span>
            <label>
              <span class="visually-hidden">{t("cart.quantityOf", { name: line.product.name })}</span>
              <input
                type="number"
                min={1}
                max={999}
                class="qty"
                value={line.quantity}
                onInput={(event) => {
                  const quantity = Math.max(1, Math.min(999, Number(event.currentTarget.value) || 1));
                  setLines((all) => all.map((l) => (l === line ? { ...l, quantity } : l)));
                }}
              />
            </label>
            <span class="num">{formatMoney({ amount_minor: line.product.price.amount_minor * line.quantity, currency }, lang)}</span>
            <button type="button" class="secondary" onClick={() => setLines((all) => all.filter((l) => l !== line))}>
              {t("cart.remove")}
            </button>
          </li>
        ))}
      </ul>
      <p class="big" data-testid="cart-total">
        {t("cart.total", { amount: formatMoney({ amount_minor: total, currency }, lang) })}
      </p>
      <div class="row">
        <button type="button" data-testid="sell-now" disabled={selling} onClick={sellNow}>
          {selling ? t("cart.selling") : t("cart.sellNow")}
        </button>
      </div>

      <fieldset>
        <legend>{t("cart.customer")}</legend>
        <CustomerPicker chosen={chosen} onPick={pick} defaultLang={lang} />
        {!chosen && <p class="muted">{t("customer.orEnter")}</p>}
        {!chosen && (
          <div class="row">
            <label>
              {t("cart.name")}
              <input data-testid="customer-name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <label>
              {t("cart.email")}
              <input type="email" data-testid="customer-email" value={email} maxLength={200} onInput={(e) => setEmail(e.currentTarget.value)} />
            </label>
            <label>
              {t("cart.phone")}
              <input type="tel" data-testid="customer-phone" value={phone} maxLength={40} onInput={(e) => setPhone(e.currentTarget.value)} />
            </label>
            <label>
              {t("cart.language")}
              <select value={customerLang} onChange={(e) => setCustomerLang(e.currentTarget.value as Lang)}>
                {LANGS.map((l) => (
                  <option key={l} value={l}>
                    {l.toUpperCase()}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
      </fieldset>

      <fieldset>
        <legend>{t("cart.delivery")}</legend>
        <div class="choices" role="radiogroup">
          {DELIVERIES.map((d) => (
            <label key={d} class={delivery === d ? "choice active" : "choice"}>
              <input type="radio" name="delivery" value={d} data-testid={`delivery-${d}`} checked={delivery === d} onChange={() => setDelivery(d)} />
              {d === "carry_out" ? t("delivery.carry_out") : method(d)}
            </label>
          ))}
        </div>
        {delivery === "carry_out" && <p class="muted">{t("cart.carryOutNote")}</p>}
        {delivery === "home_delivery" && (
          <div class="row">
            <label>
              {t("product.postalCode")}
              <input data-testid="checkout-postal" value={postalCode} maxLength={10} onInput={(e) => setPostalCode(e.currentTarget.value)} />
            </label>
            <label>
              {t("product.country")}
              <select value={country} onChange={(e) => setCountry(e.currentTarget.value)}>
                <option value="FR">FR</option>
                <option value="DE">DE</option>
              </select>
            </label>
          </div>
        )}
        {(delivery === "click_and_collect" || delivery === "express_click_and_collect") && (
          <label>
            {t("cart.pickupStore")}
            <select data-testid="checkout-pickup-store" value={pickupStore} onChange={(e) => setPickupStore(e.currentTarget.value)}>
              <option value="">{`${t("cart.thisStore")}${stores[0] ? ` — ${stores[0].name}` : ""}`}</option>
              {stores.slice(1).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.id})
                </option>
              ))}
            </select>
          </label>
        )}
      </fieldset>

      {delivery !== "carry_out" && (
        <fieldset>
          <legend>{t("cart.payment")}</legend>
          <div class="choices" role="radiogroup">
            {(["in_store", "gateway"] as const).map((p) => (
              <label key={p} class={payment === p ? "choice active" : "choice"}>
                <input type="radio" name="payment" value={p} data-testid={`payment-${p}`} checked={payment === p} onChange={() => setPayment(p)} />
                {t(`cart.pay.${p}`)}
              </label>
            ))}
          </div>
        </fieldset>
      )}

      <div class="row">
        <button
          type="button"
          class="secondary"
          data-testid="cart-atp"
          onClick={() => {
            setAtp({ kind: "loading" });
            cartAtp(
              lines.map((l) => ({ sku: l.product.sku, quantity: l.quantity })),
              { ...destination(), postal_code: postalCode.trim() || null },
            ).then(
              (value) => setAtp({ kind: "ready", value }),
              (error: AppError) => setAtp({ kind: "error", error }),
            );
          }}
        >
          {t("cart.checkAtp")}
        </button>
        <button type="button" data-testid="place-order" disabled={placing} onClick={place}>
          {placing ? t("cart.placing") : t("cart.place")}
        </button>
      </div>
      {problem && (
        <p class="error" role="alert" data-testid="checkout-problem">
          {problem}
        </p>
      )}
      {failure && (
        <>
          <ErrorMessage error={failure} testId="checkout-error" />
          {failure.code === "backend_unavailable" && <p class="muted">{t("cart.retryNote")}</p>}
        </>
      )}
      {atp?.kind === "loading" && <Loading />}
      {atp?.kind === "error" && <ErrorMessage error={atp.error} />}
      {atp?.kind === "ready" && <MethodList methods={atp.value.methods} />}
    </section>
  );
}
