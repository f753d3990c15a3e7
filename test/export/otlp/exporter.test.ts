import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpHttpTraceExporter, type OtlpTraceExporterOptions } from '../../../src/export/otlp/exporter.js';
import { EXPORT_FAILED, EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan } from '../../../src/trace/span-data.js';
import { GEN_AI_INPUT_MESSAGES, MOA_CONTENT_TRUNCATED } from '../../../src/trace/attributes.js';
import { attr, closedPort, receiversClosedAfterEach } from '../../helpers/otlp-receiver.js';
import { recordSdkSpans, sdkSpansWithAttributes } from '../../helpers/sdk-spans.js';

const receiver = receiversClosedAfterEach();
const exporters: OtlpHttpTraceExporter[] = [];
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
});

function exporterTo(url: string, options: Partial<OtlpTraceExporterOptions> = {}): { exporter: OtlpHttpTraceExporter; logs: string[] } {
  const logs: string[] = [];
  const exporter = new OtlpHttpTraceExporter({ url, log: (m) => logs.push(m), retry: { initialBackoffMillis: 10, maxBackoffMillis: 20 }, ...options });
  exporters.push(exporter);
  return { exporter, logs };
}

function exportSpans(exporter: OtlpHttpTraceExporter, spans: FinishedSpan[]): Promise<ExportResultLike> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

const twoSpans = () => recordSdkSpans((tracer) => {
  const root = tracer().startSpan('invoke_workflow moa', { kind: SpanKind.INTERNAL, attributes: { 'moa.preset': 'p', 'moa.iteration': 2 } });
  tracer().startSpan('chat m', { kind: SpanKind.CLIENT, links: [{ context: root.spanContext() }] }).end();
  root.end();
}, { resource: { 'service.name': 'exporter-test' } });

