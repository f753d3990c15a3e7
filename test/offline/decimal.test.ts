import { describe, expect, it } from 'vitest';
import { DecimalSum, formatDecimal, parseDecimal } from '../../src/record/decimal.js';

function sumDecimals(values: (number | string | null)[]): string | null {
  const sum = new DecimalSum();
  for (const v of values) sum.add(v);
  return sum.toNullableString();
}

describe('decimal cost sums', () => {
  it('parses numbers, decimal strings and exponents exactly', () => {
    expect(parseDecimal('0.00088653')).toEqual({ units: 88653n, scale: 8 });
    expect(parseDecimal(0.1)).toEqual({ units: 1n, scale: 1 });
    expect(parseDecimal(1e-7)).toEqual({ units: 1n, scale: 7 });
    expect(parseDecimal('1.5E+3')).toEqual({ units: 1500n, scale: 0 });
    expect(parseDecimal('-2.50')).toEqual({ units: -250n, scale: 2 });
    expect(parseDecimal('0')).toEqual({ units: 0n, scale: 0 });
  });

  it('rejects what is not a finite decimal', () => {
    for (const bad of ['', 'abc', '1,5', 'NaN', '1e999999', Number.NaN, Number.POSITIVE_INFINITY, null, undefined]) {
      expect(parseDecimal(bad as string | number | null | undefined)).toBeNull();
    }
  });

  it('formats without exponent or trailing zeros', () => {
    expect(formatDecimal({ units: 88653n, scale: 8 })).toBe('0.00088653');
    expect(formatDecimal({ units: 1500n, scale: 3 })).toBe('1.5');
    expect(formatDecimal({ units: -5n, scale: 2 })).toBe('-0.05');
    expect(formatDecimal({ units: 0n, scale: 4 })).toBe('0');
  });

  it('sums without float drift where floats do drift', () => {
    const values = Array.from({ length: 10_000 }, () => 0.1);
    const floatSum = values.reduce((a, b) => a + b, 0);
    expect(floatSum).not.toBe(1000); // the drift this module exists for
    expect(sumDecimals(values)).toBe('1000');
    expect(sumDecimals(['0.00088653', 0.00011347, '0'])).toBe('0.001');
    expect(sumDecimals([0.1, 0.2])).toBe('0.3');
  });

  it('counts known values and says null when none is known', () => {
    const sum = new DecimalSum();
    expect(sum.add(null)).toBe(false);
    expect(sum.toNullableString()).toBeNull();
    expect(sum.add('0')).toBe(true);
    expect(sum.toNullableString()).toBe('0');
    const other = new DecimalSum();
    other.add('1.25');
    other.add(2);
    sum.addSum(other);
    expect(sum.count).toBe(3);
    expect(sum.toString()).toBe('3.25');
  });
});
