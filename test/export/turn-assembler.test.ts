/**
 * The assembler keeps pending iterations under their root's span id alone
 * (the turn's spans all hand over that one string). Span ids are random, so
 * two traces can hold the same one: each iteration must still get exactly
 * its own calls, and eviction must remember the right trace.
 */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { TurnAssembler, type Iteration } from '../../src/export/turn-assembler.js';
import type { FinishedSpan } from '../../src/trace/span-data.js';

const SHARED_SPAN_ID = 'b7ad6b7169203331';
const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '1af7651916cd43dd8448eb211c80319c';

function span(traceId: string, spanId: string, parent?: SpanContext): FinishedSpan {
  const context: SpanContext = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: spanId, kind: 0, spanContext: () => context, parentSpanContext: parent, startTime: [0, 0], endTime: [0, 0],
    status: { code: 0 }, attributes: {}, links: [], events: [], duration: [0, 0], ended: true, resource: { attributes: {} },
    instrumentationScope: { name: 't' }, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
  };
}

/** A root and one call of it; the call's span id names its trace, so a mix-up shows. */
function turnOf(traceId: string, callId: string) {
  const root = span(traceId, SHARED_SPAN_ID);
  return { root, call: span(traceId, callId, root.spanContext()) };
}

const callIds = (iteration: Iteration | undefined) => iteration?.calls.map((c) => [c.span.spanContext().traceId, c.span.spanContext().spanId, c.ended]);

describe('TurnAssembler', () => {
  it('keeps two traces whose roots share a span id apart, whichever ends first', () => {
    for (const firstToEnd of ['a', 'b'] as const) {
      const assembler = new TurnAssembler({}, () => { throw new Error('nothing is evicted here'); });
      const a = turnOf(TRACE_A, 'aaaaaaaaaaaaaaaa');
      const b = turnOf(TRACE_B, 'bbbbbbbbbbbbbbbb');
      assembler.rootStarted(a.root);
      assembler.rootStarted(b.root);
      assembler.callStarted(b.call, TRACE_B, SHARED_SPAN_ID);
      assembler.callStarted(a.call, TRACE_A, SHARED_SPAN_ID);
      assembler.callEnded(a.call);
      assembler.callEnded(b.call);
      expect(assembler.size).toBe(2);
      const [first, second] = firstToEnd === 'a' ? [a, b] : [b, a];
      const one = assembler.rootEnded(first.root);
      // A third trace with the same span id arrives while the second waits under its joined key.
      const c = turnOf('2af7651916cd43dd8448eb211c80319c', 'cccccccccccccccc');
      assembler.rootStarted(c.root);
      assembler.callStarted(c.call, c.root.spanContext().traceId, SHARED_SPAN_ID);
      const two = assembler.rootEnded(second.root);
      const three = assembler.rootEnded(c.root);
      expect(one?.root).toBe(first.root);
      expect(callIds(one)).toEqual([[first.root.spanContext().traceId, first.call.spanContext().spanId, true]]);
      expect(two?.root).toBe(second.root);
      expect(callIds(two)).toEqual([[second.root.spanContext().traceId, second.call.spanContext().spanId, true]]);
      expect(callIds(three)).toEqual([[c.root.spanContext().traceId, 'cccccccccccccccc', false]]);
      expect(assembler.size).toBe(0);
    }
  });

  it('evicts by trace: the late root of an evicted turn is counted, the other trace with its span id is written whole', () => {
    const evicted: Iteration[] = [];
    let now = 0;
    const assembler = new TurnAssembler({ maxPendingMs: 1000 }, (iteration) => evicted.push(iteration), () => now);
    const a = turnOf(TRACE_A, 'aaaaaaaaaaaaaaaa');
    assembler.rootStarted(a.root);
    assembler.callStarted(a.call, TRACE_A, SHARED_SPAN_ID);
    now = 5000;
    // B's root arrives after A is too old: A leaves as partial, B takes the span id.
    const b = turnOf(TRACE_B, 'bbbbbbbbbbbbbbbb');
    assembler.rootStarted(b.root);
    expect(evicted.map((i) => i.root)).toEqual([a.root]);
    assembler.callEnded(a.call);
    expect(assembler.rootEnded(a.root)).toBeUndefined();
    expect(assembler.lateSpans).toBe(2);
    assembler.callStarted(b.call, TRACE_B, SHARED_SPAN_ID);
    assembler.callEnded(b.call);
    expect(callIds(assembler.rootEnded(b.root))).toEqual([[TRACE_B, 'bbbbbbbbbbbbbbbb', true]]);
    expect(assembler.size).toBe(0);
  });
});
