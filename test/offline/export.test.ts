import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { resolveConfig } from '../../src/config/load.js';
import { tracesUrl } from '../../src/offline/span-sink.js';
import { parseRecordLine } from '../../src/offline/reader.js';
import { replayRecord } from '../../src/offline/replay.js';
import { startMoaTurn } from '../../src/trace/instrumentation.js';
import { attr, startOtlpReceiver, type OtlpReceiver, type OtlpTraceRequest } from '../helpers/otlp-receiver.js';
import { captureIo, makeTraceDir, oursLine, oursRecord, PYTHON_LINES, type TraceDir } from './fixtures.js';

const CONTEXT = { resource: resourceFromAttributes({ 'service.name': 'test' }), scope: { name: 'moa-otel', version: '0.1.0' } };

describe('export: replay records as OTLP spans', () => {
  let dir: TraceDir;
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    dir = makeTraceDir();
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    dir.cleanup();
    await receiver.close();
  });

  it('sends the span tree of docs/ARCHITECTURE.md to <url>/v1/traces as OTLP, with the record ids and times', async () => {
    dir.write('sess-ours.jsonl', `${oursLine()}\n`);
    const cap = captureIo();
    const code = await runCli(['export', 'sess-ours', '--dir', dir.dir, '--otlp', receiver.url], cap.io);
    expect(cap.err).toBe('');
    expect(code).toBe(0);
    expect(cap.out).toMatch(/exported 1 turn \(4 spans\)/);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.contentType).toBe('application/x-protobuf'); // the OTLP default protocol
    expect(receiver.requests[0]?.path).toBe('/v1/traces');
    const spans = receiver.spans();
    expect(spans.map((s) => s.name)).toEqual(['invoke_workflow moa default: What is 2+2?', 'chat gpt-4o-mini', 'chat tiny', 'chat gpt-4o']);
    const [root, ref0, ref1, agg] = spans;
    if (!root || !ref0 || !ref1 || !agg) throw new Error('missing spans');
    const record = oursRecord();
    for (const s of spans) expect(s.traceId).toBe(record.trace_id);
    expect(root.spanId).toBe('4444444444444444');
    expect(root.parentSpanId ?? '').toBe('');
    expect([ref0.spanId, ref1.spanId, agg.spanId]).toEqual(['1111111111111111', '2222222222222222', '3333333333333333']);
    for (const child of [ref0, ref1, agg]) expect(child.parentSpanId).toBe(root.spanId);
    expect(root.kind).toBe(1); // INTERNAL (OTLP enum = SpanKind + 1)
    expect(agg.kind).toBe(3); // CLIENT
    expect(agg.links?.map((l) => l.spanId)).toEqual([ref0.spanId, ref1.spanId]);
    // times from started_at/ended_at (microsecond precision)
    expect(ref0.startTimeUnixNano).toBe(String(BigInt(Math.round(((record.ts as number) - 3) * 1e6)) * 1000n));
    // root: from its first call for duration_ms (2.9 s), not until ts (the later time of writing)
    expect(root.startTimeUnixNano).toBe(ref0.startTimeUnixNano);
    expect(root.endTimeUnixNano).toBe(String(BigInt(Math.round(((record.ts as number) - 0.1) * 1e6)) * 1000n));
    // attributes
    expect(attr(root, 'gen_ai.operation.name')).toBe('invoke_workflow');
    expect(attr(root, 'moa.reference.failed')).toBe(1);
    expect(attr(root, 'moa.usage.input_tokens')).toBe(100 + 50 + 300 + 7);
    expect(attr(root, 'moa.cost.usd')).toBeCloseTo(0.4, 12);
    expect(attr(ref0, 'gen_ai.usage.input_tokens')).toBe(150); // uncached 100 + cache read 50
    expect(attr(ref0, 'gen_ai.provider.name')).toBe('openai');
    expect(attr(ref0, 'moa.reference.index')).toBe(0);
    expect(JSON.parse(String(attr(ref0, 'gen_ai.input.messages')))[1]).toEqual({ role: 'user', parts: [{ type: 'text', content: 'What is 2+2?' }] });
    expect(ref1.status?.code).toBe(2);
    expect(attr(ref1, 'error.type')).toBe('_OTHER');
    expect(ref1.events?.[0]?.name).toBe('exception');
    expect(attr(agg, 'moa.aggregator.output_location')).toBe('inline');
  });

  it('derives the same ids on every export of a record without ids (original files)', async () => {
    const file = dir.write('héllo-wörld.jsonl', `${PYTHON_LINES.join('\n')}\n`);
    const first = await runCli(['export', file, '--otlp', receiver.url], captureIo().io);
    const firstSpans = receiver.spans().map((s) => [s.traceId, s.spanId, s.parentSpanId ?? '']);
    receiver.requests.length = 0;
    const second = await runCli(['export', file, '--otlp', `${receiver.url}/`], captureIo().io);
    const secondSpans = receiver.spans().map((s) => [s.traceId, s.spanId, s.parentSpanId ?? '']);
    expect([first, second]).toEqual([0, 0]);
    expect(firstSpans).toHaveLength(4 + 3);
    expect(secondSpans).toEqual(firstSpans);
    expect(new Set(firstSpans.map(([t]) => t)).size).toBe(2); // one trace per turn
    expect(new Set(firstSpans.map(([, s]) => s)).size).toBe(7);
    for (const [traceId, spanId] of firstSpans) {
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    }
    // string costs survive as numbers; the failed reference (cost "0") is an error span
    const spans = receiver.spans();
    expect(attr(spans[1] as never, 'moa.cost.usd')).toBe(0.00088653);
    expect(spans[2]?.status?.code).toBe(2);
    // synthesized times stay consistent: children inside the root, aggregator after the references
    const ns = (s: string) => BigInt(s);
    const [root, r0, r1, agg] = spans;
    if (!root || !r0 || !r1 || !agg) throw new Error('missing spans');
    for (const c of [r0, r1, agg]) {
      expect(ns(c.startTimeUnixNano) >= ns(root.startTimeUnixNano)).toBe(true);
      expect(ns(c.endTimeUnixNano) <= ns(root.endTimeUnixNano)).toBe(true);
    }
    expect(ns(agg.startTimeUnixNano) >= ns(r0.endTimeUnixNano)).toBe(true);
    expect(root.endTimeUnixNano).toBe('1763900000123456000');
  });

  it('writes OTLP JSON lines with --out, identical on a second run', async () => {
    const file = dir.write('s.jsonl', `${oursLine()}\n${PYTHON_LINES[0]}\n`);
    const out = path.join(dir.dir, 'out.otlp.jsonl');
    expect(await runCli(['export', file, '--out', out, '--json'], captureIo().io)).toBe(0);
    const once = readFileSync(out, 'utf8');
    expect(await runCli(['export', file, '--out', out], captureIo().io)).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(once);
    const lines = once.trim().split('\n').map((l) => JSON.parse(l) as OtlpTraceRequest);
    const spans = lines.flatMap((l) => l.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    expect(spans).toHaveLength(4 + 4);
    // The application's service by default, as the SDK names it, never a service called moa-otel.
    expect(lines[0]?.resourceSpans[0]?.resource?.attributes).toContainEqual({ key: 'service.name', value: { stringValue: expect.stringMatching(/^unknown_service:/) } });
  });

  it('fails with exit 1 and one line when the endpoint rejects the export', async () => {
    dir.write('s.jsonl', `${oursLine()}\n`);
    receiver.failWith(400);
    const cap = captureIo();
    expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', receiver.url], cap.io)).toBe(1);
    expect(cap.err.trim().split('\n')).toHaveLength(1);
    expect(cap.err).toMatch(/^moa-otel export: export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed/);
  });

  it('rejects bad destinations with exit 2', async () => {
    dir.write('s.jsonl', `${oursLine()}\n`);
    const both = captureIo();
    expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', receiver.url, '--out', 'x'], both.io)).toBe(2);
    expect(both.err).toMatch(/exactly one of --otlp URL or --out FILE/);
    const bad = captureIo();
    expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', 'ftp://x'], bad.io)).toBe(2);
  });

  it('derives the traces URL from a base URL as the OTEL_EXPORTER_OTLP_ENDPOINT variable does', () => {
    for (const base of ['http://h:4318', 'http://h:4318/', 'http://h:4318/v1/traces', 'https://h/collector//']) {
      const fromEnv = resolveConfig({}, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: base }, ignoreConfigFile: true }).otlp.endpoint;
      expect(tracesUrl(base), base).toBe(fromEnv);
      expect(fromEnv, base).toMatch(/^https?:\/\/h(:4318)?(\/collector)?\/v1\/traces$/);
    }
  });
});

