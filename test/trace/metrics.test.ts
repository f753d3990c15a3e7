/**
 * Metrics of MoA turns through the application's meter: GenAI client token
 * usage and duration histograms with the advised buckets, time to first chunk
 * for streams, and MoA's turn, failure and cost counters — read back from an
 * in-memory metric reader of the real SDK.
 */
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader,
  type DataPoint, type Histogram, type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';
import { recordMetricsTurn } from '../helpers/metrics-turn.js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

async function collect(meterProvider: MeterProvider, exporter: InMemoryMetricExporter): Promise<Map<string, MetricData>> {
  await meterProvider.forceFlush();
  const found = new Map<string, MetricData>();
  for (const batch of exporter.getMetrics()) for (const scope of batch.scopeMetrics) for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
  return found;
}

function setup(global = false) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })] });
  if (global) metrics.setGlobalMeterProvider(meterProvider);
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
  return { exporter, meterProvider, tracerProvider };
}

afterEach(() => {
  metrics.disable();
});

const point = <T>(metric: MetricData | undefined, match: Record<string, unknown>): DataPoint<T> | undefined =>
  (metric?.dataPoints as DataPoint<T>[] | undefined)?.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));

describe('metrics', () => {
  it('records GenAI client histograms and MoA counters through the meter it is given', async () => {
    const { exporter, meterProvider, tracerProvider } = setup();
    const instrumentation = new MoaInstrumentation({ tracerProvider, meterProvider });
    recordMetricsTurn(instrumentation);
    recordMetricsTurn(instrumentation, 'hit');
    const found = await collect(meterProvider, exporter);

    const tokens = found.get('gen_ai.client.token.usage');
    expect(tokens?.descriptor.unit).toBe('{token}');
    const input = point<Histogram>(tokens, { 'gen_ai.token.type': 'input', 'gen_ai.request.model': 'ref-a' });
    // GenAI meaning: input includes cached tokens.
    expect(input?.value.sum).toBe(240);
    expect(input?.value.count).toBe(2);
    expect(input?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'ref-a-2026',
      'server.address': 'api.example', 'server.port': 443,
    });
    expect(input?.value.buckets.boundaries).toEqual([1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]);

    const duration = found.get('gen_ai.client.operation.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(point<Histogram>(duration, { 'gen_ai.request.model': 'ref-b', 'error.type': '429' })?.value.count).toBe(2);
    expect(point<Histogram>(duration, { 'gen_ai.request.model': 'agg' })?.value.buckets.boundaries[0]).toBe(0.01);
    expect(point<Histogram>(found.get('gen_ai.client.operation.time_to_first_chunk'), { 'gen_ai.request.model': 'agg' })?.value.count).toBe(2);
    expect(point<Histogram>(found.get('gen_ai.client.operation.time_to_first_chunk'), { 'gen_ai.request.model': 'ref-a' })).toBeUndefined();

    expect(point<number>(found.get('moa.turns'), { 'moa.cache': 'miss', 'moa.preset': 'duo' })?.value).toBe(1);
    expect(point<number>(found.get('moa.turns'), { 'moa.cache': 'hit' })?.value).toBe(1);
    expect(point<number>(found.get('moa.reference.failures'), { 'gen_ai.request.model': 'ref-b', 'error.type': '429' })?.value).toBe(2);
    const cost = found.get('moa.cost');
    expect(cost?.descriptor.unit).toBe('{USD}');
    expect(point<number>(cost, { 'gen_ai.request.model': 'ref-a', 'moa.role': 'reference' })?.value).toBe(1);
    expect(point<number>(cost, { 'gen_ai.request.model': 'agg', 'moa.role': 'aggregator' })?.value).toBe(0.5);
  });

  it('uses the meter provider the application registers, even after the first turn', async () => {
    const { exporter, meterProvider, tracerProvider } = setup();
    const instrumentation = new MoaInstrumentation({ tracerProvider });
    recordMetricsTurn(instrumentation); // no meter provider yet: nothing to record into
    metrics.setGlobalMeterProvider(meterProvider);
    recordMetricsTurn(instrumentation);
    const found = await collect(meterProvider, exporter);
    expect(point<number>(found.get('moa.turns'), { 'moa.cache': 'miss' })?.value).toBe(1);
  });
});
