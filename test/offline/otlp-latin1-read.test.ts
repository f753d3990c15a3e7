/**
 * A cut OTLP line is read as latin1 when that reads back exactly (no `\u`
 * escape of a character above U+007F in it), every string then decoded from
 * its bytes: the spans must be the ones parsing the line as UTF-8 gives,
 * whatever the strings hold — scripts, emoji, escapes next to multi-byte
 * characters, invalid UTF-8, maps and arrays of strings.
 */
import { describe, expect, it } from 'vitest';
import { cutInputMessageValues } from '../../src/offline/otlp-content-skip.js';
import { spansOfRequest, utf8OfLatin1 } from '../../src/offline/otlp-json-spans.js';
import type { FinishedSpan } from '../../src/trace/span-data.js';

const TEXTS = ['日本語 — Zähle', '😀 emoji', 'quote " and \\ backslash\nnewline', 'ÿ\u0080\u00a0 latin1 range', '\u2028\u2029', 'plain'];

function line(text: string, extra = ''): Buffer {
  const request = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc ${text}` } }] },
      scopeSpans: [{
        scope: { name: `scope ${text}`, version: '1' },
        spans: [{
          traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: 'c'.repeat(16), name: `chat ${text}`, kind: 3,
          startTimeUnixNano: '1764000000123456789', endTimeUnixNano: '1764000001000000000',
          status: { code: 2, message: `failed: ${text}` },
          events: [{ name: `event ${text}`, timeUnixNano: '1764000000500000000', attributes: [{ key: 'k', value: { stringValue: text } }] }],
          attributes: [
            { key: 'moa.role', value: { stringValue: 'reference' } },
            { key: 'gen_ai.input.messages', value: { stringValue: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: text }] }]) } },
            { key: 'gen_ai.request.model', value: { stringValue: `model ${text}` } },
            { key: `key ${text}`, value: { stringValue: text } },
            { key: 'list', value: { arrayValue: { values: [{ stringValue: text }, { stringValue: 'b' }] } } },
            { key: 'map', value: { kvlistValue: { values: [{ key: `k ${text}`, value: { stringValue: text } }] } } },
            { key: 'n', value: { intValue: '42' } },
          ],
        }],
      }],
    }],
  };
  const json = JSON.stringify(request);
  return Buffer.from(extra === '' ? json : json.replace('"plain-slot"', extra));
}

/** What a span holds, as plain data (its context is a function). */
function plain(span: FinishedSpan) {
  const { spanContext, ...rest } = span;
  return { ...rest, context: spanContext() };
}

/** The spans of a line read whole as UTF-8, and as the cut reader reads them (input messages left out of both). */
function bothReads(bytes: Buffer) {
  const whole = spansOfRequest(JSON.parse(bytes.toString('utf8'))).map(plain);
  const cut = cutInputMessageValues(bytes, false);
  expect(cut).not.toBeNull();
  const read = spansOfRequest(JSON.parse(cut!.text), cut!.latin1 ? utf8OfLatin1 : undefined).map(plain);
  for (const span of [...whole, ...read]) delete (span.attributes as Record<string, unknown>)['gen_ai.input.messages'];
  return { whole, read, latin1: cut!.latin1 };
}

describe('a cut OTLP line read as latin1', () => {
  it('gives the spans a UTF-8 read gives, for text in any script', () => {
    for (const text of TEXTS) {
      const { whole, read, latin1 } = bothReads(line(text));
      expect(read, text).toEqual(whole);
      // Raw non-ASCII is read as latin1; ASCII-only lines are ASCII either way.
      expect(latin1, text).toBe(/[^\x00-\x7f]/.test(text));
    }
  });

  it('gives the same replacement characters for invalid UTF-8 (cut short, lone, around escapes)', () => {
    const base = line('plain-slot');
    const at = base.indexOf('plain-slot');
    const cases = [
      Buffer.from([0xe6, 0x97]), // a character cut short, then the string's end
      Buffer.from([0xff, 0x41, 0xc3]), // a byte no UTF-8 has; a lead byte alone
      Buffer.concat([Buffer.from([0xe6, 0x97]), Buffer.from('\\n'), Buffer.from([0xa5])]), // an escape inside a character
      Buffer.concat([Buffer.from('é'), Buffer.from('\\u0041\\u007f')]), // ASCII escapes beside raw non-ASCII
    ];
    for (const inserted of cases) {
      const bytes = Buffer.concat([base.subarray(0, at), inserted, base.subarray(at + 'plain-slot'.length)]);
      const { whole, read, latin1 } = bothReads(bytes);
      expect(latin1).toBe(true);
      expect(read, inserted.toString('hex')).toEqual(whole);
    }
  });

  it('is not used when an escape stands for a character above U+007F (it would read as a byte): UTF-8 then', () => {
    for (const escape of ['\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\u2028']) {
      const base = line('日本 plain-slot');
      const at = base.indexOf('plain-slot');
      const bytes = Buffer.concat([base.subarray(0, at), Buffer.from(escape), base.subarray(at + 'plain-slot'.length)]);
      const { whole, read, latin1 } = bothReads(bytes);
      expect(latin1, escape).toBe(false);
      expect(read, escape).toEqual(whole);
    }
  });
});
