/**
 * Money on events. An amount is kept as an integer count of thousandths of its currency's unit, which
 * holds every ISO 4217 currency exactly (none has more than three decimals) and sums exactly. Revenue
 * is totalled in one currency at a time, the site's by default: Beacon converts nothing, because a
 * rate it made up or fetched would change figures after the fact. Amounts in other currencies are
 * reported apart, by currency.
 */

/** Largest amount an event may carry, in units: well inside exact integer sums of thousandths. */
const MAX_UNITS = 1e12;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
/** ISO 4217 alphabetic codes: three upper-case letters. */
export const CURRENCY = /^[A-Z]{3}$/;

/**
 * Thousandths of a unit from an amount given as a JSON number or a decimal string, rounded half away
 * from zero past the third decimal; undefined when it is neither, or beyond a trillion units.
 */
export function parseAmount(value: unknown): number | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    // The shortest text that reads back as the number is what the sender meant (0.1 + 0.2 reads
    // 0.30000000000000004, which rounds to 0.3); tiny numbers print with an exponent.
    text = /e/i.test(String(value)) ? value.toFixed(6) : String(value);
  } else if (typeof value === 'string') text = value.trim();
  else return undefined;
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign, whole, fraction = ''] = m;
  if (whole!.length > 13) return undefined;
  const digits = (fraction + '000').slice(0, 3);
  let milli = Number(whole) * 1000 + Number(digits);
  if ((fraction[3] ?? '0') >= '5') milli += 1;
  if (milli / 1000 > MAX_UNITS) return undefined;
  return sign === '-' && milli !== 0 ? -milli : milli;
}

/** `10290` → `"10.29"`: thousandths as the shortest decimal text. */
export function formatAmount(milli: number): string {
  const sign = milli < 0 ? '-' : '';
  const abs = Math.abs(milli);
  const fraction = String(abs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${sign}${Math.floor(abs / 1000)}${fraction ? '.' + fraction : ''}`;
}

/** Thousandths as a number of units, for answers (`10290` → `10.29`). */
export const units = (milli: number): number => milli / 1000;
