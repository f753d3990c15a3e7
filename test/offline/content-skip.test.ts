/** Message lists cut out of a line's bytes: the rest parses to the same record, whatever the content holds. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWithoutInputMessages } from '../../src/offline/content-skip.js';
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
      for await (const r of readInput({ file })) full.push(r.record);
      for await (const r of readInput({ file }, { skipContent: true })) skipped.push(r.record);
      expect(skipped.map((r) => r.references.map((c) => c.input_messages.length))).toEqual([[0, 0], [0, 0]]);
      expect(skipped).toEqual(full.map(emptied));
    } finally {
      dir.cleanup();
    }
  });
});
