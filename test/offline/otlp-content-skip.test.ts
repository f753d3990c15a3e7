/**
 * OTLP lines read by commands that never look at message lists have the
 * `gen_ai.input.messages` values emptied before decoding: the rest of the
 * line must parse exactly as before, whatever the values hold.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closingQuoteByte } from '../../src/offline/content-skip.js';
import { cutIndex, cutInputMessageValues, cutValue, isJsonStringBody } from '../../src/offline/otlp-content-skip.js';
import { utf8OfLatin1 } from '../../src/offline/otlp-json-spans.js';
import { readInput } from '../../src/offline/inputs.js';
import { runCli } from '../../src/cli/main.js';
import { captureIo, oursRecord } from './fixtures.js';

const NASTY = ['plain', 'ends with a backslash \\', '\\"quoted\\"', '"key":"gen_ai.input.messages","value":{"stringValue":"', '\\\\', '日本語 😀 \u2028'];

/** A value parsed from a cut line's text, every string (keys too) decoded from its bytes when the text was read as latin1. */
function readBack(value: unknown, latin1: boolean): unknown {
  if (!latin1) return value;
  if (typeof value === 'string') return utf8OfLatin1(value);
  if (Array.isArray(value)) return value.map((item) => readBack(item, latin1));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [utf8OfLatin1(k), readBack(v, latin1)]));
  return value;
}

function attribute(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

describe('OTLP lines without input message values', () => {
  it('parse as the whole line with those values replaced by markers, each of which gives its value back, and nothing else changed', () => {
    for (const nasty of NASTY) {
      const messages = JSON.stringify([{ role: 'user', content: nasty }]);
      const request = {
        resourceSpans: [{ scopeSpans: [{ spans: [{
          name: nasty,
          attributes: [attribute('gen_ai.input.messages', messages), attribute('other', nasty), attribute('gen_ai.output.messages', messages), attribute('gen_ai.input.messages', nasty)],
        }] }] }],
      };
      const line = Buffer.from(JSON.stringify(request));
      for (const check of [false, true]) {
        const cut = cutInputMessageValues(line, check);
        expect(cut).not.toBeNull();
        const parsed = readBack(JSON.parse(cut!.text), cut!.latin1) as typeof request;
        const attributes = parsed.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes;
        expect([cutIndex(attributes[0]!.value.stringValue), cutIndex(attributes[3]!.value.stringValue)]).toEqual([0, 1]);
        expect([cutValue(line, cut!, 0), cutValue(line, cut!, 1)]).toEqual([messages, nasty]);
        const expected = structuredClone(request);
        const want = expected.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes;
        want[0]!.value.stringValue = attributes[0]!.value.stringValue;
        want[3]!.value.stringValue = attributes[3]!.value.stringValue;
        expect(parsed).toEqual(expected);
        expect(cutIndex(nasty)).toBe(-1);
      }
    }
    const untouched = Buffer.from('{"resourceSpans":[{"key":"gen_ai.input.messages","value":{"arrayValue":{}}}]}');
    expect(cutInputMessageValues(untouched, true)!.text).toBe(untouched.toString());
  });

  it('checked, a value is vouched for exactly when JSON.parse accepts it as a string', () => {
    const bodies = [
      'plain', '\\\\"', '\\\\', '\\u00e9\\uD83D\\ude00', '\\/\\b\\f\\n\\r\\t', '日本語 😀 \u2028', '', // valid
      'raw\ttab', 'nul\u0000', 'esc\u001b', 'del\u007f', '\\x41', '\\u12', '\\u12G4', '\\\\\\q', '\\U0041', '\\\u0001', '\\\\\\', // some invalid
    ];
    for (const body of bodies) {
      const prefix = '{"key":"gen_ai.input.messages","value":{"stringValue":"';
      const bytes = Buffer.from(`${prefix}${body}"}}`);
      let valid = true;
      try {
        JSON.parse(`"${body}"`);
      } catch {
        valid = false;
      }
      const start = Buffer.byteLength(prefix);
      const end = closingQuoteByte(bytes, start);
      if (end !== bytes.length - 3) continue; // a body whose backslash escapes the closing quote is a torn value: not cut
      expect(isJsonStringBody(bytes, start, end), JSON.stringify(body)).toBe(valid);
      expect(cutInputMessageValues(bytes, true) !== null, JSON.stringify(body)).toBe(valid);
      expect(cutInputMessageValues(bytes, false)).not.toBeNull();
    }
  });

  it("checked, a value ends at its own closing quote, not at an escaped one, and one not closed as the exact form closes it is refused", () => {
    const prefix = '{"key":"gen_ai.input.messages","value":{"stringValue":"';
    // JSON text holding a nested object: its escaped `"}}` is no end.
    const inner = '[{\\"a\\":{\\"b\\":\\"c\\"}}]';
    const line = Buffer.from(`[${prefix}${inner}"}},${prefix}x"}}]`);
    const cut = cutInputMessageValues(line, true);
    expect(cut).not.toBeNull();
    expect([cutValue(line, cut!, 0), cutValue(line, cut!, 1)]).toEqual([JSON.parse(`"${inner}"`), 'x']);
    // Valid JSON, but another key follows the value: the caller reads such a line whole.
    const other = Buffer.from(`[${prefix}abc","x":1}}]`);
    expect(() => JSON.parse(other.toString())).not.toThrow();
    expect(cutInputMessageValues(other, true)).toBeNull();
    expect(cutInputMessageValues(other, false)!.starts).toHaveLength(1);
    // A value that never closes stays for the parser to report, checked or not.
    const torn = Buffer.from(`[${prefix}abc`);
    expect(cutInputMessageValues(torn, true)!.starts).toHaveLength(0);
  });

  it('an exported OTLP file reads to the same records with and without the skip, but for their message lists', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-otlp-skip-'));
    try {
      const jsonl = path.join(dir, 's.jsonl');
      writeFileSync(jsonl, `${[1, 2, 3].map((i) => JSON.stringify({ ...oursRecord({ ts: 1_764_000_000 + i, iteration: i }), trace_id: String(i).padStart(32, 'a') })).join('\n')}\n`);
      const otlp = path.join(dir, 's.otlp.json');
      expect(await runCli(['export', jsonl, '--out', otlp], captureIo().io)).toBe(0);
      const read = async (skipContent: boolean) => {
        const out = [];
        for await (const { record } of readInput({ file: otlp }, { skipContent })) out.push(record);
        return out;
      };
      const [whole, skipped] = [await read(false), await read(true)];
      expect(whole).toHaveLength(3);
      expect(whole[0]!.references[0]!.input_messages.length).toBeGreaterThan(0);
      const blank = (records: typeof whole) => records.map((r) => ({
        ...r, references: r.references.map((c) => ({ ...c, input_messages: [] })), aggregator: { ...r.aggregator, input_messages: [] },
      }));
      expect(blank(skipped)).toEqual(blank(whole));
      expect(skipped.every((r) => r.references.every((c) => c.input_messages.length === 0))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
