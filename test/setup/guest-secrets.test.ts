/**
 * What an application's settings never leak through moa-otel, and what
 * moa-otel's own settings hold whatever produced a span (found by a review;
 * each case failed before its fix).
 */
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import { setupMoaTracing } from '../../src/setup/setup.js';
import { MoaInstrumentation, startMoaTurn, type MoaTurnStarter } from '../../src/trace/instrumentation.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

const SECRET = 'sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  trace.disable();
});

async function receiver(): Promise<OtlpReceiver> {
  const rx = await startOtlpReceiver();
  cleanups.push(() => rx.close());
  return rx;
}

function turnWithSecrets(instrumentation: MoaTurnStarter | undefined): void {
  const t = instrumentation ? instrumentation.startTurn({ sessionId: 's', preset: 'p' }) : startMoaTurn({ sessionId: 's', preset: 'p' });
  t.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: `question ${SECRET}` }] }).end({ output: `answer ${SECRET}` });
  t.startReference({ index: 1, model: 'n', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).fail(new Error(`400 your prompt "${SECRET}" was rejected`));
  t.startAggregator({ model: 'a', provider: 'p', messages: [{ role: 'user', content: `q ${SECRET}` }], tools: [{ type: 'function', function: { name: 'f', description: `d ${SECRET}` } }] })
    .end({ output: `final ${SECRET}` });
  t.end();
}

const leaks = (rx: OtlpReceiver) => rx.spans().flatMap((s) => [
  ...s.attributes.filter((a) => JSON.stringify(a).includes(SECRET)).map((a) => `${s.name} ${a.key}`),
  ...(s.events ?? []).filter((e) => JSON.stringify(e).includes(SECRET)).map((e) => `${s.name} event ${e.name}`),
  ...(JSON.stringify(s.status ?? {}).includes(SECRET) ? [`${s.name} status`] : []),
]);

describe("the application's OTLP settings stay the application's", () => {
  const appEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://api.vendor.example', OTEL_EXPORTER_OTLP_HEADERS: 'x-vendor-api-key=VENDOR-SECRET', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };

  it("createMoaSpanProcessors never sends the app's vendor headers to moa-otel's endpoint, nor takes its protocol", async () => {
    const rx = await receiver();
    const moa = createMoaSpanProcessors({ otlp: { endpoint: `${rx.url}/v1/traces` } }, { env: appEnv, ignoreConfigFile: true });
    const provider = new NodeTracerProvider({ spanProcessors: [...moa] });
    cleanups.push(() => provider.shutdown());
    moa.instrumentation.setTracerProvider(provider);
    moa.instrumentation.startTurn({ sessionId: 's', preset: 'p' }).end();
    await provider.forceFlush();
    expect(rx.requests.length).toBeGreaterThan(0);
    expect(rx.requests.map((r) => r.headers['x-vendor-api-key'])).toEqual(rx.requests.map(() => undefined));
    expect(rx.requests[0]?.contentType).toBe('application/x-protobuf');
  });

  it('setupMoaTracing sends the standard headers only with the standard endpoint', async () => {
    const rx = await receiver();
    const tracing = setupMoaTracing({}, { env: { ...appEnv, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', MOA_OTLP_ENDPOINT: `${rx.url}/v1/traces` }, ignoreConfigFile: true, notice: () => {} });
    tracing.instrumentation.startTurn({ sessionId: 's', preset: 'p' }).end();
    await tracing.shutdown();
    expect(rx.requests.length).toBeGreaterThan(0);
    expect(rx.requests.every((r) => r.headers['x-vendor-api-key'] === undefined)).toBe(true);
    const viaStandard = await receiver();
    const standard = setupMoaTracing({}, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: viaStandard.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-vendor-api-key=VENDOR-SECRET' }, ignoreConfigFile: true, notice: () => {} });
    standard.instrumentation.startTurn({ sessionId: 's', preset: 'p' }).end();
    await standard.shutdown();
    expect(viaStandard.requests[0]?.headers['x-vendor-api-key']).toBe('VENDOR-SECRET');
  });
});

describe("moa-otel's content settings hold whatever produced the span", () => {
  it('capture_content=false: nothing of the content leaves, from the default startMoaTurn either', async () => {
    const rx = await receiver();
    const moa = createMoaSpanProcessors({ otlp: { endpoint: `${rx.url}/v1/traces`, capture_content: false } }, { env: {}, ignoreConfigFile: true });
    const provider = new NodeTracerProvider({ spanProcessors: [...moa] });
    cleanups.push(() => provider.shutdown());
    provider.register();
    turnWithSecrets(undefined);
    await provider.forceFlush();
    expect(rx.spans().length).toBe(4);
    expect(leaks(rx)).toEqual([]);
  });

  it('redact=true: content events and error texts are masked too', async () => {
    const rx = await receiver();
    const moa = createMoaSpanProcessors({ redact: true, otlp: { endpoint: `${rx.url}/v1/traces` } }, { env: { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'SPAN_AND_EVENT' }, ignoreConfigFile: true });
    const provider = new NodeTracerProvider({ spanProcessors: [...moa] });
    cleanups.push(() => provider.shutdown());
    turnWithSecrets(new MoaInstrumentation({ tracerProvider: provider, env: { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'SPAN_AND_EVENT' } }));
    await provider.forceFlush();
    expect(rx.spans().some((s) => (s.events ?? []).some((e) => e.name === 'gen_ai.client.inference.operation.details'))).toBe(true);
    expect(leaks(rx)).toEqual([]);
  });

  it('an explicit spanContent=false wins over the environment', () => {
    for (const mode of ['SPAN_ONLY', 'EVENT_ONLY', 'SPAN_AND_EVENT']) {
      const instrumentation = new MoaInstrumentation({ spanContent: false, env: { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: mode } });
      expect(instrumentation.policy.capturesContent, mode).toBe(false);
    }
  });

  it('the display cap never cuts a secret before it is masked', async () => {
    const rx = await receiver();
    const tracing = setupMoaTracing({ redact: true, otlp: { endpoint: `${rx.url}/v1/traces`, max_content_bytes: 30 } }, { env: {}, ignoreConfigFile: true });
    const t = tracing.instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    t.startAggregator({ model: 'a', provider: 'p', messages: [{ role: 'user', content: `my openai key: ${SECRET}` }] }).end({ output: 'ok' });
    t.end();
    await tracing.shutdown();
    const text = JSON.stringify(rx.spans().map((s) => s.attributes));
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain('sk-proj-A1b2');
  });
});

describe('a sampler in the application provider', () => {
  it('dropping MoA turns is counted and said once, not silent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-sampled-'));
    const moa = createMoaSpanProcessors({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true });
    const provider = new NodeTracerProvider({ sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }), spanProcessors: [...moa] });
    cleanups.push(() => provider.shutdown());
    moa.instrumentation.setTracerProvider(provider);
    for (let i = 0; i < 100; i++) moa.instrumentation.startTurn({ sessionId: 'sampled', preset: 'p' }).end();
    const written = (() => { try { return readFileSync(path.join(dir, 'sampled.jsonl'), 'utf8').trim().split('\n').length; } catch { return 0; } })();
    expect(written + moa.instrumentation.stats.turnsNotRecorded).toBe(100);
    expect(moa.instrumentation.stats.turnsNotRecorded).toBeGreaterThan(50);
  });
});

