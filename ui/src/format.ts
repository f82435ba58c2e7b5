import type { Lang, Money } from "./generated/ipc";

const formatters = new Map<string, Intl.NumberFormat>();

/** Formats integer minor units in their currency, e.g. 1999 EUR → "€19.99". */
export function formatMoney(money: Money, locale: string = "en"): string {
  const key = `${locale}:${money.currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: "currency", currency: money.currency });
    formatters.set(key, formatter);
  }
  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  return formatter.format(money.amount_minor / 10 ** digits);
}

/** A local date (YYYY-MM-DD) as the user's language writes it. */
export function formatDate(date: string, lang: Lang): string {
  const [y, m, d] = date.split("-").map(Number);
  if (!y || !m || !d) return date;
  return new Intl.DateTimeFormat(lang, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** An instant (RFC 3339) in local time. */
export function formatTime(instant: string, lang: Lang): string {
  const time = new Date(instant);
  if (Number.isNaN(time.getTime())) return instant;
  return new Intl.DateTimeFormat(lang, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }).format(time);
}
