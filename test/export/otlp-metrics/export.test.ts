import { spawn } from 'node:child_process';
import { ValueType } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MoaConfigError, resolveConfig, type MoaOptions } from '../../../src/config/load.js';
import type { Env } from '../../../src/config/paths.js';
import { buildMetricsPipeline, type MetricsPipeline } from '../../../src/export/otlp-metrics/pipeline.js';
import { metricsByName, pointAttributes } from '../../helpers/otlp-metrics-proto.js';
import { closedPort, receiversClosedAfterEach } from '../../helpers/otlp-receiver.js';

const receiver = receiversClosedAfterEach();
const pipelines: MetricsPipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.shutdown()));
});

function pipeline(options: MoaOptions, env: Env = {}): { pipeline: MetricsPipeline; logs: string[] } {
  const logs: string[] = [];
  const config = resolveConfig(options, { env, ignoreConfigFile: true });
  const built = buildMetricsPipeline(config, env, {
    log: (m) => logs.push(m), retry: { initialBackoffMillis: 10, maxBackoffMillis: 20 }, resourceAttributes: { 'service.name': 'metrics-test' },
  });
  if (built === undefined) throw new Error('expected a metrics pipeline');
  pipelines.push(built);
  return { pipeline: built, logs };
}

describe('metrics pipeline export to a real receiver', () => {
  it('exports on forceFlush in http/protobuf by default: resource, scope, sums and histograms', async () => {
    const r = await receiver();
    const { pipeline: p } = pipeline({ otlp: { endpoint: `${r.url}/v1/traces` } });
    expect(p.url).toBe(`${r.url}/v1/metrics`);
    const meter = p.meterProvider.getMeter('moa-otel', '0.1.0');
    meter.createCounter('moa.turns', { unit: '{turn}' }).add(1, { 'moa.cache': 'miss' });
    meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', valueType: ValueType.INT, advice: { explicitBucketBoundaries: [1, 4, 16] } })
      .record(10, { 'gen_ai.token.type': 'input' });
    await p.forceFlush();
    expect(r.metricsRequests).toHaveLength(1);
    const request = r.metricsRequests[0]!;
    expect(request.mediaType).toBe('application/x-protobuf');
    expect(request.headers['user-agent']).toMatch(/^moa-otel\//);
    expect(request.json.resourceMetrics[0]!.resource?.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'metrics-test' } });
    expect(request.json.resourceMetrics[0]!.scopeMetrics[0]!.scope).toMatchObject({ name: 'moa-otel', version: '0.1.0' });
    const metrics = metricsByName(request.json);
    expect(metrics.get('moa.turns')).toMatchObject({ unit: '{turn}', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asDouble: 1 }] } });
    expect(pointAttributes(metrics.get('moa.turns')!.sum!.dataPoints[0]!)).toEqual({ 'moa.cache': 'miss' });
    expect(metrics.get('gen_ai.client.token.usage')!.histogram!.dataPoints[0]).toMatchObject({
      count: '1', sum: 10, min: 10, max: 10, bucketCounts: ['0', '0', '1', '0'], explicitBounds: [1, 4, 16],
    });
    expect(r.requests).toEqual([]); // nothing went to /v1/traces
    expect(p.stats()).toMatchObject({ exports: 1, failedExports: 0 });
  });

  it('speaks http/json when OTEL_EXPORTER_OTLP_METRICS_PROTOCOL (over the generic variable) or otlp.protocol says so', async () => {
    const r = await receiver();
    const cases: [MoaOptions, Env, string][] = [
      [{}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'application/json'],
      [{}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }, 'application/x-protobuf'],
      [{}, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, 'application/x-protobuf'],
      [{ otlp: { protocol: 'http/json' } }, { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }, 'application/json'],
    ];
    for (const [options, env] of cases) {
      const { pipeline: p } = pipeline({ ...options, otlp: { ...options.otlp, endpoint: `${r.url}/v1/traces` } }, env);
      p.meterProvider.getMeter('m').createCounter('c').add(2);
      await p.forceFlush();
    }
    expect(r.metricsRequests.map((q) => q.mediaType)).toEqual(cases.map(([, , type]) => type));
    for (const q of r.metricsRequests) expect(metricsByName(q.json).get('c')!.sum!.dataPoints[0]!.asDouble).toBe(2);
  });

  it('exports once more on shutdown with the cumulative totals, then records and sends nothing', async () => {
    const r = await receiver();
    const { pipeline: p } = pipeline({ otlp: { endpoint: `${r.url}/v1/traces` } });
    const counter = p.meterProvider.getMeter('m').createCounter('c');
    counter.add(1);
    await p.forceFlush();
    counter.add(2);
    await p.shutdown();
    counter.add(100);
    await p.forceFlush();
    await p.shutdown();
    const points = r.metricsRequests.map((q) => metricsByName(q.json).get('c')!.sum!.dataPoints[0]!);
    expect(points.map((point) => point.asDouble)).toEqual([1, 3]);
    // Cumulative: one start time for the series, a later time for the later export.
    expect(points[1]!.startTimeUnixNano).toBe(points[0]!.startTimeUnixNano);
    expect(BigInt(points[1]!.timeUnixNano)).toBeGreaterThan(BigInt(points[0]!.timeUnixNano));
  });

  it('exports every interval without being asked, and sends nothing while nothing is recorded', async () => {
    const r = await receiver();
    const { pipeline: p } = pipeline({ otlp: { endpoint: `${r.url}/v1/traces`, metricsIntervalMs: 30 } });
    expect(p.intervalMillis).toBe(30);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await p.forceFlush();
    expect(r.metricsRequests).toEqual([]);
    p.meterProvider.getMeter('m').createCounter('c').add(1);
    await vi.waitFor(() => expect(r.metricsRequests.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    expect(r.metricsRequests.every((q) => metricsByName(q.json).get('c')!.sum!.dataPoints[0]!.asDouble === 1)).toBe(true);
  });

  it('runs one export at a time: forceFlush waits for a slow export in flight, then sends the newest totals', async () => {
    const r = await receiver();
    r.respondNext({ status: 200, delayMs: 300 });
    const { pipeline: p } = pipeline({ otlp: { endpoint: `${r.url}/v1/traces`, metricsIntervalMs: 10 } });
    const counter = p.meterProvider.getMeter('m').createCounter('c');
    counter.add(1);
    await vi.waitFor(() => expect(r.pending()).toBe(1), { timeout: 10_000, interval: 10 });
    counter.add(10);
    await p.forceFlush();
    expect(r.mostConcurrent()).toBe(1);
    // The slow answer took the first export (a tick); what forceFlush sent after it carries everything recorded before it.
    expect(r.metricsRequests.length).toBeGreaterThan(0);
    expect(metricsByName(r.metricsRequests[0]!.json).get('c')!.sum!.dataPoints[0]!.asDouble).toBe(11);
    expect(p.stats().failedExports).toBe(0);
  });

  it('takes the interval from OTEL_METRIC_EXPORT_INTERVAL unless otlp.metrics_interval_ms is set, 60 s by default', () => {
    const options = { otlp: { endpoint: 'http://127.0.0.1:1/v1/traces' } };
    expect(pipeline(options).pipeline.intervalMillis).toBe(60_000);
    expect(pipeline(options, { OTEL_METRIC_EXPORT_INTERVAL: '1500' }).pipeline.intervalMillis).toBe(1500);
    expect(pipeline({ otlp: { ...options.otlp, metrics_interval_ms: 200 } }, { OTEL_METRIC_EXPORT_INTERVAL: '1500' }).pipeline.intervalMillis).toBe(200);
    expect(() => pipeline(options, { OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow(
      new MoaConfigError('moa config: OTEL_METRIC_EXPORT_INTERVAL: expected a positive integer of milliseconds up to 2147483647, got "soon"'),
    );
    expect(() => pipeline(options, { OTEL_METRIC_EXPORT_TIMEOUT: String(2 ** 31) })).toThrow(/OTEL_METRIC_EXPORT_TIMEOUT: expected a positive integer/);
    expect(() => pipeline({ otlp: { ...options.otlp, metricsIntervalMs: 2 ** 31 } })).toThrow(/otlp\.metrics_interval_ms.*at most 2147483647/);
    expect(() => pipeline({ otlp: { ...options.otlp, metricsIntervalMs: 0 } })).toThrow(/otlp\.metrics_interval_ms.*positive integer/);
  });

  it('reports a dead receiver once however often it fails, and shutdown still returns', async () => {
    const port = await closedPort();
    const { pipeline: p, logs } = pipeline({ otlp: { endpoint: `http://127.0.0.1:${port}/v1/traces`, timeoutMs: 1_000 } });
    const counter = p.meterProvider.getMeter('m').createCounter('c');
    counter.add(1);
    await p.forceFlush();
    counter.add(1);
    await p.forceFlush();
    await p.shutdown();
    expect(p.stats()).toMatchObject({ exports: 0, failedExports: 3 });
    expect(logs).toEqual([expect.stringMatching(
      new RegExp(`^moa-otel: OTLP metrics export to http://127\\.0\\.0\\.1:${port}/v1/metrics failed: ECONNREFUSED: .*; the totals of 1 data point go with the next export; further failures of this kind are counted and reported when exports work again\\.$`),
    )]);
  });

  it('does not hang forceFlush or shutdown on a receiver that never answers: bounded by the export timeout', async () => {
    const r = await receiver();
    r.respondNext({ status: 200, delayMs: 600_000 }, { status: 200, delayMs: 600_000 });
    const { pipeline: p, logs } = pipeline({ otlp: { endpoint: `${r.url}/v1/traces`, timeoutMs: 300 } });
    p.meterProvider.getMeter('m').createCounter('c').add(1);
    const sentinel = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref());
    expect(await Promise.race([p.forceFlush().then(() => 'returned'), sentinel])).toBe('returned');
    expect(await Promise.race([p.shutdown().then(() => 'returned'), sentinel])).toBe('returned');
    expect(r.pending()).toBeGreaterThan(0); // the receiver never answered
    expect(logs).toEqual([expect.stringMatching(/OTLP metrics export to .* failed: no answer within 300 ms/)]);
  });

  it('says once when exports work again, and counts data points a receiver rejects', async () => {
    const r = await receiver();
    r.failWith(503);
    const { pipeline: p, logs } = pipeline({ otlp: { endpoint: `${r.url}/v1/traces` } });
    const counter = p.meterProvider.getMeter('m').createCounter('c');
    counter.add(1, { a: 1 });
    counter.add(1, { a: 2 });
    await p.forceFlush();
    await p.forceFlush();
    r.failWith(null);
    r.respondNext({ status: 200, body: JSON.stringify({ partialSuccess: { rejectedDataPoints: '1', errorMessage: 'too old' } }) });
    await p.forceFlush();
    await p.forceFlush();
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatch(/failed: HTTP 503; the totals of 2 data points go with the next export/);
    expect(logs[1]).toMatch(/^moa-otel: OTLP metrics export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics works again after 2 failed requests \(HTTP 503\)$/);
    expect(logs[2]).toMatch(/^moa-otel: the OTLP receiver at .* rejected 1 data point: too old \(further rejections are counted, not repeated\)$/);
    expect(p.stats()).toMatchObject({ exports: 2, failedExports: 2, rejectedDataPoints: 1 });
    expect(r.metricsRequests).toHaveLength(1); // the scripted answer took one request without recording it
  });

  it('sends OTEL_EXPORTER_OTLP_METRICS_HEADERS only where the standard variables send metrics, else the OTLP headers', async () => {
    const r = await receiver();
    const a = pipeline({ otlp: { endpoint: `${r.url}/v1/traces`, headers: { 'x-key': 'traces' } } }).pipeline;
    // A metrics URL derived from moa-otel's own endpoint never gets the standard metrics credentials.
    const b = pipeline({ otlp: { endpoint: `${r.url}/v1/traces`, headers: { 'x-key': 'traces' } } }, { OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-key=vendor' }).pipeline;
    const c = pipeline({ otlp: { enabled: true } }, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${r.url}/v1/metrics`, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-key=metrics%20only' }).pipeline;
    for (const p of [a, b, c]) {
      p.meterProvider.getMeter('m').createCounter('c').add(1);
      await p.forceFlush();
    }
    expect(r.metricsRequests.map((q) => q.headers['x-key'])).toEqual(['traces', 'traces', 'metrics only']);
    expect(() => pipeline({ otlp: { enabled: true } }, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${r.url}/v1/metrics`, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'secret-without-equals' })).toThrow(
      new MoaConfigError('moa config: OTEL_EXPORTER_OTLP_METRICS_HEADERS: expected key=value pairs separated by commas'),
    );
  });
});

describe('metrics endpoint and switches', () => {
  function urlOf(options: MoaOptions, env: Env = {}): string | undefined {
    const config = resolveConfig(options, { env, ignoreConfigFile: true });
    const built = buildMetricsPipeline(config, env, { log: () => undefined });
    if (built) pipelines.push(built);
    return built?.url;
  }

  it('resolves the metrics URL: otlp.metrics_endpoint, the metrics variable, the traces endpoint, the generic variable, the default', () => {
    const traces = 'http://traces.example:4318/v1/traces';
    expect(urlOf({ otlp: { endpoint: traces, metricsEndpoint: 'http://m.example/custom' } }, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://env.example/x' }))
      .toBe('http://m.example/custom');
    expect(urlOf({ otlp: { endpoint: traces } }, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: ' http://env.example/x ' })).toBe('http://env.example/x');
    expect(urlOf({ otlp: { endpoint: traces } })).toBe('http://traces.example:4318/v1/metrics');
    expect(urlOf({ otlp: { endpoint: 'https://cloud.example/otlp/v1/traces/?key=k' } })).toBe('https://cloud.example/otlp/v1/metrics?key=k');
    expect(urlOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/metrics');
    expect(urlOf({ otlp: { enabled: true } })).toBe('http://localhost:4318/v1/metrics');
    // A traces endpoint moa-otel was configured with counts, even next to the generic variable ...
    expect(urlOf({ otlp: { endpoint: traces } }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://traces.example:4318/v1/metrics');
    // ... but OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is for traces only when the generic one is set (e.g. traces to Tempo, the rest to a collector).
    expect(urlOf({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))
      .toBe('http://collector:4318/v1/metrics');
    expect(urlOf({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces' })).toBe('http://tempo:4318/v1/metrics');
  });

  it('says in one line why metrics are off when no metrics URL follows from a custom traces path', () => {
    const logs: string[] = [];
    const config = resolveConfig({ otlp: { endpoint: 'https://user:pw@x.example/ingest/spans?key=secret' } }, { env: {}, ignoreConfigFile: true });
    expect(buildMetricsPipeline(config, {}, { log: (m) => logs.push(m) })).toBeUndefined();
    expect(logs).toEqual(['moa-otel: metrics are not exported: no metrics URL follows from the traces endpoint https://x.example/ingest/spans '
      + '(it does not end in /v1/traces); set otlp.metrics_endpoint or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']);
    expect(urlOf({ otlp: { endpoint: 'https://x.example/ingest/spans' } }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318/v1/metrics');
  });

  it('is off with OTLP off, otlp.metrics false, OTEL_METRICS_EXPORTER=none or OTEL_SDK_DISABLED=true', () => {
    const traces = { endpoint: 'http://c:4318/v1/traces' };
    expect(urlOf({})).toBeUndefined();
    expect(urlOf({ otlp: { ...traces, enabled: false } })).toBeUndefined();
    expect(urlOf({ otlp: { ...traces, metrics: false } })).toBeUndefined();
    expect(urlOf({ otlp: { ...traces, metrics: 'off' } })).toBeUndefined();
    expect(urlOf({ otlp: traces }, { OTEL_METRICS_EXPORTER: ' None ' })).toBeUndefined();
    expect(urlOf({ otlp: traces }, { OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(urlOf({ otlp: traces }, { OTEL_METRICS_EXPORTER: 'otlp' })).toBe('http://c:4318/v1/metrics');
  });

  it('refuses a metrics endpoint it cannot use with one line naming the variable, and exports with http/protobuf past a grpc protocol', () => {
    const options = { otlp: { endpoint: 'http://c:4318/v1/traces' } };
    expect(() => urlOf(options, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318' })).toThrow(
      new MoaConfigError('moa config: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: expected an http(s) URL, got "collector:4318"'),
    );
    // A protocol moa-otel does not speak names another exporter's choice: moa-otel exports with http/protobuf.
    expect(() => urlOf(options, { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' })).not.toThrow();
    expect(() => urlOf({ otlp: { ...options.otlp, metricsEndpoint: 'not a url' } })).toThrow(/otlp\.metrics_endpoint.*http\(s\) URL/);
  });
});

describe('the export timer', () => {
  function runChild(url: string, mode: 'flush' | 'idle'): Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/export/otlp-metrics/child-pipeline.ts', url, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let hung = false;
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
      // Far beyond what starting node and one export take, far below the 60 s interval the child is set to.
      const guard = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, 30_000);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(guard);
        resolve({ code, stdout, stderr, hung });
      });
    });
  }

  it('never keeps the process alive: a child that records (and exports once) without shutdown exits by itself', async () => {
    const r = await receiver();
    for (const mode of ['flush', 'idle'] as const) {
      const result = await runChild(`${r.url}/v1/metrics`, mode);
      expect(result.hung, `${mode}: ${result.stderr}`).toBe(false);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ intervalMillis: 60_000, exports: mode === 'flush' ? 1 : 0 });
    }
    expect(r.metricsRequests).toHaveLength(1);
    expect(metricsByName(r.metricsRequests[0]!.json).get('child.runs')!.sum!.dataPoints[0]!.asDouble).toBe(1);
  });
});
