// Product detail: stock here, in nearby stores and in the network; what each
// delivery method can promise, and why not when it cannot.
import { useEffect, useState } from "preact/hooks";
import { productAtp, productDetail } from "../ipc";
import { useI18n } from "../i18n";
import { formatDate, formatMoney, formatTime } from "../format";
import type { AppError, Availability, MethodAvailability, ProductDetail, ProductSummary } from "../generated/ipc";
import { ErrorMessage, Loading } from "../components/common";

type Load<T> = { kind: "loading" } | { kind: "ready"; value: T } | { kind: "error"; error: AppError };

export function Product({
  sku,
  onAdd,
  onBack,
}: {
  sku: string;
  onAdd: (product: ProductSummary, quantity: number) => void;
  onBack: () => void;
}) {
  const { t, lang } = useI18n();
  const [detail, setDetail] = useState<Load<ProductDetail>>({ kind: "loading" });
  const [atp, setAtp] = useState<Load<Availability> | undefined>();
  const [quantity, setQuantity] = useState(1);
  const [postalCode, setPostalCode] = useState("");
  const [country, setCountry] = useState("FR");
  const [added, setAdded] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let stale = false;
    setDetail({ kind: "loading" });
    productDetail(sku).then(
      (value) => !stale && setDetail({ kind: "ready", value }),
      (error: AppError) => !stale && setDetail({ kind: "error", error }),
    );
    return () => {
      stale = true;
    };
  }, [sku, attempt]);

  const checkAtp = () => {
    setAtp({ kind: "loading" });
    productAtp(sku, quantity, { postal_code: postalCode.trim() || null, country, pickup_store: null }).then(
      (value) => setAtp({ kind: "ready", value }),
      (error: AppError) => setAtp({ kind: "error", error }),
    );
  };

  // Ask once on arrival: the methods that need no address answer at once.
  useEffect(() => {
    if (detail.kind === "ready") checkAtp();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [detail.kind]);

  if (detail.kind === "loading") return <Loading testId="product-loading" />;
  if (detail.kind === "error") {
    return (
      <section>
        <button type="button" class="secondary" onClick={onBack}>
          {t("common.back")}
        </button>
        <ErrorMessage error={detail.error} testId="product-error" onRetry={() => setAttempt((n) => n + 1)} />
      </section>
    );
  }
  const d = detail.value;
  return (
    <section class="product" aria-labelledby="product-title" data-testid="product">
      <button type="button" class="secondary" onClick={onBack}>
        {t("common.back")}
      </button>
      <header class="product-head">
        <div>
          <h1 id="product-title">{d.product.name}</h1>
          <p class="muted">
            {d.product.brand} · {d.product.sku} · {d.product.product_type}
          </p>
        </div>
        <span class="price">{formatMoney(d.product.price, lang)}</span>
      </header>

      <div class="cards">
        <div class="card" data-testid="stock-here">
          <h2>{t("product.here")}</h2>
          <p class="big">{t("product.available", { n: d.here.available })}</p>
          <p class="muted">{t("product.onHand", { n: d.here.on_hand })}</p>
        </div>
        <div class="card" data-testid="stock-network">
          <h2>{t("product.network")}</h2>
          <p class="big">{t("product.networkText", { n: d.network_available, locations: d.network_locations })}</p>
          <p class="muted">{d.channels.map((c) => `${c.channel}: ${c.unified_stock}`).join(" · ")}</p>
        </div>
      </div>

      <h2>{t("product.atp")}</h2>
      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          checkAtp();
        }}
      >
        <label>
          {t("product.quantity")}
          <input
            type="number"
            min={1}
            max={999}
            data-testid="atp-quantity"
            value={quantity}
            onInput={(event) => setQuantity(Math.max(1, Math.min(999, Number(event.currentTarget.value) || 1)))}
          />
        </label>
        <label>
          {t("product.postalCode")}
          <input data-testid="atp-postal" value={postalCode} maxLength={10} onInput={(event) => setPostalCode(event.currentTarget.value)} />
        </label>
        <label>
          {t("product.country")}
          <select value={country} onChange={(event) => setCountry(event.currentTarget.value)}>
            <option value="FR">FR</option>
            <option value="DE">DE</option>
          </select>
        </label>
        <button type="submit" data-testid="atp-check">
          {t("product.checkAtp")}
        </button>
        <button
          type="button"
          data-testid="add-to-cart"
          onClick={() => {
            onAdd(d.product, quantity);
            setAdded(true);
          }}
        >
          {t("product.addToCart")}
        </button>
      </form>
      {added && (
        <p class="ok" role="status">
          {t("product.added")}
        </p>
      )}
      {atp?.kind === "loading" && <Loading testId="atp-loading" />}
      {atp?.kind === "error" && <ErrorMessage error={atp.error} testId="atp-error" onRetry={checkAtp} />}
      {atp?.kind === "ready" && <MethodList methods={atp.value.methods} />}

      <h2>{t("product.nearby")}</h2>
      {d.nearby.length === 0 ? (
        <p class="muted" data-testid="nearby-empty">
          {t("product.noNearby")}
        </p>
      ) : (
        <table class="table" data-testid="stock-nearby">
          <tbody>
            {d.nearby.map((n) => (
              <tr key={n.location}>
                <td>{n.name}</td>
                <td class="num">{t("product.km", { km: n.distance_km.toLocaleString(lang) })}</td>
                <td class="num">{t("product.available", { n: n.available })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

    </section>
  );
}

export function MethodList({ methods }: { methods: MethodAvailability[] }) {
  const { t, lang, method, reason } = useI18n();
  return (
    <ul class="methods" data-testid="atp-methods">
      {methods.map((m) => (
        <li key={m.method} class={m.possible ? "method ok" : "method no"} data-testid={`atp-${m.method}`} data-possible={String(m.possible)}>
          <strong>{method(m.method)}</strong>
          <span>{m.possible ? t("atp.possible") : t("atp.notPossible")}</span>
          {m.possible && m.expected_date && (
            <span>
              {m.ready_at
                ? t("atp.ready", { date: formatTime(m.ready_at, lang) })
                : t("atp.expected", { date: formatDate(m.expected_date, lang) })}
            </span>
          )}
          {m.possible && m.shipments.length > 0 && (
            <span class="muted">{t("atp.from", { places: m.shipments.map((s) => s.location_name).join(", ") })}</span>
          )}
          {!m.possible && m.reason && <span class="reason">{reason(m.reason)}</span>}
          {!m.possible && m.quantity > 0 && (
            <span class="muted">{t("atp.units", { n: m.quantity, requested: m.requested })}</span>
          )}
        </li>
      ))}
    </ul>
  );
}