describe('replayed spans match live spans', () => {
  it('has the names, kinds, attributes and links the live instrumentation produces', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('moa-otel');
    const r = oursRecord({ failSecond: true });
    const refs = r.references as Record<string, unknown>[];
    const agg = r.aggregator as Record<string, unknown>;
    const turn = startMoaTurn({ sessionId: 'sess-ours', preset: 'default', fanout: 'user_turn', cache: 'miss', iteration: 0, tracer });
    const r0 = turn.startReference({ index: 0, label: 'openai:gpt-4o-mini', model: 'gpt-4o-mini', provider: 'openai', temperature: 0.7, messages: refs[0]?.input_messages as never });
    const r1 = turn.startReference({ index: 1, label: 'local:tiny', model: 'tiny', provider: 'local', temperature: null, messages: refs[1]?.input_messages as never });
    r0.end({ output: 'Four, obviously.', usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, cacheWriteTokens: 0, reasoningTokens: 5 }, cost: { usd: 0.1, status: 'actual', source: 'provider' } });
    r1.fail(new Error('TimeoutError: reference timed out after 30000 ms'));
    const a = turn.startAggregator({ label: 'openai:gpt-4o', model: 'gpt-4o', provider: 'openai', temperature: 0.2, messages: agg.input_messages as never, stream: false });
    a.end({ output: 'The answer is 4.', usage: { inputTokens: 300, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 7, reasoningTokens: 0 }, cost: { usd: 0.3, status: 'estimated', source: 'genai-prices' }, finishReason: 'stop' });
    turn.end();
    await provider.forceFlush();
    const live = exporter.getFinishedSpans();
    const parsed = parseRecordLine(JSON.stringify(r));
    if (!parsed.ok) throw new Error(parsed.message);
    const replayed = replayRecord(parsed.record, CONTEXT);

    const byName = <T extends { name: string }>(spans: T[]): T[] => [...spans].sort((x, y) => x.name.localeCompare(y.name));
    const liveSorted = byName(live);
    const replaySorted = byName(replayed);
    expect(replaySorted.map((s) => [s.name, s.kind])).toEqual(liveSorted.map((s) => [s.name, s.kind]));
    for (let i = 0; i < liveSorted.length; i++) {
      const l = liveSorted[i] as (typeof live)[number];
      const p = replaySorted[i] as (typeof replayed)[number];
      const expected = { ...l.attributes };
      if (l.status.code === SpanStatusCode.ERROR) {
        // The record keeps the reason but not the exception class.
        expected['error.type'] = '_OTHER';
        expect(p.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TimeoutError: reference timed out after 30000 ms' });
      }
      expect(p.attributes, l.name).toEqual(expected);
      expect(p.links.length).toBe(l.links.length);
    }
    expect(replayed[0]?.kind).toBe(SpanKind.INTERNAL);
    await provider.shutdown();
  });
});
