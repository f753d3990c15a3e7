/**
 * setupMoaTracing exports through OpenTelemetry's official exporters, so the
 * standard variables mean what they mean everywhere — tested at a real
 * receiver — and a non-sampled parent, the OTLP-only ratio, the service name
 * and the shutdown bound behave as documented.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { metrics, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setupMoaTracing, type MoaTracing } from '../../src/index.js';
import { ratioThreshold, traceIdKept } from '../../src/otel/otlp-sampling.js';
import { attr, receiversClosedAfterEach } from '../helpers/otlp-receiver.js';

const receiver = receiversClosedAfterEach();
const open: MoaTracing[] = [];
afterEach(async () => { await Promise.all(open.splice(0).map((t) => t.shutdown())); });

function setup(options: Parameters<typeof setupMoaTracing>[0], env: Record<string, string>): MoaTracing {
  const tracing = setupMoaTracing(options, { env, ignoreConfigFile: true, notice: () => undefined });
  open.push(tracing);
  return tracing;
}

function oneTurn(tracing: MoaTracing, parent = ROOT_CONTEXT, sessionId = 's'): string {
  const turn = tracing.instrumentation.startTurn({ sessionId, preset: 'p', context: parent });
  turn.startReference({ index: 0, model: 'm', provider: 'x', messages: [{ role: 'user', content: 'hi' }] }).end({ output: 'ok' });
  turn.startAggregator({ model: 'a', provider: 'x', messages: [{ role: 'user', content: 'hi' }] }).end({ output: 'done' });
  turn.end();
  return turn.context ? trace.getSpanContext(turn.context)?.traceId ?? '' : '';
}

function linesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => readFileSync(path.join(dir, name), 'utf8').trim().split('\n').filter(Boolean));
}

describe('the standard variables, read by the official exporter itself', () => {
  it('OTEL_EXPORTER_OTLP_COMPRESSION=gzip: the receiver gets gzip bodies', async () => {
    const rx = await receiver();
    const tracing = setup({}, { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
    oneTurn(tracing);
    await tracing.forceFlush();
    expect(rx.spans()).toHaveLength(3);
    expect(rx.requests.every((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
  });

  it('OTEL_EXPORTER_OTLP_TRACES_HEADERS and OTEL_EXPORTER_OTLP_HEADERS merge (the specific one wins per header)', async () => {
    const rx = await receiver();
    const tracing = setup({}, {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-team=core,x-key=generic',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-key=traces',
      OTEL_METRICS_EXPORTER: 'none',
    });
    oneTurn(tracing);
    await tracing.forceFlush();
    expect(rx.requests[0]?.headers['x-team']).toBe('core');
    expect(rx.requests[0]?.headers['x-key']).toBe('traces');
  });

  it('OTEL_TRACES_EXPORTER=none: nothing is exported, the JSONL file still gets the turn', async () => {
    const rx = await receiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-none-'));
    const tracing = setup({ save_traces: true, trace_dir: dir }, { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_TRACES_EXPORTER: 'none' });
    oneTurn(tracing);
    await tracing.shutdown();
    expect(tracing.otlpUrl).toBeUndefined();
    expect(rx.requests).toHaveLength(0);
    expect(linesIn(dir)).toHaveLength(1);
  });

  it('OTEL_TRACES_EXPORTER=console: spans go to the SDK\'s ConsoleSpanExporter', async () => {
    const printed: unknown[] = [];
    const spy = vi.spyOn(console, 'dir').mockImplementation((value) => { printed.push(value); });
    try {
      const tracing = setup({}, { OTEL_TRACES_EXPORTER: 'console' });
      oneTurn(tracing);
      await tracing.shutdown();
      expect(printed.map((p) => (p as { name?: string }).name).sort()).toEqual(['chat a', 'chat m', 'invoke_workflow moa p']);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('otlp.exporter: an exporter the application passes in', () => {
  it('gets MoA spans through the queue and size guard (no package loaded), counted in otlpStats', async () => {
    const received: string[] = [];
    const exporter = {
      export(spans: { name: string }[], done: (result: { code: number }) => void) {
        received.push(...spans.map((span) => span.name));
        done({ code: 0 });
      },
      shutdown: () => Promise.resolve(),
    };
    const tracing = setup({ otlp: { exporter } }, {});
    oneTurn(tracing);
    await tracing.shutdown();
    expect(received.sort()).toEqual(['chat a', 'chat m', 'invoke_workflow moa p']);
    expect(tracing.otlpStats()).toMatchObject({ exportedSpans: 3, failedSpans: 0 });
    expect(() => setupMoaTracing({ otlp: { exporter: { export: 'no' } as never } }, { env: {}, ignoreConfigFile: true })).toThrow(/otlp\.exporter.*span exporter/);
  });
});

describe('sampling: OTLP only, the files keep every turn', () => {
  it('a parent the application did not sample is not exported, and its turn is still written', async () => {
    const rx = await receiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-unsampled-'));
    const tracing = setup({ save_traces: true, trace_dir: dir, otlp: { endpoint: `${rx.url}/v1/traces` } }, {});
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE, isRemote: true });
    const sampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: '5bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    oneTurn(tracing, unsampled, 'unsampled');
    oneTurn(tracing, sampled, 'sampled');
    await tracing.shutdown();
    expect(new Set(rx.spans().map((s) => s.traceId))).toEqual(new Set(['5bf92f3577b34da6a3ce929d0e0e4736']));
    expect(tracing.otlpStats()?.notSampledSpans).toBe(3);
    expect(linesIn(dir).map((l) => (JSON.parse(l) as { trace_id: string }).trace_id).sort()).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', '5bf92f3577b34da6a3ce929d0e0e4736']);
  });

  it('otlp.sample_ratio keeps whole traces, decided by the trace id alone (the same in every process)', async () => {
    const rx = await receiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-ratio-'));
    const tracing = setup({ save_traces: true, trace_dir: dir, otlp: { endpoint: `${rx.url}/v1/traces`, sample_ratio: 0.25 } }, {});
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(oneTurn(tracing));
    await tracing.shutdown();
    const exported = new Set(rx.spans().map((s) => s.traceId));
    const expected = ids.filter((id) => traceIdKept(id, ratioThreshold(0.25)));
    expect([...exported].sort()).toEqual([...new Set(expected)].sort());
    // Whole traces: each kept trace has all three of its spans.
    expect(rx.spans()).toHaveLength(expected.length * 3);
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.length).toBeLessThan(90);
    expect(linesIn(dir)).toHaveLength(200);
  });

  it('the ratio rule: the rightmost 56 bits against (1 - ratio) x 2^56', () => {
    expect(traceIdKept('0000000000000000ff00000000000000', ratioThreshold(0.5))).toBe(false);
    expect(traceIdKept('00000000000000000080000000000000', ratioThreshold(0.5))).toBe(true);
    expect(traceIdKept('0000000000000000007fffffffffffff', ratioThreshold(0.5))).toBe(false);
    expect(traceIdKept('ffffffffffffffffffffffffffffffff', ratioThreshold(0))).toBe(false);
    expect(traceIdKept('00000000000000000000000000000001', ratioThreshold(1))).toBe(true);
    expect(() => setupMoaTracing({ otlp: { sample_ratio: 1.5 } }, { env: {}, ignoreConfigFile: true })).toThrow(/sample_ratio.*0 to 1/);
  });
});

describe('metrics through the application\'s MeterProvider', () => {
  it('uses the global one the application registered (no pipeline of its own), and counts cost in {USD}', async () => {
    const { MeterProvider, InMemoryMetricExporter, PeriodicExportingMetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const appMeters = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(appMeters);
    try {
      const rx = await receiver();
      const tracing = setup({ otlp: { endpoint: `${rx.url}/v1/traces` } }, {});
      expect(tracing.meterProvider).toBeUndefined();
      const turn = tracing.instrumentation.startTurn({ sessionId: 's', preset: 'p' });
      turn.startReference({ index: 0, model: 'm', provider: 'x', messages: [] }).end({ output: 'ok', cost: { usd: 0.5, status: 'actual', source: 'provider' } });
      turn.startAggregator({ model: 'a', provider: 'x', messages: [] }).end({ output: 'done' });
      turn.end();
      await tracing.shutdown();
      await reader.forceFlush();
      const found = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      expect(found.find((m) => m.descriptor.name === 'moa.cost')?.descriptor.unit).toBe('{USD}');
      expect(found.some((m) => m.descriptor.name === 'moa.turns')).toBe(true);
      expect(rx.metricsRequests).toHaveLength(0);
    } finally {
      metrics.disable();
      await appMeters.shutdown();
    }
  });
});

describe('metrics setup builds from the application\'s sdk-metrics', () => {
  it('follows OTEL_EXPORTER_OTLP_METRICS_PROTOCOL (json metrics next to protobuf traces), sent at shutdown', async () => {
    const rx = await receiver();
    const tracing = setup({}, { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' });
    expect(tracing.meterProvider).toBeDefined();
    oneTurn(tracing);
    await tracing.shutdown();
    expect(rx.requests.map((r) => r.mediaType)).toContain('application/x-protobuf');
    expect(rx.metricsRequests.length).toBeGreaterThan(0);
    expect(rx.metricsRequests.every((r) => r.mediaType === 'application/json')).toBe(true);
    expect(rx.metrics().map((m) => m.name)).toContain('moa.turns');
  });
});

describe('service.name and the shutdown bound', () => {
  it('defaults service.name to the application\'s (OTEL_SERVICE_NAME, else unknown_service:<process>), never moa-otel', async () => {
    const rx = await receiver();
    const unnamed = setup({ otlp: { endpoint: `${rx.url}/v1/traces` } }, {});
    oneTurn(unnamed);
    await unnamed.shutdown();
    const named = setup({ otlp: { endpoint: `${rx.url}/v1/traces` } }, { OTEL_SERVICE_NAME: 'travel-agent' });
    oneTurn(named);
    await named.shutdown();
    const names = rx.requests.map((r) => attr({ attributes: r.json.resourceSpans[0]?.resource?.attributes ?? [] }, 'service.name'));
    expect(names).toEqual([`unknown_service:${path.basename(process.argv0)}`, 'travel-agent']);
  });

  it('shutdown() and forceFlush() with a collector that never answers take about the export timeout, not several times it', async () => {
    const rx = await receiver();
    rx.respondNext({ status: 200, delayMs: 60_000 }, { status: 200, delayMs: 60_000 }, { status: 200, delayMs: 60_000 });
    const tracing = setup({ otlp: { endpoint: `${rx.url}/v1/traces`, timeout_ms: 400 } }, {});
    oneTurn(tracing);
    let started = Date.now();
    await tracing.forceFlush();
    const flushMs = Date.now() - started;
    oneTurn(tracing);
    started = Date.now();
    await tracing.shutdown();
    const shutdownMs = Date.now() - started;
    // Bounded by the 400 ms timeout plus scheduling slack; before, each stage waited its own timeout + 5 s.
    expect(flushMs).toBeLessThan(2_000);
    expect(shutdownMs).toBeLessThan(2_000);
    expect(tracing.otlpStats()?.exportedSpans).toBe(0);
  });
});
