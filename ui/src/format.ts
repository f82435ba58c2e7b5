import type { Money } from "./types";

const formatters = new Map<string, Intl.NumberFormat>();

/** Formats integer minor units in their currency, e.g. 1999 EUR → "€19.99". */
export function formatMoney(money: Money, locale = "en"): string {
  const key = `${locale}:${money.currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: "currency", currency: money.currency });
    formatters.set(key, formatter);
  }
  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  return formatter.format(money.amount_minor / 10 ** digits);
}
