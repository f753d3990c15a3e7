/**
 * Faults on the OTLP path never cost the JSONL file a turn, and the OTLP path
 * recovers: a collector that is down, one that starts later, and one that
 * answers 503 before it recovers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, MoaTracing } from '../../src/index.js';
import { expectTurnMatchesRecord } from './support/assert-turn.js';
import { collectorFileSpans, jaegerTraceSpans, waitForFileSpans, waitForJaegerSpans } from './support/backends.js';
import { readTurnRecords, recordScriptedTurn, recordSpanIds, runDemo, sessionFiles, setupTestTracing, type ScriptedCall } from './support/moa.js';
import { freePort } from './support/processes.js';
import { startCollector, startJaeger, type Jaeger } from './support/stack.js';

function scriptedTurn(tag: string): { references: ScriptedCall[]; aggregator: ScriptedCall } {
  const messages = (who: string): ChatMessage[] => [
    { role: 'system', content: `advisory prompt for ${who}` },
    { role: 'user', content: `question ${tag}` },
  ];
  return {
    references: [
      { model: 'ref-a', provider: 'scripted', messages: messages('a'), output: `advice a ${tag}` },
      { model: 'ref-b', provider: 'scripted', messages: messages('b'), output: `advice b ${tag}` },
    ],
    aggregator: { model: 'agg', provider: 'scripted', messages: [...messages('agg'), { role: 'user', content: 'guidance block' }], output: `answer ${tag}` },
  };
}

describe('OTLP faults', () => {
  let work: string;
  let jaeger: Jaeger;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-faults-'));
    jaeger = await startJaeger(work);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await jaeger?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('collector down: the demo finishes, says the export failed (exit 1), and its JSONL file is complete', async () => {
    const deadPort = await freePort();
    const demo = await runDemo({ dir: join(work, 'demo-traces'), otlpUrl: `http://127.0.0.1:${deadPort}`, home: join(work, 'home-demo') });
    expect(demo.exitCode).toBe(1);
    expect(demo.stderr).toMatch(/OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed for \d+ of \d+ spans/);
    expect(demo.otlp?.exportedSpans).toBe(0);
    const records = await readTurnRecords(demo.sessionFile);
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.length).toBe(demo.records);
    for (const record of records) {
      expect(record.references.length).toBeGreaterThanOrEqual(2);
      expect(record.aggregator.input_messages.length).toBeGreaterThan(0);
      // An answer: text, or the tool calls of a tool-loop iteration.
      expect(typeof record.aggregator.output === 'string' || (record.aggregator.tool_calls?.length ?? 0) > 0).toBe(true);
    }
  });

  it('collector down, then started: turns finish, the JSONL file is complete, and later turns arrive', async () => {
    const port = await freePort();
    const dir = join(work, 'late-traces');
    const tracing: MoaTracing = setupTestTracing({ dir, home: join(work, 'home-late'), otlpUrl: `http://127.0.0.1:${port}` });
    cleanups.push(() => tracing.shutdown());

    const early = scriptedTurn('early');
    expect(() => recordScriptedTurn(tracing, { sessionId: 'late-collector', preset: 'p', ...early })).not.toThrow();
    await tracing.forceFlush(); // the export fails (connection refused); the flush still settles
    const [file] = await sessionFiles(dir);
    if (!file) throw new Error('no JSONL file written');
    const first = await readTurnRecords(file);
    expect(first).toHaveLength(1);
    expect(first[0]?.references.map((r) => r.input_messages)).toEqual(early.references.map((r) => r.messages));
    expect(first[0]?.aggregator.output).toBe('answer early');

    const collector = await startCollector(work, { jaegerOtlpGrpcEndpoint: jaeger.otlpGrpcEndpoint, spanFile: join(work, 'late-out', 'spans.jsonl'), httpPort: port });
    cleanups.push(() => collector.stop());

    const later = scriptedTurn('later');
    recordScriptedTurn(tracing, { sessionId: 'late-collector', preset: 'p', ...later });
    await tracing.forceFlush();
    const records = await readTurnRecords(file);
    expect(records).toHaveLength(2);
    const laterRecord = records[1];
    if (!laterRecord) throw new Error('second record missing');
    expect(laterRecord.aggregator.output).toBe('answer later');
    const spans = await waitForJaegerSpans(jaeger.queryUrl, laterRecord.trace_id, recordSpanIds(laterRecord));
    expectTurnMatchesRecord(spans, laterRecord, { exactContent: true });
  });

  it('collector answers 503, then recovers: the retried batch arrives exactly once', async () => {
    const collector = await startCollector(work, { jaegerOtlpGrpcEndpoint: jaeger.otlpGrpcEndpoint, spanFile: join(work, 'retry-out', 'spans.jsonl') });
    cleanups.push(() => collector.stop());
    const proxy = await startFlakyProxy(collector.otlpHttpUrl, 1);
    cleanups.push(() => proxy.close());

    const dir = join(work, 'retry-traces');
    const tracing = setupTestTracing({ dir, home: join(work, 'home-retry'), otlpUrl: proxy.url });
    cleanups.push(() => tracing.shutdown());
    recordScriptedTurn(tracing, { sessionId: 'retry', preset: 'p', ...scriptedTurn('retry') });
    await tracing.forceFlush();

    expect(proxy.rejected).toHaveLength(1);
    expect(proxy.forwarded.length).toBeGreaterThanOrEqual(1);
    // The exporter sent the refused batch again, byte for byte.
    expect(proxy.forwarded[0]?.equals(proxy.rejected[0] ?? Buffer.alloc(0))).toBe(true);

    const [file] = await sessionFiles(dir);
    const [record] = file ? await readTurnRecords(file) : [];
    if (!record) throw new Error('no JSONL record');
    const spans = await waitForJaegerSpans(jaeger.queryUrl, record.trace_id, recordSpanIds(record));
    expectTurnMatchesRecord(spans, record, { exactContent: true }); // includes: each span exactly once
    const fileSpans = (await waitForFileSpans(collector.spanFile, recordSpanIds(record))).filter((s) => s.traceId === record.trace_id);
    expectTurnMatchesRecord(fileSpans, record, { exactContent: true });
    expect((await collectorFileSpans(collector.spanFile)).filter((s) => s.traceId === record.trace_id)).toHaveLength(recordSpanIds(record).length);
    expect(await jaegerTraceSpans(jaeger.queryUrl, record.trace_id)).toHaveLength(recordSpanIds(record).length);
  });
});

interface FlakyProxy {
  url: string;
  /** Bodies answered with 503. */
  rejected: Buffer[];
  /** Bodies passed on to the collector. */
  forwarded: Buffer[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** An OTLP/HTTP proxy on 127.0.0.1 that answers the first `failures` requests with 503, then forwards. */
async function startFlakyProxy(targetBaseUrl: string, failures: number): Promise<FlakyProxy> {
  const rejected: Buffer[] = [];
  const forwarded: Buffer[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (rejected.length < failures) {
        rejected.push(body);
        // Retry-After keeps the exporter's backoff short and deterministic.
        response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('collector warming up');
        return;
      }
      forwarded.push(body);
      const upstream = await fetch(`${targetBaseUrl}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers: { 'content-type': String(request.headers['content-type'] ?? 'application/json') },
        body,
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(answer);
    })().catch((error: unknown) => {
      response.writeHead(502).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    rejected,
    forwarded,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
