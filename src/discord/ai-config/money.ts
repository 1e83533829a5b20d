/**
 * Amounts and counts as /ai-config shows them. A day of calls often costs
 * fractions of a cent, so amounts under $1 keep up to four decimals, and
 * smaller ones two significant digits: a cheap call never reads as free.
 */
export function usd(amount: number): string {
  if (!Number.isFinite(amount)) return '$?';
  if (amount === 0) return '$0.00';
  if (Math.abs(amount) >= 1) {
    return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  const fixed = Math.abs(amount) >= 0.0001 ? amount.toFixed(4) : Number(amount.toPrecision(2)).toFixed(10);
  return `$${fixed.replace(/0+$/, '').replace(/\.(\d)?$/, (_, d: string | undefined) => `.${d ?? '0'}0`)}`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "42%" of a whole; "0%" when the whole is 0. */
export function percent(part: number, whole: number): string {
  if (!(whole > 0)) return '0%';
  const value = (part / whole) * 100;
  return `${value >= 10 || value === 0 ? Math.round(value) : Number(value.toFixed(1))}%`;
}
