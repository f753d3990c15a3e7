/**
 * Exact decimal sums for costs. Costs arrive as JSON numbers (ours) or as
 * decimal strings (the original Python feature wrote `Decimal`s); adding them
 * as floats drifts after a few thousand calls, so they are summed as scaled
 * integers and printed back as plain decimal text. The integers are doubles
 * while they are safe integers (exact; most costs and sums are) and BigInts
 * beyond, so a reader makes no BigInt per cost.
 */

export interface ScaledDecimal {
  /** The value times 10^scale. */
  units: bigint;
  scale: number;
}

const DECIMAL_TEXT = /^([-+]?)(\d+)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/;
/** Exponents beyond this are not costs; refusing them keeps BigInt work bounded. */
const MAX_EXPONENT = 400;

/**
 * Parses a JSON number or a decimal string. Numbers go through their shortest
 * round-trip text (`String(0.1)` is `"0.1"`), which is the value the writer
 * meant, at most 15 significant digits (below). Returns null for anything
 * that is not a finite decimal.
 */
export function parseDecimal(value: number | string | null | undefined): ScaledDecimal | null {
  const parts = decimalParts(value);
  return parts && scaledOf(parts);
}

/** A decimal's text taken apart: its digits without the point, and the scale that puts the point back. */
interface DecimalParts {
  negative: boolean;
  digits: string;
  /** May be negative (an exponent beyond the fraction): the digits are then scaled up. */
  scale: number;
}

function decimalParts(value: number | string | null | undefined): DecimalParts | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  const match = DECIMAL_TEXT.exec(typeof value === 'number' ? meantText(value) : value.trim());
  if (!match) return null;
  const [, sign = '', whole = '0', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) return null;
  return { negative: sign === '-', digits: whole + fraction, scale: fraction.length - exponent };
}

function scaledOf({ negative, digits, scale }: DecimalParts): ScaledDecimal {
  let units = BigInt(digits);
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return { units: negative ? -units : units, scale };
}

/**
 * A decimal whose units fit a double exactly (a safe integer): summed
 * without BigInt (see `parseExactDecimal`).
 */
export interface SmallDecimal {
  /** The value times 10^scale, a safe integer. */
  small: number;
  scale: number;
}

/** A parsed decimal in whichever form holds it exactly: most costs are small. */
export type ExactDecimal = ScaledDecimal | SmallDecimal;

/** Digit strings this short are safe integers (10^15 < 2^53): `Number` reads them exactly. */
const SAFE_DIGITS = 15;

/**
 * As `parseDecimal`, the same value, but units that fit a double exactly are
 * kept as a number: no BigInt to make per cost on the readers' hot path
 * (`stats` parses one per call). `DecimalSum.addDecimal` takes either form.
 */
export function parseExactDecimal(value: number | string | null | undefined): ExactDecimal | null {
  const parts = decimalParts(value);
  if (!parts) return null;
  const { negative, digits, scale } = parts;
  if (digits.length <= SAFE_DIGITS) {
    // Exact: at most 15 digits; scaled up by a power of ten only while the product stays a safe integer.
    let small = Number(digits);
    if (scale < 0) small = -scale < EXACT_POWERS.length ? small * (EXACT_POWERS[-scale] as number) : Infinity;
    if (small <= Number.MAX_SAFE_INTEGER) return { small: negative && small !== 0 ? -small : small, scale: Math.max(scale, 0) };
  }
  return scaledOf(parts);
}

/** Whether a parsed decimal is in its number form. */
function isSmall(value: ExactDecimal): value is SmallDecimal {
  return (value as SmallDecimal).small !== undefined;
}

/** Significant digits a double holds exactly whatever its value. */
const DOUBLE_DIGITS = 15;

/**
 * A number's text as its writer meant it. A double whose shortest text needs
 * 16 or 17 significant digits (`0.00041000000000000005`) is the binary noise
 * of a float computation (files written before costs were exact hold such
 * values): a price times a token count never needs that many, so it is read
 * at 15 significant digits (`0.00041`).
 */
function meantText(value: number): string {
  const text = String(value);
  // No more characters than a double's exact digits: no room for noise (the readers' hot path: most costs end here).
  if (text.length <= DOUBLE_DIGITS) return text;
  const mantissa = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return mantissa.length > DOUBLE_DIGITS ? String(Number(value.toPrecision(DOUBLE_DIGITS))) : text;
}

/** Canonical decimal text of a cost (valid JSON number text), or null when it is not a finite decimal. */
export function decimalText(value: number | string | null | undefined): string | null {
  const parsed = parseDecimal(value);
  return parsed ? formatDecimal(parsed) : null;
}

