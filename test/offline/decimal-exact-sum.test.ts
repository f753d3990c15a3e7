/**
 * Exact cost sums keep units that fit a double as numbers and fall back to
 * BigInt only when they do not: every sum must equal, digit for digit, the
 * sum taken entirely in BigInt (`parseDecimal` and scaled BigInt addition),
 * on adversarial values (many digits, negatives, exponents, sums that cross
 * 2^53, float noise).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecimalSum, formatDecimal, parseDecimal, parseExactDecimal, type ScaledDecimal } from '../../src/record/decimal.js';

/** The all-BigInt sum: rescale to the larger scale, add. */
function bigIntSum(values: readonly (number | string)[]): { text: string; count: number } {
  let units = 0n;
  let scale = 0;
  let count = 0;
  for (const value of values) {
    const parsed = parseDecimal(value);
    if (!parsed) continue;
    count += 1;
    if (parsed.scale > scale) {
      units *= 10n ** BigInt(parsed.scale - scale);
      scale = parsed.scale;
    }
    units += parsed.units * 10n ** BigInt(scale - parsed.scale);
  }
  return { text: formatDecimal({ units, scale }), count };
}

function asScaled(value: ReturnType<typeof parseExactDecimal>): ScaledDecimal | null {
  if (value === null) return null;
  return 'small' in value ? { units: BigInt(value.small), scale: value.scale } : value;
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
/** Decimal text as the original writer and hand-edited files have it: signs, long fractions, exponents, junk. */
const decimalText = fc.oneof(
  fc.tuple(fc.constantFrom('', '-', '+'), digits(1, 20), fc.option(digits(0, 25)), fc.option(fc.integer({ min: -30, max: 30 })))
    .map(([sign, whole, fraction, exponent]) => `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : `e${exponent}`}`),
  fc.constantFrom('9007199254740991', '9007199254740992', '-9007199254740993', '0.000000000000000001', '1e400', '1e401', '-0', '0e-5', ' 12.5 ', 'abc', '1.2.3', ''),
);
/** Numbers: costs, huge and tiny values, float noise (0.1 + 0.2), integers near 2^53. */
const decimalNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 1e7),
  fc.constantFrom(0.1 + 0.2, 2 ** 53, 2 ** 53 - 1, -(2 ** 53) + 1, 1e21, 1e22, 1e23, 5e-324, -0, 0.00041000000000000005),
  fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }).map((n) => Number(n)),
);
const costs = fc.array(fc.oneof(decimalText, decimalNumber), { maxLength: 40 });

describe('exact decimal sums without BigInt where a double is exact', () => {
  it('parse every value to the same decimal as the BigInt parse', () => {
    fc.assert(fc.property(fc.oneof(decimalText, decimalNumber), (value) => {
      expect(asScaled(parseExactDecimal(value))).toEqual(parseDecimal(value));
    }), { numRuns: 3000 });
  });

  it('sum to the same digits as the all-BigInt sum, and to the same nearest float', () => {
    fc.assert(fc.property(costs, (values) => {
      const sum = new DecimalSum();
      for (const value of values) sum.add(value);
      const expected = bigIntSum(values);
      expect(sum.toString()).toBe(expected.text);
      expect(sum.count).toBe(expected.count);
      expect(sum.toNumber()).toBe(Number(expected.text));
    }), { numRuns: 2000 });
  });

  it('merge sums (addSum) and pre-parsed values (addDecimal) exactly as well', () => {
    fc.assert(fc.property(costs, costs, (left, right) => {
      const a = new DecimalSum();
      for (const value of left) {
        const parsed = parseExactDecimal(value);
        if (parsed) a.addDecimal(parsed);
      }
      const b = new DecimalSum();
      for (const value of right) b.add(value);
      a.addSum(b);
      const expected = bigIntSum([...left, ...right]);
      expect(a.toString()).toBe(expected.text);
      expect(a.count).toBe(expected.count);
    }), { numRuns: 1000 });
  });

  it('keep ordinary costs as numbers and only what a double cannot hold as BigInt', () => {
    expect(parseExactDecimal(0.0001001)).toEqual({ small: 1001, scale: 7 });
    expect(parseExactDecimal('-2.50')).toEqual({ small: -250, scale: 2 });
    expect(parseExactDecimal('1.5E+3')).toEqual({ small: 1500, scale: 0 });
    expect(parseExactDecimal('0.00012345678901234567')).toEqual({ units: 12345678901234567n, scale: 20 });
    expect(parseExactDecimal('1e30')).toEqual({ units: 10n ** 30n, scale: 0 });
  });

  it('cross 2^53 in units without losing a unit, both ways', () => {
    const sum = new DecimalSum();
    sum.add('9007199254740991');
    sum.add(1);
    sum.add(1);
    expect(sum.toString()).toBe('9007199254740993');
    sum.add('-9007199254740993.000000001');
    expect(sum.toString()).toBe('-0.000000001');
    const cents = new DecimalSum();
    for (let i = 0; i < 1000; i++) cents.add('90071992547.40991');
    expect(cents.toString()).toBe('90071992547409.91');
  });
});
