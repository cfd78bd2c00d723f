// Money as text and back: amounts are integer minor units everywhere (cents for USD); only
// these functions turn them into what a person reads or typed, through Intl.NumberFormat.

const fractionDigits = (currency: string) => new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** Integer minor units of `currency` as money in the reader's locale (1400, USD → "$14.00"). */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** fractionDigits(currency));
}

/** Whole coins, with the reader's grouping ("1,000 coins"). */
export const formatCoins = (coins: number, locale?: string) => `${new Intl.NumberFormat(locale).format(coins)} ${Math.abs(coins) === 1 ? 'coin' : 'coins'}`;

/** What a person typed ("5", "5.5", "5,50") in `currency` → integer minor units; null when it is not an amount. */
export function parseMinor(text: string, currency: string): number | null {
  const digits = fractionDigits(currency);
  const match = new RegExp(digits > 0 ? `^(\\d{1,9})(?:[.,](\\d{0,${digits}}))?$` : '^(\\d{1,9})()$').exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 10 ** digits + Number((match[2] ?? '').padEnd(digits, '0') || 0);
}
