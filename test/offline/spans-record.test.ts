/**
 * A record rebuilt from OTLP spans is taken straight from the spans: the
 * value must be exactly what writing the JSONL line for those spans and
 * parsing it back gave (the way the reader used to get it), key order
 * included, on hostile content.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { encodeLine, RawSlots } from '../../src/export/json-line.js';
import { buildTurnRecord, isMoaRoot } from '../../src/export/turn-record.js';
import { CAPTURE_ALL } from '../../src/trace/content-policy.js';
import { replayRecord } from '../../src/offline/replay.js';
import { parseRecordLine } from '../../src/offline/reader.js';
import { recordValueOfSpans } from '../../src/offline/spans-record.js';
import type { TurnRecord } from '../../src/record/schema.js';
import { oursRecord } from './fixtures.js';

const CONTEXT = { resource: resourceFromAttributes({ 'service.name': 'test' }), scope: { name: 'moa-otel', version: '0.1.0' } };
const NOW = 1_764_000_123_000;

function iterationOf(record: Record<string, unknown>) {
  const parsed = parseRecordLine(JSON.stringify(record));
  if (!parsed.ok) throw new Error(parsed.message);
  const spans = replayRecord(parsed.record as TurnRecord, CONTEXT);
  const root = spans.find((s) => isMoaRoot(s));
  const calls = spans.filter((s) => s !== root).map((span) => ({ span, ended: true }));
  return { root, rootEnded: root !== undefined, calls, firstSeenAt: 0 };
}

/** What the reader did before: write the line for the spans, parse it back. */
function throughLine(iteration: ReturnType<typeof iterationOf>): unknown {
  const slots = new RawSlots();
  const record = buildTurnRecord(iteration, { slots, policy: CAPTURE_ALL, now: NOW });
  const encoded = encodeLine(record, slots);
  return JSON.parse(Buffer.concat(encoded.chunks, encoded.byteLength).toString('utf8'));
}

function hostile(variant: number): Record<string, unknown> {
  const r = oursRecord({ iteration: variant % 3, failSecond: variant % 2 === 0 });
  const refs = r.references as Record<string, unknown>[];
  const agg = r.aggregator as Record<string, unknown>;
  const weird = ['\u2028\u2029', '\ud800 lone', 'nul \u0000 here', '"quotes" and \\ slashes', '日本語 😀', `x${'y'.repeat(5000)}`][variant % 6] as string;
  refs[0]!.output = weird;
  refs[0]!.input_messages = [{ role: 'user', content: [{ type: 'text', text: weird }], name: weird, extra: { n: -0, big: 12345678901234567890, nested: [[[{ a: null }]]] } }];
  refs[0]!.cost_usd = ['0.00012345678901234567', 1e-7, 0.1, '12.5'][variant % 4];
  agg.tool_calls = variant % 2 ? [{ id: 'c1', type: 'function', function: { name: 'search', arguments: `{"q":${JSON.stringify(weird)}}` } }] : null;
  agg.finish_reason = variant % 2 ? 'tool_calls' : 'stop';
  return r;
}

describe('records from spans', () => {
  it('equal the parsed JSONL line of the same spans, key order included', () => {
    for (let variant = 0; variant < 24; variant++) {
      const iteration = iterationOf(hostile(variant));
      const direct = recordValueOfSpans(iteration, NOW);
      const viaLine = throughLine(iteration);
      expect(direct).toEqual(viaLine);
      expect(JSON.stringify(direct)).toBe(JSON.stringify(viaLine));
    }
  });

  it('message lists nested past what a writer keeps come out as the line had them', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1200; i++) deep = [deep];
    const iteration = iterationOf(oursRecord());
    const reference = iteration.calls.find((c) => c.span.attributes['moa.role'] === 'reference')!;
    (reference.span.attributes as Record<string, unknown>)['gen_ai.input.messages'] = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hi' }], deep }]);
    const direct = recordValueOfSpans(iteration, NOW);
    expect(JSON.stringify(direct)).toBe(JSON.stringify(throughLine(iteration)));
  });
});
