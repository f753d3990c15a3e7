/** The hand-written record check returns what the schema returns, down to key order, or leaves the value to the schema. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/offline/reader.js';
import { recordAsIs } from '../../src/offline/record-shape.js';
import { turnRecordSchema } from '../../src/record/schema.js';
import { oursRecord, PYTHON_LINES } from './fixtures.js';

type Json = Record<string, unknown>;

/** What the reader did before the fast check: the schema alone, its copy of the value. */
function schemaOnly(value: unknown): string | null {
  const parsed = turnRecordSchema.safeParse(value);
  return parsed.success ? JSON.stringify(parsed.data) : null;
}

/** Whether the check's answer is safe for this value: a record only when the schema returns the same one, and the value untouched. */
function agrees(value: unknown): { sure: boolean } {
  const before = JSON.stringify(value);
  const fast = recordAsIs(value);
  expect(JSON.stringify(value)).toBe(before);
  if (fast !== null) expect(JSON.stringify(fast)).toBe(schemaOnly(value));
  return { sure: fast !== null };
}

const BASES: Json[] = [
  oursRecord(),
  oursRecord({ sessionId: null, failSecond: false }),
  ...PYTHON_LINES.map((line) => JSON.parse(line) as Json),
];

const ODD_VALUES: unknown[] = [null, 0, -1.5, 1e308, '', 'x', '0.001', '1e-7', '-3', 'abc', '1.', true, false, [], [1], {}, { a: 1 }];

/** Every object inside a record, with where it sits (so a mutation can be made anywhere). */
function objectsOf(value: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const item of value) objectsOf(item, out);
  else if (value !== null && typeof value === 'object') {
    out.push(value as Json);
    for (const item of Object.values(value)) objectsOf(item, out);
  }
  return out;
}

describe('recordAsIs', () => {
  it('takes the records both writers write as they are', () => {
    for (const base of BASES) expect(agrees(base).sure).toBe(true);
    // Python's key order is the schema's: its records come back as they are, no copy.
    for (const line of PYTHON_LINES) {
      const value = JSON.parse(line) as unknown;
      expect(recordAsIs(value)).toBe(value);
    }
  });

  it('agrees with the schema on values mutated anywhere: replaced, removed, added, reordered keys', () => {
    let sure = 0;
    let runs = 0;
    fc.assert(fc.property(
      fc.nat(BASES.length - 1), fc.nat(), fc.nat(), fc.constantFrom('replace', 'remove', 'add-first', 'add-last', 'move-first', 'move-last'), fc.nat(ODD_VALUES.length - 1),
      (baseIndex, objectPick, keyPick, mutation, valuePick) => {
        const record = structuredClone(BASES[baseIndex]) as Json;
        const objects = objectsOf(record);
        const target = objects[objectPick % objects.length] as Json;
        const keys = Object.keys(target);
        const key = keys[keyPick % Math.max(1, keys.length)];
        const value = ODD_VALUES[valuePick];
        const entries = Object.entries(target);
        for (const k of keys) delete target[k];
        const put = (list: [string, unknown][]) => { for (const [k, v] of list) target[k] = v; };
        if (mutation === 'replace' && key !== undefined) put(entries.map(([k, v]) => [k, k === key ? value : v]));
        else if (mutation === 'remove') put(entries.filter(([k]) => k !== key));
        else if (mutation === 'add-first') put([['extra_key', value], ...entries]);
        else if (mutation === 'add-last') put([...entries, ['extra_key', value]]);
        else if (mutation === 'move-first') put([...entries.filter(([k]) => k === key), ...entries.filter(([k]) => k !== key)]);
        else put([...entries.filter(([k]) => k !== key), ...entries.filter(([k]) => k === key)]);
        // Through JSON text, as the reader sees it.
        runs += 1;
        if (agrees(JSON.parse(JSON.stringify(record))).sure) sure += 1;
      },
    ), { numRuns: 3000 });
    // Both answers were exercised: many variants are still records (extra keys, moved keys), many are not.
    expect(sure).toBeGreaterThan(runs / 5);
    expect(sure).toBeLessThan(runs);
  });

  it('leaves to the schema what it changes or refuses: numeric session ids, __proto__ keys, numbers JSON turns into Infinity', () => {
    const text = JSON.stringify(oursRecord());
    for (const variant of [
      text.replace('"session_id":"sess-ours"', '"session_id":42'),
      text.replace('"preset":"default"', '"preset":"default","__proto__":{"x":1}'),
      text.replace('"ts":1764000000.5', '"ts":1e999'),
      text.replace('"input_tokens":100', '"input_tokens":-1e999'),
    ]) {
      const value = JSON.parse(variant) as unknown;
      expect(recordAsIs(value)).toBeNull();
      // The reader's answer is the schema's: a numeric id read as its text, the others as before.
      const read = parseRecordLine(variant);
      const schema = turnRecordSchema.safeParse(value);
      expect(read.ok).toBe(schema.success);
      if (read.ok && schema.success) expect(JSON.stringify(read.record)).toBe(JSON.stringify(schema.data));
    }
    const numeric = parseRecordLine(text.replace('"session_id":"sess-ours"', '"session_id":42'));
    expect(numeric.ok && numeric.record.session_id).toBe('42');
  });
});
