/**
 * Live turn → JsonlTurnExporter file → reader → replay: the replayed spans
 * must be the live spans again (ids, parents, names, kinds, attributes,
 * links, times to the microsecond the file keeps).
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlTurnExporter } from '../../src/export/jsonl-exporter.js';
import { readTurnRecords, type RecordProblem } from '../../src/offline/reader.js';
import { replayRecord } from '../../src/offline/replay.js';
import { startMoaTurn } from '../../src/trace/instrumentation.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { makeTraceDir, type TraceDir } from './fixtures.js';

const hrMicros = ([s, ns]: [number, number]) => s * 1e6 + Math.round(ns / 1e3);

describe('round trip through the JSONL file', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('replays a recorded turn as the spans that were recorded', async () => {
    const memory = new InMemorySpanExporter();
    const jsonl = new JsonlTurnExporter({ traceDir: dir.dir });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory), new SimpleSpanProcessor(jsonl)] });
    const tracer = provider.getTracer('moa-otel');
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
    await provider.forceFlush();
    const live = [...memory.getFinishedSpans()]; // shutdown() empties the memory exporter
    await provider.shutdown();

    const problems: RecordProblem[] = [];
    const records = [];
    for await (const r of readTurnRecords(sessionFilePath(dir.dir, 'round/trip'), { onProblem: (p) => problems.push(p) })) records.push(r.record);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(1);
    const replayed = replayRecord(records[0]!, { resource: resourceFromAttributes({}), scope: { name: 'moa-otel' } });
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
      // call times come from started_at/ended_at (float seconds: microseconds survive)
      // the root's from ts and duration_ms (milliseconds), and it still spans its calls
      const tolerance = l.parentSpanContext ? 2 : 1000;
      expect(Math.abs(hrMicros(p.startTime) - hrMicros(l.startTime)), `${l.name} start`).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(hrMicros(p.endTime) - hrMicros(l.endTime)), `${l.name} end`).toBeLessThanOrEqual(tolerance);
    }
  });
  it('replays a turn whose aggregator failed as a failed turn, like the live root', async () => {
    const memory = new InMemorySpanExporter();
    const jsonl = new JsonlTurnExporter({ traceDir: dir.dir });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory), new SimpleSpanProcessor(jsonl)] });
    const messages = [{ role: 'user', content: 'hi' }];
    const turn = startMoaTurn({ sessionId: 'agg-fails', preset: 'p', tracer: provider.getTracer('moa-otel') });
    turn.startReference({ index: 0, model: 'm0', provider: 'openai', messages }).end({ output: 'advice', usage: { inputTokens: 5, outputTokens: 2 } });
    turn.startAggregator({ model: 'agg', provider: 'openai', messages, stream: true }).fail(new Error('upstream 500'));
    turn.end();
    await provider.forceFlush();
    const live = [...memory.getFinishedSpans()];
    await provider.shutdown();

    const records = [];
    for await (const r of readTurnRecords(sessionFilePath(dir.dir, 'agg-fails'))) records.push(r.record);
    const replayed = replayRecord(records[0]!, { resource: resourceFromAttributes({}), scope: { name: 'moa-otel' } });
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
