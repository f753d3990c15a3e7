/**
 * Live turn → JsonlTurnExporter file → reader → replay: the replayed spans
 * must be the live spans again (ids, parents, names, kinds, attributes,
 * links, times to the microsecond the file keeps, the root's included).
 */
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlTurnExporter } from '../../src/export/jsonl-exporter.js';
import { readTurnRecords, type RecordProblem } from '../../src/offline/reader.js';
import { replayRecord } from '../../src/offline/replay.js';
import type { TurnRecord } from '../../src/record/schema.js';
import { startMoaTurn } from '../../src/trace/instrumentation.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { makeTraceDir, type TraceDir } from './fixtures.js';

const hrMicros = ([s, ns]: [number, number]) => s * 1e6 + Math.round(ns / 1e3);
const CONTEXT = { resource: resourceFromAttributes({}), scope: { name: 'moa-otel' } };

/** Runs `drive` on a provider that keeps the live spans and writes the session file; returns both sides. */
async function recordLive(dir: string, sessionId: string, drive: (tracer: Tracer) => Promise<void> | void) {
  const memory = new InMemorySpanExporter();
  const jsonl = new JsonlTurnExporter({ traceDir: dir });
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory), new SimpleSpanProcessor(jsonl)] });
  await drive(provider.getTracer('moa-otel'));
  await provider.forceFlush();
  const live = [...memory.getFinishedSpans()]; // shutdown() empties the memory exporter
  await provider.shutdown();
  const problems: RecordProblem[] = [];
  const records: TurnRecord[] = [];
  for await (const r of readTurnRecords(sessionFilePath(dir, sessionId), { onProblem: (p) => problems.push(p) })) records.push(r.record);
  return { live, records, problems };
}

