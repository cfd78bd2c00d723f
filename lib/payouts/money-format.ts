// Minor units ↔ the decimal text banks and files use. Exact: bigint arithmetic, no floats.

/** ISO 4217 currencies whose minor unit is not a hundredth (every other one has 2 decimals). */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0,
  XOF: 0, XPF: 0, BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

export const currencyExponent = (currency: string): number => EXPONENTS[currency] ?? 2;

/** `12345n` USD → `"123.45"`; `5n` JPY → `"5"`; negative amounts keep their sign. */
export function formatMinorUnits(amount: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const sign = amount < 0n ? '-' : '';
  const digits = (amount < 0n ? -amount : amount).toString();
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/** The inverse, refusing more decimals than the currency has (`"1.234"` USD is not an amount). */
export function parseMinorUnits(text: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match || (match[3]?.length ?? 0) > exponent) throw new RangeError(`Not an amount in ${currency}: ${text}`);
  const minor = BigInt(match[2]! + (match[3] ?? '').padEnd(exponent, '0'));
  return match[1] ? -minor : minor;
}
