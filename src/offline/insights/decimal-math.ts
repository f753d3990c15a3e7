/**
 * The two divisions insights needs on exact decimal sums: a share (a float
 * in [0, 1], computed from the integers so 0.003 / 0.012 is exactly 0.25)
 * and a cost per 1,000 turns (decimal text, exact when the division ends
 * within 12 more places, else rounded half up there).
 */
import { parseDecimal, formatDecimal, type ScaledDecimal } from '../../record/decimal.js';

const EXTRA_PLACES = 12;

/** part / whole as a number; null when whole is 0 or either is not a decimal. */
export function decimalRatio(part: string, whole: string): number | null {
  const a = parseDecimal(part);
  const b = parseDecimal(whole);
  if (!a || !b || b.units === 0n) return null;
  const scale = Math.max(a.scale, b.scale);
  const au = a.units * 10n ** BigInt(scale - a.scale);
  const bu = b.units * 10n ** BigInt(scale - b.scale);
  // Reduce first so both integers are exact as doubles in the common case.
  const g = gcd(au < 0n ? -au : au, bu < 0n ? -bu : bu) || 1n;
  return Number(au / g) / Number(bu / g);
}

/** value × multiplier / divisor as decimal text ("0" when divisor is 0). */
export function scaleDecimal(value: string, multiplier: number, divisor: number): string {
  const parsed = parseDecimal(value);
  if (!parsed || divisor <= 0) return '0';
  const numerator = parsed.units * BigInt(multiplier);
  const d = BigInt(divisor);
  for (let extra = 0; extra <= EXTRA_PLACES; extra++) {
    const scaled = numerator * 10n ** BigInt(extra);
    if (scaled % d === 0n) return formatDecimal({ units: scaled / d, scale: parsed.scale + extra });
  }
  const scaled = numerator * 10n ** BigInt(EXTRA_PLACES);
  const rounded: ScaledDecimal = { units: (scaled * 2n + d) / (2n * d), scale: parsed.scale + EXTRA_PLACES };
  return formatDecimal(rounded);
}

/** Compares two decimal texts (unknown sorts lowest). */
export function compareDecimal(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return (x ? 1 : 0) - (y ? 1 : 0);
  const scale = Math.max(x.scale, y.scale);
  const d = x.units * 10n ** BigInt(scale - x.scale) - y.units * 10n ** BigInt(scale - y.scale);
  return d === 0n ? 0 : d > 0n ? 1 : -1;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
