import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { DecimalSum, formatDecimal, parseDecimal } from '../../src/record/decimal.js';
import { captureIo, makeTraceDir, oursRecord } from './fixtures.js';

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

  it('reads the binary noise of a float computation at 15 significant digits', () => {
    // What files written before costs were exact hold, and their exact sum as `ls` printed it.
    const noisy = [0.00041000000000000005, 0.00026000000000000003, 0.00031999999999999997, 0.0007275000000000001];
    expect(noisy.map((v) => formatDecimal(parseDecimal(v)!))).toEqual(['0.00041', '0.00026', '0.00032', '0.0007275']);
    expect(sumDecimals(noisy)).toBe('0.0017175');
    // Legitimate digits are kept: 15 significant digits, and exponents.
    expect(formatDecimal(parseDecimal(0.000123456789012345)!)).toBe('0.000123456789012345');
    expect(formatDecimal(parseDecimal(1.2345678901234567e-9)!)).toBe('0.00000000123456789012346');
    expect(formatDecimal(parseDecimal(123456789)!)).toBe('123456789');
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

  it('gives as a float exactly what parsing its decimal text gives (the root span\'s total), small or huge, at any scale', () => {
    // Digits and a decimal point anywhere: scales past 22 and values past 2^53 take the text way, the rest the quotient.
    const decimal = fc.tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,25}$/), fc.nat({ max: 30 })).map(([negative, digits, point]) => {
      const at = Math.max(0, digits.length - point);
      const text = point === 0 ? digits : `${digits.slice(0, at) || '0'}.${digits.slice(at).padStart(point, '0')}`;
      return negative ? `-${text}` : text;
    });
    const value = fc.oneof(decimal, fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer());
    fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 6 }), (values) => {
      const sum = new DecimalSum();
      for (const v of values) sum.add(v);
      expect(sum.toNumber()).toBe(Number(sum.toString()));
    }), { numRuns: 3000 });
    const edge = new DecimalSum();
    edge.add('9007199254740993');
    expect(edge.toNumber()).toBe(Number('9007199254740993'));
    const tiny = new DecimalSum();
    tiny.add('0.0000000000000000000000123');
    expect(tiny.toNumber()).toBe(1.23e-23);
  });
});

describe('costs printed from files written with float noise', () => {
  it('ls prints the session cost without binary noise', async () => {
    const traces = makeTraceDir();
    try {
      const record = oursRecord({ sessionId: 'noisy', failSecond: false }) as { references: { cost_usd: unknown }[]; aggregator: { cost_usd: unknown } };
      record.references[0]!.cost_usd = 0.00041000000000000005;
      record.references[1]!.cost_usd = 0.00026000000000000003;
      record.aggregator.cost_usd = 0.0007275000000000001;
      traces.write('noisy.jsonl', `${JSON.stringify(record)}\n`);
      const cap = captureIo();
      expect(await runCli(['ls', '--dir', traces.dir], cap.io)).toBe(0);
      expect(cap.out).toContain('$0.0013975');
      expect(cap.out).not.toMatch(/\$0\.00139\d{5,}/);
    } finally {
      traces.cleanup();
    }
  });
});
