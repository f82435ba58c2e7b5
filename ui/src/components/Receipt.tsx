// The order's receipt (a PDF opened in the system viewer to print, or an
// e-mail queued by the OMS core) and, for orders paid by payment link, where
// that payment stands. Both come from the core: offline they say so.
import { useState } from "preact/hooks";
import { emailReceipt, openReceipt } from "../ipc";
import { useI18n } from "../i18n";
import type { AppError, LabelFile, OrderDetail, PaymentLine } from "../generated/ipc";
import { ErrorMessage } from "./common";

type Step<T> = { kind: "idle" } | { kind: "busy" } | { kind: "done"; value: T } | { kind: "error"; error: AppError };

function Failure({ error, testId }: { error: AppError; testId: string }) {
  const { t } = useI18n();
  if (error.code === "backend_unavailable") {
    return (
      <p class="offline-note" role="alert" data-testid={testId} data-code={error.code}>
        {t("receipt.offline")}
      </p>
    );
  }
  return <ErrorMessage error={error} testId={testId} />;
}

export function ReceiptActions({ orderId, email }: { orderId: string; email: string | null }) {
  const { t, lang } = useI18n();
  const [print, setPrint] = useState<Step<LabelFile>>({ kind: "idle" });
  const [mail, setMail] = useState<Step<string>>({ kind: "idle" });
  const [askTo, setAskTo] = useState(false);
  const [to, setTo] = useState("");

  const doPrint = () => {
    setPrint({ kind: "busy" });
    openReceipt(orderId, lang).then(
      (file) => setPrint({ kind: "done", value: file }),
      (error: AppError) => setPrint({ kind: "error", error }),
    );
  };

  const send = (address: string | null) => {
    setMail({ kind: "busy" });
    emailReceipt(orderId, address, lang).then(
      (sent) => {
        setAskTo(false);
        setMail({ kind: "done", value: sent.to });
      },
      (error: AppError) => setMail({ kind: "error", error }),
    );
  };

  return (
    <section class="receipt-actions" aria-label={t("receipt.title")} data-testid="receipt-actions">
      <div class="row">
        <button type="button" data-testid="receipt-print" disabled={print.kind === "busy"} onClick={doPrint}>
          {print.kind === "busy" ? t("receipt.opening") : t("receipt.print")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="receipt-email"
          disabled={mail.kind === "busy"}
          onClick={() => (email ? send(null) : setAskTo(true))}
        >
          {mail.kind === "busy" ? t("receipt.sending") : t("receipt.email")}
        </button>
      </div>
      {askTo && (
        <form
          class="row"
          data-testid="receipt-email-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (to.trim()) send(to.trim());
          }}
        >
          <p class="muted">{t("receipt.needEmail")}</p>
          <label>
            {t("receipt.emailTo")}
            <input type="email" data-testid="receipt-email-to" value={to} maxLength={200} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <button type="submit" data-testid="receipt-email-send" disabled={mail.kind === "busy" || !to.trim()}>
            {t("receipt.email")}
          </button>
        </form>
      )}
      <div aria-live="polite">
        {print.kind === "done" && (
          <p role="status" data-testid="receipt-printed" data-path={print.value.path}>
            {print.value.opened ? t("receipt.opened", { path: print.value.path }) : t("receipt.saved", { path: print.value.path })}
          </p>
        )}
        {print.kind === "error" && <Failure error={print.error} testId="receipt-print-error" />}
        {mail.kind === "done" && (
          <p role="status" data-testid="receipt-sent">
            {t("receipt.sent", { to: mail.value })}
          </p>
        )}
        {mail.kind === "error" && <Failure error={mail.error} testId="receipt-email-error" />}
      </div>
    </section>
  );
}

/** The authorisation of an order paid by payment link. */
function authorisation(order: OrderDetail): PaymentLine | undefined {
  return order.payments.find((p) => p.kind === "authorise");
}

/** For an order paid by payment link: the link the customer was sent, or
 *  what the payment is waiting for. Nothing for orders paid at the till. */
export function PaymentLinkStatus({ order, onRefresh }: { order: OrderDetail; onRefresh?: () => void }) {
  const { t } = useI18n();
  if (order.payment !== "gateway") return null;
  const auth = authorisation(order);
  const status = auth?.status ?? "pending";
  let text: string;
  if (auth?.link) text = t("payment.linkSent", { url: auth.link });
  else if (status === "succeeded") text = t("payment.authorised");
  else if (status === "declined" || status === "failed") text = t("payment.declined");
  else text = t("payment.waiting");
  return (
    <section class="payment-link" aria-label={t("payment.link")} data-testid="payment-link" data-status={status}>
      <h2>{t("payment.link")}</h2>
      <p data-testid="payment-link-text">{text}</p>
      {auth?.detail && !auth.link && (
        <p class="muted" data-testid="payment-link-detail">
          {auth.detail}
        </p>
      )}
      {onRefresh && status === "pending" && !auth?.link && (
        <button type="button" class="secondary" data-testid="payment-refresh" onClick={onRefresh}>
          {t("payment.refresh")}
        </button>
      )}
    </section>
  );
}
