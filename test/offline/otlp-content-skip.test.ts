/**
 * OTLP lines read by commands that never look at message lists have the
 * `gen_ai.input.messages` values emptied before decoding: the rest of the
 * line must parse exactly as before, whatever the values hold.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWithoutInputMessageValues } from '../../src/offline/otlp-content-skip.js';
import { readInput } from '../../src/offline/inputs.js';
import { runCli } from '../../src/cli/main.js';
import { captureIo, oursRecord } from './fixtures.js';

const NASTY = ['plain', 'ends with a backslash \\', '\\"quoted\\"', '"key":"gen_ai.input.messages","value":{"stringValue":"', '\\\\', '日本語 😀 \u2028'];

function attribute(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

describe('OTLP lines without input message values', () => {
  it('parse as the whole line with those values emptied, and nothing else changed', () => {
    for (const nasty of NASTY) {
      const messages = JSON.stringify([{ role: 'user', content: nasty }]);
      const request = {
        resourceSpans: [{ scopeSpans: [{ spans: [{
          name: nasty,
          attributes: [attribute('gen_ai.input.messages', messages), attribute('other', nasty), attribute('gen_ai.output.messages', messages), attribute('gen_ai.input.messages', nasty)],
        }] }] }],
      };
      const line = Buffer.from(JSON.stringify(request));
      const expected = structuredClone(request);
      const attributes = expected.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes;
      attributes[0]!.value.stringValue = '';
      attributes[3]!.value.stringValue = '';
      expect(JSON.parse(decodeWithoutInputMessageValues(line))).toEqual(expected);
    }
    const untouched = Buffer.from('{"resourceSpans":[{"key":"gen_ai.input.messages","value":{"arrayValue":{}}}]}');
    expect(decodeWithoutInputMessageValues(untouched)).toBe(untouched.toString());
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
