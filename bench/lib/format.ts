/** Number formatting shared by progress lines and result tables. */

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds with precision that suits their size: "0.84 ms", "12.3 ms", "412 ms". */
export function ms(n: number): string {
  const digits = n < 10 ? 2 : n < 100 ? 1 : 0;
  return `${n.toFixed(digits)} ms`;
}

/** A ratio of two figures measured side by side: "0.62x". */
export function ratio(n: number): string {
  return `${n.toFixed(2)}x`;
}

/** A share of a whole as a percentage: "42%". */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.floor((part / whole) * 100)}%` : '–';
}

/** "1 subscriber", "1,000 subscribers". */
export function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}
