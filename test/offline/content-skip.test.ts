/** Message lists cut out of a line's bytes: the rest parses to the same record, whatever the content holds. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWithoutCheckedInputMessages, decodeWithoutInputMessages } from '../../src/offline/content-skip.js';
import { readInput } from '../../src/offline/inputs.js';
import { makeTraceDir } from './fixtures.js';
import { oursRecord, PYTHON_LINES } from './fixtures.js';

function emptied(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(emptied);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'input_messages' && Array.isArray(v) ? [] : emptied(v)]));
  }
  return value;
}

const cut = (text: string) => JSON.parse(decodeWithoutInputMessages(Buffer.from(text, 'utf8'))) as unknown;

describe('decodeWithoutInputMessages', () => {
  it('empties every input_messages list of both origins and keeps everything else', () => {
    for (const line of [JSON.stringify(oursRecord()), ...PYTHON_LINES]) expect(cut(line)).toEqual(emptied(JSON.parse(line)));
  });

  it('is not fooled by content: brackets, escaped quotes and backslashes, the key itself, non-ASCII', () => {
    fc.assert(fc.property(fc.array(fc.record({ role: fc.string(), content: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"input_messages": [', ']}]', '\\', '\\"', '"\\\\"')) })), fc.string({ unit: 'binary' }), (messages, output) => {
      const record = { ...oursRecord(), references: [{ label: 'x', input_messages: messages, output, nested: { input_messages: [[messages]] } }] };
      for (const text of [JSON.stringify(record), JSON.stringify(record, null, 1)]) expect(cut(text)).toEqual(emptied(record));
    }));
  });

  it('leaves a list that never closes for the parser to report', () => {
    const torn = '{"ts": 1, "references": [{"input_messages": [{"role": "user", "content": "cut';
    expect(decodeWithoutInputMessages(Buffer.from(torn))).toBe(torn);
  });
});

describe('readInput({ skipContent })', () => {
  it('hands out records of a session file with empty message lists, the rest unchanged', async () => {
    const dir = makeTraceDir();
    try {
      const file = dir.write('s.jsonl', `${JSON.stringify(oursRecord())}\n${PYTHON_LINES[0]}\n`);
      const full = [];
      const skipped = [];
      const forTurns = [];
      for await (const r of readInput({ file })) full.push(r.record);
      for await (const r of readInput({ file }, { skipContent: true })) skipped.push(r.record);
      for await (const r of readInput({ file }, { skipContent: 'turns' })) forTurns.push(r.record);
      expect(skipped.map((r) => r.references.map((c) => c.input_messages.length))).toEqual([[0, 0], [0, 0]]);
      expect(skipped).toEqual(full.map(emptied));
      // 'turns': as true when no iteration asked for tools (seed-tool-loop.test.ts has the case that does).
      expect(forTurns).toEqual(full.map(emptied));
    } finally {
      dir.cleanup();
    }
  });
});

describe('decodeWithoutCheckedInputMessages (validate)', () => {
  const wrap = (list: string) => `{"ts":1,"references":[{"label":"x","input_messages":${list},"output":"y"}]}`;
  const parses = (text: string) => { try { JSON.parse(text); return true; } catch { return false; } };

  it('cuts a valid list as the unchecked cut does, and says how deep it nests', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue()), fc.boolean(), (items, spaced) => {
      const list = spaced ? JSON.stringify(items, null, 1).replace(/\n/g, ' ') : JSON.stringify(items);
      const line = Buffer.from(wrap(list), 'utf8');
      const cut = decodeWithoutCheckedInputMessages(line, 1000);
      expect(cut?.text).toBe(decodeWithoutInputMessages(line));
      const depth = (v: unknown): number => (Array.isArray(v) ? 1 + Math.max(0, ...v.map(depth)) : v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);
      expect(cut?.depth).toBe(depth(items));
    }));
  });

  it('never vouches for a list JSON.parse refuses', () => {
    const broken = [
      '[1,]', '[,1]', '[1 2]', '[01]', '[1.]', '[.5]', '[1e]', '[-]', '[+1]', '["a\u0001b"]', '["\\x"]', '["\\u12G4"]', '[tru]', '[nul]',
      '[{"a" 1}]', '[{"a":1,}]', '[{1:2}]', '[{"a":1 "b":2}]', '[[1]', '[{"a":[}]]', "['a']", '[NaN]', '[Infinity]', '[undefined]',
    ];
    for (const list of broken) {
      expect(parses(list), list).toBe(false);
      expect(decodeWithoutCheckedInputMessages(Buffer.from(wrap(list)), 1000), list).toBeNull();
    }
    // Random damage to valid lists: a byte dropped, replaced or doubled.
    fc.assert(fc.property(fc.array(fc.jsonValue(), { minLength: 1 }), fc.nat(), fc.constantFrom(...'[]{}",:\\0e-. \u0001tn'), fc.constantFrom('drop', 'replace', 'insert'), (items, at, char, damage) => {
      const list = JSON.stringify(items);
      const i = at % list.length;
      const damaged = damage === 'drop' ? list.slice(0, i) + list.slice(i + 1) : damage === 'replace' ? list.slice(0, i) + char + list.slice(i + 1) : list.slice(0, i) + char + list.slice(i);
      const cut = decodeWithoutCheckedInputMessages(Buffer.from(wrap(damaged)), 1000);
      // A cut is only made for a list that parses; the rest of the line must parse as before too.
      if (cut !== null && parses(cut.text)) expect(parses(wrap(damaged))).toBe(true);
    }), { numRuns: 2000 });
  });

  it('refuses lists nested deeper than asked', () => {
    expect(decodeWithoutCheckedInputMessages(Buffer.from(wrap('[[[[1]]]]')), 3)).toBeNull();
    expect(decodeWithoutCheckedInputMessages(Buffer.from(wrap('[[[[1]]]]')), 4)?.depth).toBe(4);
  });
});

describe('validate reads message lists without decoding them and reports what a full read reports', () => {
  it('the same problems, word for word, and the same records with empty lists', async () => {
    const good = JSON.stringify(oursRecord());
    const lines = [
      good,
      good.replace('"content":"You advise."', '"content":"You \u0001 advise."'),
      good.replace('"content":"What is 2+2?"}]', '"content":"What is 2+2?"},]'),
      good.replace('"input_messages":[', '"input_messages":[[[[[[[[[[').replace('"output":"Four', ']]]]]]]]]],"output":"Four'),
      good.replace('"preset":"default"', '"preset":7'),
      good.slice(0, 200),
      `${'{"a":'.repeat(1200)}1${'}'.repeat(1200)}`,
      good.replace('"input_messages":[', `"input_messages":[${'['.repeat(995)}`).replace('],"output":"Four', `${']'.repeat(995)}],"output":"Four`),
      PYTHON_LINES[0],
      '',
      good,
    ];
    const dir = makeTraceDir();
    try {
      const file = dir.write('s.jsonl', `${lines.join('\n')}\n${good.slice(0, 300)}`);
      const read = async (skipContent: boolean | 'checked') => {
        const problems: unknown[] = [];
        const records: [number, unknown][] = [];
        for await (const r of readInput({ file }, { skipContent, onProblem: (p) => problems.push(p) })) records.push([r.line, r.record]);
        return { problems, records };
      };
      const full = await read(false);
      const checked = await read('checked');
      expect(full.problems.length).toBeGreaterThanOrEqual(6);
      expect(checked.problems).toEqual(full.problems);
      // Lines read whole after all (nesting near the limit) keep their lists: validate reads none of them.
      const lists = (records: [number, unknown][]) => records.map(([line, record]) => [line, emptied(record)]);
      expect(lists(checked.records)).toEqual(lists(full.records));
    } finally {
      dir.cleanup();
    }
  });
});
