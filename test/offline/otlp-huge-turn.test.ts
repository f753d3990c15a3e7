/**
 * A turn read from OTLP JSON whose root never arrived, with 150,000 call
 * spans: it is rebuilt as one partial record. Its end time used to be taken by
 * spreading every call's end as an argument (`Math.max(0, ...ends)`), which
 * overflowed the stack.
 */
import { describe, expect, it } from 'vitest';
import { SpanTurnDecoder } from '../../src/offline/otlp-turns.js';
import type { RecordProblem } from '../../src/offline/reader.js';

const CALLS = 150_000;
const TRACE = '1'.padStart(32, '0');
const ROOT = 'b'.repeat(16);

function call(i: number) {
  return {
    traceId: TRACE, spanId: (0x1000000000000 + i).toString(16).padStart(16, '0'), parentSpanId: ROOT, name: 'chat m',
    startTimeUnixNano: `${1_000_000_000 + i}`, endTimeUnixNano: `${2_000_000_000 + i}`,
    attributes: [{ key: 'moa.role', value: { stringValue: 'reference' } }, { key: 'moa.reference.index', value: { intValue: `${i}` } }, { key: 'gen_ai.request.model', value: { stringValue: 'm' } }],
  };
}

describe('an OTLP turn with 150,000 calls and no root', () => {
  it('is rebuilt as one partial record holding every call', () => {
    const problems: RecordProblem[] = [];
    const decoder = new SpanTurnDecoder({ file: 'f', onProblem: (p) => problems.push(p) });
    const spans = Array.from({ length: CALLS }, (_, i) => call(i));
    const line = { bytes: Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] })), endOffset: 0 };
    expect(decoder.decode(line, false)).toEqual([]);
    const out = decoder.finish();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ partial: true, record: { partial: true, partial_reason: 'root span missing' } });
    expect(out[0]!.record.references).toHaveLength(CALLS);
    expect(problems.map((p) => p.kind)).toEqual(['partial']);
    // About 3 s alone, 28 s in a full run on two busy cores: the count cannot shrink (the spread
    // overflowed only beyond about 125,000 arguments), so the bound has room for a loaded machine.
  }, 180_000);
});
