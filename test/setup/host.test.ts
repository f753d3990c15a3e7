/**
 * A guest in the host's OpenTelemetry: setupMoaTracing never takes the
 * global slots (either order of setup leaves the application's registration
 * and export intact) and still writes its files; createMoaSpanProcessors adds
 * to the app's provider only what moa-otel's own settings ask for, and its
 * OTLP exporter ships MoA spans only.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createMoaSpanProcessors, setupMoaTracing, type MoaTracing, type MoaTurnStarter } from '../../src/index.js';
import { attr, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  trace.disable();
  context.disable();
  propagation.disable();
});

function appProvider() {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  cleanups.push(() => provider.shutdown());
  return { memory, provider };
}

function oneTurn(instrumentation: MoaTurnStarter, sessionId: string): void {
  const turn = instrumentation.startTurn({ sessionId, preset: 'p' });
  turn.startReference({ index: 0, model: 'ref', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'advice' });
  turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'answer' });
  turn.end();
}

function moaSetup(dir: string, notices: string[] = []): MoaTracing {
  const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, notice: (l) => notices.push(l) });
  cleanups.push(() => tracing.shutdown());
  return tracing;
}

/** The app's tracing works: its registration holds, its spans reach its exporter, its propagator injects. */
function expectAppTracingIntact(app: ReturnType<typeof appProvider>): void {
  const span = trace.getTracer('app').startSpan('app work');
  const carrier: Record<string, string> = {};
  context.with(trace.setSpan(context.active(), span), () => propagation.inject(context.active(), carrier));
  span.end();
  expect(app.memory.getFinishedSpans().map((s) => s.name)).toContain('app work');
  expect(carrier.traceparent).toContain(span.spanContext().spanId);
}

describe('setupMoaTracing next to an application SDK', () => {
  it('moa first, then the app: the app registers and exports as if moa were not there; moa still writes its file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-host-'));
    const notices: string[] = [];
    const tracing = moaSetup(dir, notices);
    const app = appProvider();
    expect(trace.setGlobalTracerProvider(app.provider)).toBe(true);
    app.provider.register();
    expectAppTracingIntact(app);
    oneTurn(tracing.instrumentation, 'moa-first');
    expect(JSON.parse(readFileSync(path.join(dir, 'moa-first.jsonl'), 'utf8')).aggregator.output).toBe('answer');
    // MoA spans went to moa's own pipeline, not into the app's provider.
    expect(app.memory.getFinishedSpans().some((s) => s.name.startsWith('chat '))).toBe(false);
    expect(notices).toEqual([]);
  });

  it('app first, then moa: the app keeps its globals, moa says once what it did, and writes its file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-host-'));
    const app = appProvider();
    app.provider.register();
    const before = trace.getTracerProvider();
    const notices: string[] = [];
    const tracing = moaSetup(dir, notices);
    expect(trace.getTracerProvider()).toBe(before);
    expectAppTracingIntact(app);
    oneTurn(tracing.instrumentation, 'app-first');
    expect(JSON.parse(readFileSync(path.join(dir, 'app-first.jsonl'), 'utf8')).aggregator.output).toBe('answer');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/already has an OpenTelemetry tracer provider.*left it alone.*createMoaSpanProcessors/);
  });
});

describe('createMoaSpanProcessors in the app provider', () => {
  let receiver: OtlpReceiver;

  it("adds no OTLP exporter for the app's standard OTEL_EXPORTER_OTLP_* variables", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' };
    const processors = createMoaSpanProcessors({ save_traces: true, trace_dir: mkdtempSync(path.join(tmpdir(), 'moa-p-')) }, { env, ignoreConfigFile: true });
    expect(processors).toHaveLength(1);
    expect(processors.otlpUrl).toBeUndefined();
    cleanups.push(() => processors[0]!.shutdown());
  });

  it("with moa-otel's own endpoint, ships MoA spans only, and never sets service.version", async () => {
    receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const processors = createMoaSpanProcessors({ otlp: { endpoint: `${receiver.url}/v1/traces` } }, { env: {}, ignoreConfigFile: true });
    const app = new NodeTracerProvider({ spanProcessors: [...processors] });
    cleanups.push(() => app.shutdown());
    processors.instrumentation.setTracerProvider(app);
    app.getTracer('app').startSpan('app span').end();
    oneTurn(processors.instrumentation, 'shipped');
    await app.forceFlush();
    const names = receiver.spans().map((s) => s.name).sort();
    expect(names).toEqual(['chat agg', 'chat ref', 'invoke_workflow moa p']);
    expect(receiver.spans().every((s) => attr(s, 'gen_ai.conversation.id') === 'shipped')).toBe(true);
  });

  it("setupMoaTracing's own OTLP export leaves service.version to the application", async () => {
    receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const tracing = setupMoaTracing({ otlp: { endpoint: `${receiver.url}/v1/traces` } }, { env: { OTEL_SERVICE_NAME: 'my-agent' }, ignoreConfigFile: true });
    oneTurn(tracing.instrumentation, 'svc');
    await tracing.shutdown();
    const resource = receiver.requests[0]?.json?.resourceSpans[0]?.resource?.attributes ?? [];
    expect(resource.find((a) => a.key === 'service.name')?.value.stringValue).toBe('my-agent');
    expect(resource.some((a) => a.key === 'service.version')).toBe(false);
  });
});

describe("setupMoaTracing's own metrics", () => {
  it('go with its spans: GenAI duration histograms and MoA counters reach /v1/metrics by shutdown', async () => {
    const rx = await startOtlpReceiver();
    cleanups.push(() => rx.close());
    const tracing = setupMoaTracing({ otlp: { endpoint: `${rx.url}/v1/traces` } }, { env: {}, ignoreConfigFile: true });
    expect(tracing.meterProvider).toBeDefined();
    oneTurn(tracing.instrumentation, 'metered');
    await tracing.shutdown();
    const names = new Set(rx.metrics().map((m) => m.name));
    for (const name of ['gen_ai.client.operation.duration', 'moa.turns']) expect(names.has(name), name).toBe(true);
  });
});