describe('one content policy per pipeline', () => {
  it('createMoaSpanProcessors hands the same ContentPolicy object to its instrumentation and every processor', async () => {
    const rx = await receiver();
    const moa = createMoaSpanProcessors(
      { save_traces: true, trace_dir: mkdtempSync(path.join(tmpdir(), 'moa-one-policy-')), redact: true, otlp: { endpoint: `${rx.url}/v1/traces` } },
      { env: {}, ignoreConfigFile: true },
    );
    cleanups.push(() => Promise.all(moa.map((p) => p.shutdown())));
    expect(moa).toHaveLength(2);
    for (const processor of moa) expect((processor as { policy?: unknown }).policy).toBe(moa.instrumentation.policy);
  });

  it('setupMoaTracing: the instrumentation and the file sink share one policy, and nothing leaks to OTLP or the file', async () => {
    const rx = await receiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-one-policy-'));
    const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir, redact: true, otlp: { endpoint: `${rx.url}/v1/traces` } }, { env: {}, ignoreConfigFile: true, notice: () => {} });
    expect(tracing.jsonl?.policy).toBe(tracing.instrumentation.policy);
    turnWithSecrets(tracing.instrumentation);
    await tracing.shutdown();
    expect(leaks(rx)).toEqual([]);
    expect(readFileSync(path.join(dir, 's.jsonl'), 'utf8')).not.toContain(SECRET);
  });

  it("a policy object that is not the sink's own is never trusted, even with the same settings", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-one-policy-'));
    const moa = createMoaSpanProcessors({ save_traces: true, trace_dir: dir, redact: true }, { env: {}, ignoreConfigFile: true });
    const provider = new NodeTracerProvider({ spanProcessors: [...moa] });
    cleanups.push(() => provider.shutdown());
    // Same settings, another object, whose redaction was broken (as a copy of another version might be):
    // the sink must mask what it produced rather than trust its settings.
    const other = new MoaInstrumentation({ tracerProvider: provider, redact: true });
    Object.defineProperty(other.policy, 'replacer', { value: undefined });
    Object.defineProperty(other.policy, 'redactText', { value: (text: string) => text });
    Object.defineProperty(other.policy, 'sessionId', { value: (id: unknown) => id });
    turnWithSecrets(other);
    await provider.forceFlush();
    const line = readFileSync(path.join(dir, 's.jsonl'), 'utf8');
    expect(line).toContain('[REDACTED]');
    expect(line).not.toContain(SECRET);
  });
});