/** Prints a scaled decimal without exponent or trailing zeros: 88653e-8 → "0.00088653". */
export function formatDecimal(value: ScaledDecimal): string {
  const negative = value.units < 0n;
  let digits = (negative ? -value.units : value.units).toString();
  if (value.scale > 0) {
    digits = digits.padStart(value.scale + 1, '0');
    const whole = digits.slice(0, digits.length - value.scale);
    const fraction = digits.slice(digits.length - value.scale).replace(/0+$/, '');
    digits = fraction ? `${whole}.${fraction}` : whole;
  }
  return negative && digits !== '0' ? `-${digits}` : digits;
}

// Sums rescale on almost every add: cache the powers of ten instead of computing them.
const POWERS: bigint[] = [1n];
function pow10(n: number): bigint {
  for (let i = POWERS.length; i <= n; i++) POWERS.push((POWERS[i - 1] as bigint) * 10n);
  return POWERS[n] as bigint;
}

/** Integers up to this size are exact as doubles. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
/** 10^0 … 10^22: every one exact as a double (written out, not computed, so no rounding can creep in). */
const EXACT_POWERS = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/**
 * A running exact sum. `count` says how many known values went in.
 *
 * The sum is `big + fast` units at `scale`: `fast` takes every addition
 * whose result stays a safe integer, exactly (an integer operation on
 * doubles is exact whenever its result is at most 2^53 - 1 in size, and
 * rounding never brings a larger result back under that bound, so the check
 * after the operation is sound); anything else goes to `big`.
 */
export class DecimalSum {
  private big = 0n;
  private fast = 0;
  private scale = 0;
  private known = 0;

  /** Adds a cost; returns false (and adds nothing) when the value is unknown or not a decimal. */
  add(value: number | string | null | undefined): boolean {
    const parsed = parseExactDecimal(value);
    if (!parsed) return false;
    this.addDecimal(parsed);
    return true;
  }

  /** Adds an already parsed value (parse once, add to several sums). */
  addDecimal(value: ExactDecimal): void {
    if (isSmall(value)) this.addSmall(value.small, value.scale);
    else this.addBig(value.units, value.scale);
    this.known += 1;
  }

  addSum(other: DecimalSum): void {
    if (other.known === 0) return;
    this.addSmall(other.fast, other.scale);
    this.addBig(other.big, other.scale);
    this.known += other.known;
  }

  get count(): number {
    return this.known;
  }

  /** The exact sum as decimal text; "0" when nothing was added. */
  toString(): string {
    return formatDecimal({ units: this.units(), scale: this.scale });
  }

  /** The sum, or null when no known value was added. */
  toNullableString(): string | null {
    return this.known === 0 ? null : this.toString();
  }

  /** Nearest float, for span attributes and charts only (never for sums). */
  toNumber(): number {
    // Both operands exact doubles: their quotient, rounded once, is the nearest float to the
    // decimal, which is what parsing its text gives (without printing it: every turn sums its cost).
    if (this.scale < EXACT_POWERS.length) {
      if (this.big === 0n) return this.fast / (EXACT_POWERS[this.scale] as number);
      const units = this.units();
      if (units <= MAX_EXACT && units >= -MAX_EXACT) return Number(units) / (EXACT_POWERS[this.scale] as number);
    }
    return Number(this.toString());
  }

  private units(): bigint {
    return this.fast === 0 ? this.big : this.big + BigInt(this.fast);
  }

  /** Brings the sum to a larger scale. */
  private rescale(scale: number): void {
    const shift = scale - this.scale;
    const fast = shift < EXACT_POWERS.length ? this.fast * (EXACT_POWERS[shift] as number) : Infinity;
    if (Math.abs(fast) <= Number.MAX_SAFE_INTEGER) {
      this.fast = fast;
    } else {
      this.big += BigInt(this.fast);
      this.fast = 0;
    }
    if (this.big !== 0n) this.big *= pow10(shift);
    this.scale = scale;
  }

  private addSmall(small: number, scale: number): void {
    if (scale > this.scale) this.rescale(scale);
    const shift = this.scale - scale;
    if (shift < EXACT_POWERS.length) {
      const shifted = small * (EXACT_POWERS[shift] as number);
      const sum = this.fast + shifted;
      if (Math.abs(shifted) <= Number.MAX_SAFE_INTEGER && Math.abs(sum) <= Number.MAX_SAFE_INTEGER) {
        this.fast = sum;
        return;
      }
    }
    this.addBig(BigInt(small), scale);
  }

  private addBig(units: bigint, scale: number): void {
    if (units === 0n) return;
    if (scale > this.scale) this.rescale(scale);
    this.big += this.scale === scale ? units : units * pow10(this.scale - scale);
  }
}