describe('round trip through the JSONL file', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('replays a recorded turn as the spans that were recorded', async () => {
    const { live, records, problems } = await recordLive(dir.dir, 'round/trip', async (tracer) => {
      const messages = [{ role: 'system', content: 'Advise.' }, { role: 'user', content: 'Zähle bis 3 — 日本' }];
      const turn = startMoaTurn({ sessionId: 'round/trip', preset: 'p', fanout: 'user_turn', cache: 'miss', iteration: 3, tracer });
      const r0 = turn.startReference({ index: 0, model: 'm0', provider: 'openai', temperature: 0.5, messages });
      const r1 = turn.startReference({ index: 1, model: 'm1', provider: 'local', messages });
      await new Promise((r) => setTimeout(r, 5));
      r0.end({ output: 'eins zwei drei', usage: { inputTokens: 10, outputTokens: 3, cacheReadTokens: 4, cacheWriteTokens: 1, reasoningTokens: 1 }, cost: { usd: '0.00088653', status: 'actual', source: 'provider' } });
      r1.fail(new Error('boom'));
      const agg = turn.startAggregator({ model: 'agg', provider: 'openai', messages: [...messages, { role: 'user', content: 'guidance' }], stream: true });
      agg.firstChunk();
      agg.end({ output: '1, 2, 3', usage: { inputTokens: 20, outputTokens: 6 }, cost: { usd: 0.002, status: 'estimated', source: 'genai-prices' }, finishReason: 'stop' });
      turn.end();
    });
    expect(problems).toEqual([]);
    expect(records).toHaveLength(1);
    const replayed = replayRecord(records[0]!, CONTEXT);
    const key = (s: { spanContext(): { spanId: string } }) => s.spanContext().spanId;
    const liveById = new Map(live.map((s) => [key(s), s]));
    expect(replayed.map(key).sort()).toEqual([...liveById.keys()].sort());
    for (const p of replayed) {
      const l = liveById.get(key(p))!;
      expect(p.spanContext().traceId).toBe(l.spanContext().traceId);
      expect(p.parentSpanContext?.spanId).toBe(l.parentSpanContext?.spanId);
      expect([p.name, p.kind]).toEqual([l.name, l.kind]);
      const expected = { ...l.attributes };
      // Not kept by the file: the exception class, and the stream's time to first chunk.
      if (l.status.code === SpanStatusCode.ERROR) expected['error.type'] = '_OTHER';
      delete expected['gen_ai.response.time_to_first_chunk'];
      expect(p.attributes, l.name).toEqual(expected);
      expect(p.status.code).toBe(l.status.code);
      expect(p.links.map((x) => x.context.spanId)).toEqual(l.links.map((x) => x.context.spanId));
      // Every span's times come from its started_at (float seconds: microseconds
      // survive) and duration_ms (kept to the microsecond); ts plays no part.
      expect(Math.abs(hrMicros(p.startTime) - hrMicros(l.startTime)), `${l.name} start`).toBeLessThanOrEqual(2);
      expect(Math.abs(hrMicros(p.endTime) - hrMicros(l.endTime)), `${l.name} end`).toBeLessThanOrEqual(2);
    }
  });

  it('replays the root from its recorded start, not from its first call', async () => {
    const { live, records } = await recordLive(dir.dir, 'slow-start', async (tracer) => {
      const messages = [{ role: 'user', content: 'hi' }];
      const turn = startMoaTurn({ sessionId: 'slow-start', preset: 'p', tracer });
      // The turn does other work (a cache lookup, say) before its first call.
      await new Promise((r) => setTimeout(r, 30));
      turn.startReference({ index: 0, model: 'm0', provider: 'openai', messages }).end({ output: 'advice', usage: { inputTokens: 5, outputTokens: 2 } });
      turn.startAggregator({ model: 'agg', provider: 'openai', messages, stream: false }).end({ output: 'answer', usage: { inputTokens: 7, outputTokens: 3 } });
      turn.end();
    });
    const liveRoot = live.find((s) => !s.parentSpanContext)!;
    const record = records[0]!;
    // An extension: after the original keys.
    expect(Object.keys(record).indexOf('started_at')).toBeGreaterThan(Object.keys(record).indexOf('aggregator'));
    const [root] = replayRecord(record, CONTEXT);
    expect(Math.abs(hrMicros(root!.startTime) - hrMicros(liveRoot.startTime))).toBeLessThanOrEqual(2);
    expect(Math.abs(hrMicros(root!.endTime) - hrMicros(liveRoot.endTime))).toBeLessThanOrEqual(2);

    // A record written before started_at existed: the root starts with its first call.
    const { started_at: _dropped, ...older } = record;
    const [olderRoot] = replayRecord(older, CONTEXT);
    expect(hrMicros(olderRoot!.startTime)).toBe(Math.round((record.references[0]!.started_at as number) * 1e6));
  });

  it('replays a turn whose aggregator failed as a failed turn, like the live root', async () => {
    const { live, records } = await recordLive(dir.dir, 'agg-fails', (tracer) => {
      const messages = [{ role: 'user', content: 'hi' }];
      const turn = startMoaTurn({ sessionId: 'agg-fails', preset: 'p', tracer });
      turn.startReference({ index: 0, model: 'm0', provider: 'openai', messages }).end({ output: 'advice', usage: { inputTokens: 5, outputTokens: 2 } });
      turn.startAggregator({ model: 'agg', provider: 'openai', messages, stream: true }).fail(new Error('upstream 500'));
      turn.end();
    });
    const replayed = replayRecord(records[0]!, CONTEXT);
    const liveById = new Map(live.map((s) => [s.spanContext().spanId, s]));
    for (const p of replayed) {
      const l = liveById.get(p.spanContext().spanId)!;
      expect(p.status, l.name).toEqual(l.status);
      const expected = { ...l.attributes };
      if (l.status.code === SpanStatusCode.ERROR) expected['error.type'] = '_OTHER';
      expect(p.attributes, l.name).toEqual(expected);
    }
    expect(replayed[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });
});