describe('OtlpHttpTraceExporter', () => {
  it('speaks http/protobuf by default and http/json when asked, to a real receiver', async () => {
    const r = await receiver();
    const spans = await twoSpans();
    for (const protocol of [undefined, 'http/json'] as const) {
      const { exporter } = exporterTo(`${r.url}/v1/traces`, protocol ? { protocol } : {});
      expect((await exportSpans(exporter, spans)).code).toBe(EXPORT_SUCCESS);
    }
    expect(r.requests.map((q) => q.mediaType)).toEqual(['application/x-protobuf', 'application/json']);
    for (const request of r.requests) {
      const got = request.json.resourceSpans[0]!.scopeSpans[0]!.spans;
      expect(got.map((s) => s.name)).toEqual(['chat m', 'invoke_workflow moa']);
      expect(got[0]!.traceId).toBe(spans[0]!.spanContext().traceId);
      expect(got[0]!.links?.[0]?.spanId).toBe(spans[1]!.spanContext().spanId);
      expect(attr(got[1]!, 'moa.iteration')).toBe(2);
      expect(request.json.resourceSpans[0]!.resource?.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'exporter-test' } });
      expect(request.headers['user-agent']).toMatch(/^moa-otel\//);
    }
  });

  it('reaches a protobuf-only receiver (Phoenix answers 415 to JSON), and says what to change when JSON is refused', async () => {
    const r = await receiver({ accept: ['application/x-protobuf'] });
    const spans = await twoSpans();
    const json = exporterTo(`${r.url}/v1/traces`, { protocol: 'http/json' });
    const refused = await exportSpans(json.exporter, spans);
    expect(refused.code).toBe(EXPORT_FAILED);
    expect(r.refused).toEqual([{ contentType: 'application/json' }]); // 415 is final: not retried
    expect(json.logs).toHaveLength(1);
    expect(json.logs[0]).toMatch(/HTTP 415 .*OTEL_EXPORTER_OTLP_PROTOCOL/);
    const protobuf = exporterTo(`${r.url}/v1/traces`);
    expect((await exportSpans(protobuf.exporter, spans)).code).toBe(EXPORT_SUCCESS);
    expect(r.spans()).toHaveLength(2);
  });

  it('retries 429/502/503/504, then delivers once', async () => {
    const r = await receiver();
    r.respondNext({ status: 503 }, { status: 429 }, { status: 502 }, { status: 504 });
    const { exporter, logs } = exporterTo(`${r.url}/v1/traces`, { retry: { maxAttempts: 5, initialBackoffMillis: 5, maxBackoffMillis: 10 } });
    expect((await exportSpans(exporter, await twoSpans())).code).toBe(EXPORT_SUCCESS);
    expect(r.requests).toHaveLength(1);
    expect(exporter.stats).toMatchObject({ exportedSpans: 2, failedSpans: 0, requests: 1, failedRequests: 0 });
    expect(logs).toEqual([]);
  });

  it('honours Retry-After over its own backoff', async () => {
    const r = await receiver();
    // The backoff alone (30–60 s) would pass the 5 s deadline: only Retry-After: 0 lets the retry happen in time.
    r.respondNext({ status: 429, headers: { 'retry-after': '0' } });
    const slowBackoff = { maxAttempts: 3, initialBackoffMillis: 60_000, maxBackoffMillis: 60_000 };
    const patient = exporterTo(`${r.url}/v1/traces`, { retry: slowBackoff, timeoutMillis: 5_000 });
    expect((await exportSpans(patient.exporter, await twoSpans())).code).toBe(EXPORT_SUCCESS);
    expect(r.requests).toHaveLength(1);

    // Asked to come back after the deadline: give up now rather than wait past it.
    r.respondNext({ status: 503, headers: { 'retry-after': '120' } });
    const hurried = exporterTo(`${r.url}/v1/traces`, { retry: slowBackoff, timeoutMillis: 5_000 });
    const result = await exportSpans(hurried.exporter, await twoSpans());
    expect(result.code).toBe(EXPORT_FAILED);
    expect(result.error?.message).toMatch(/HTTP 503.*retry after 120 s/);
  });

  it('does not retry what will fail again (400), and reports the receiver\'s reason', async () => {
    const r = await receiver();
    r.respondNext({ status: 400, body: JSON.stringify({ code: 3, message: 'bad span\nsecond line' }) });
    const { exporter, logs } = exporterTo(`${r.url}/v1/traces`);
    const result = await exportSpans(exporter, await twoSpans());
    expect(result.code).toBe(EXPORT_FAILED);
    expect(result.error?.message).toMatch(/HTTP 400: bad span$/);
    expect(r.requests).toHaveLength(0);
    expect(exporter.stats).toMatchObject({ failedSpans: 2, failedRequests: 1 });
    expect(logs).toHaveLength(1);
  });

  it('reports a cause once, counts the rest, and says when exports work again', async () => {
    const r = await receiver();
    r.failWith(503);
    const { exporter, logs } = exporterTo(`${r.url}/v1/traces`, { retry: { maxAttempts: 2, initialBackoffMillis: 1, maxBackoffMillis: 2 } });
    for (let i = 0; i < 3; i++) expect((await exportSpans(exporter, await twoSpans())).code).toBe(EXPORT_FAILED);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^moa-otel: OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: HTTP 503; 2 spans lost/);
    r.failWith(null);
    expect((await exportSpans(exporter, await twoSpans())).code).toBe(EXPORT_SUCCESS);
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatch(/works again after 3 failed requests \(HTTP 503\)/);
    expect(exporter.stats).toMatchObject({ exportedSpans: 2, failedSpans: 6, failedRequests: 3, requests: 4 });
  });

  it('fails a network error after its retries without throwing, and keeps credentials out of messages', async () => {
    const port = await closedPort();
    const { exporter, logs } = exporterTo(`http://user:hunter2@127.0.0.1:${port}/v1/traces?api_key=sekrit`, {
      headers: { authorization: 'Bearer tok-123' }, retry: { maxAttempts: 3, initialBackoffMillis: 1, maxBackoffMillis: 2 },
    });
    const result = await exportSpans(exporter, await twoSpans());
    expect(result.code).toBe(EXPORT_FAILED);
    expect(result.error?.message).toMatch(/ECONNREFUSED/);
    const said = [...logs, result.error?.message ?? ''].join('\n');
    for (const secret of ['hunter2', 'sekrit', 'tok-123', 'user:']) expect(said).not.toContain(secret);
    expect(said).toContain(`http://127.0.0.1:${port}/v1/traces`);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const r = await receiver();
    r.respondNext({ status: 200, delayMs: 3_000 }, { status: 200, delayMs: 3_000 });
    const { exporter } = exporterTo(`${r.url}/v1/traces`, { timeoutMillis: 200 });
    const result = await exportSpans(exporter, await twoSpans());
    expect(result.code).toBe(EXPORT_FAILED);
    expect(result.error?.message).toMatch(/no answer within 200 ms/);
  });

  it('never throws for a header value HTTP refuses, and fails that export', async () => {
    const r = await receiver();
    const { exporter, logs } = exporterTo(`${r.url}/v1/traces`, { headers: { 'x-bad': 'a\r\nInjected: 1' } });
    const result = await exportSpans(exporter, await twoSpans());
    expect(result.code).toBe(EXPORT_FAILED);
    expect(r.requests).toHaveLength(0);
    expect(logs).toHaveLength(1);
  });

  it('sends configured headers, and gzip when asked', async () => {
    const r = await receiver();
    const { exporter } = exporterTo(`${r.url}/v1/traces`, { headers: { 'x-api-key': 'k1' }, compression: 'gzip' });
    expect((await exportSpans(exporter, await twoSpans())).code).toBe(EXPORT_SUCCESS);
    expect(r.requests[0]?.headers['x-api-key']).toBe('k1');
    expect(r.requests[0]?.headers['content-encoding']).toBe('gzip');
    expect(r.spans()).toHaveLength(2);
  });

  it('counts and reports spans the receiver rejected in a partial success', async () => {
    const r = await receiver();
    r.respondNext({ status: 200, body: JSON.stringify({ partialSuccess: { rejectedSpans: '1', errorMessage: 'span too old' } }) });
    const { exporter, logs } = exporterTo(`${r.url}/v1/traces`, { protocol: 'http/json' });
    expect((await exportSpans(exporter, await twoSpans())).code).toBe(EXPORT_SUCCESS);
    expect(exporter.stats).toMatchObject({ exportedSpans: 1, rejectedSpans: 1 });
    expect(logs).toEqual([expect.stringMatching(/rejected 1 span: span too old/)]);
  });

  it('keeps each request body under max_export_bytes in the encoding it sends', async () => {
    // A quote costs 2 bytes in protobuf (escaped once, inside the messages JSON) and 4 in OTLP/JSON (escaped twice).
    const content = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: '"'.repeat(12_000) }] }]);
    const spans = await sdkSpansWithAttributes([{ name: 'chat big', attributes: { [GEN_AI_INPUT_MESSAGES]: content } }]);
    const max = 40_000;
    const r = await receiver();
    for (const protocol of ['http/protobuf', 'http/json'] as const) {
      const { exporter } = exporterTo(`${r.url}/v1/traces`, { protocol, maxExportBytes: max });
      expect((await exportSpans(exporter, spans)).code).toBe(EXPORT_SUCCESS);
    }
    const [protobuf, json] = r.requests;
    for (const request of r.requests) expect(request.raw.length).toBeLessThanOrEqual(max);
    // Protobuf fits whole; JSON had to be shrunk to fit.
    expect(attr(protobuf!.json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, GEN_AI_INPUT_MESSAGES) === content).toBe(true);
    expect(attr(json!.json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, MOA_CONTENT_TRUNCATED)).toBe(true);
  });

  it('splits a batch too big for one request: tries every request after a refused one, and none after an unavailable receiver', async () => {
    const spans = await sdkSpansWithAttributes(Array.from({ length: 6 }, (_, i) => ({ name: `chat ${i}`, attributes: { [GEN_AI_INPUT_MESSAGES]: 'y'.repeat(4_000) } })));
    const r = await receiver();
    r.respondNext({ status: 400 });
    const refused = exporterTo(`${r.url}/v1/traces`, { maxExportBytes: 9_000 }).exporter;
    expect((await exportSpans(refused, spans)).code).toBe(EXPORT_FAILED);
    const sent = r.spans().map((s) => s.name);
    expect(refused.stats.requests).toBeGreaterThan(2);
    expect(refused.stats).toMatchObject({ failedRequests: 1, exportedSpans: sent.length, failedSpans: 6 - sent.length });
    expect(sent).toEqual(spans.map((s) => s.name).slice(6 - sent.length));

    r.respondNext({ status: 503 });
    const unavailable = exporterTo(`${r.url}/v1/traces`, { maxExportBytes: 9_000, retry: { maxAttempts: 1 } }).exporter;
    expect((await exportSpans(unavailable, spans)).code).toBe(EXPORT_FAILED);
    expect(unavailable.stats).toMatchObject({ requests: 1, failedRequests: 1, exportedSpans: 0, failedSpans: 6 });
    expect(r.spans()).toHaveLength(sent.length);
  });

  it('refuses a limit that is not a positive number when built', () => {
    expect(() => new OtlpHttpTraceExporter({ url: 'http://127.0.0.1:4318/v1/traces', maxExportBytes: 0 })).toThrow(RangeError);
  });

  it('fails exports after shutdown, and shutdown does not wait on a hung receiver past the timeout', async () => {
    const r = await receiver();
    r.respondNext({ status: 200, delayMs: 30_000 });
    const { exporter } = exporterTo(`${r.url}/v1/traces`, { timeoutMillis: 300 });
    const pending = exportSpans(exporter, await twoSpans());
    await exporter.shutdown();
    expect((await pending).code).toBe(EXPORT_FAILED);
    expect((await exportSpans(exporter, await twoSpans())).code).toBe(EXPORT_FAILED);
  });
});
