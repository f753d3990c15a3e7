/**
 * moa-otel's own metrics instruments (src/trace/metrics.ts, through
 * MoaInstrumentation) recorded into the own meter provider and exported to a
 * real receiver: what setupMoaTracing's pipeline sends for MoA turns.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import { buildMetricsPipeline, type MetricsPipeline } from '../../../src/export/otlp-metrics/pipeline.js';
import { MoaInstrumentation } from '../../../src/trace/instrumentation.js';
import { recordMetricsTurn } from '../../helpers/metrics-turn.js';
import { metricsByName, pointAttributes, type OtlpHistogramPoint, type OtlpNumberPoint } from '../../helpers/otlp-metrics-proto.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';

let receiver: OtlpReceiver | undefined;
let pipeline: MetricsPipeline | undefined;
afterEach(async () => {
  await pipeline?.shutdown();
  await receiver?.close();
});

function find<P extends { attributes?: unknown }>(points: P[] | undefined, match: Record<string, unknown>): P | undefined {
  return points?.find((point) => Object.entries(match).every(([key, value]) => pointAttributes(point as { attributes?: [] })[key] === value));
}

describe('MoA metrics through the own metrics pipeline', () => {
  it('arrive at the receiver as GenAI client histograms and MoA counters', async () => {
    receiver = await startOtlpReceiver();
    const config = resolveConfig({ otlp: { endpoint: `${receiver.url}/v1/traces` } }, { env: {}, ignoreConfigFile: true });
    pipeline = buildMetricsPipeline(config, {}, { resourceAttributes: { 'service.name': 'moa-app' } });
    const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    const instrumentation = new MoaInstrumentation({ tracerProvider, meterProvider: pipeline!.meterProvider });
    recordMetricsTurn(instrumentation, 'miss');
    recordMetricsTurn(instrumentation, 'hit');
    await pipeline!.forceFlush();

    expect(receiver.metricsRequests).toHaveLength(1);
    const request = receiver.metricsRequests[0]!.json;
    expect(request.resourceMetrics[0]!.scopeMetrics.map((s) => s.scope?.name)).toEqual(['moa-otel']);
    const metrics = metricsByName(request);
    const tokens = metrics.get('gen_ai.client.token.usage');
    expect(tokens?.unit).toBe('{token}');
    const input = find<OtlpHistogramPoint>(tokens?.histogram?.dataPoints, { 'gen_ai.token.type': 'input', 'gen_ai.request.model': 'ref-a' });
    expect(input).toMatchObject({ count: '2', sum: 240, explicitBounds: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] });
    expect(pointAttributes(input!)).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'ref-a-2026', 'server.port': 443 });
    const duration = metrics.get('gen_ai.client.operation.duration');
    expect(duration?.unit).toBe('s');
    expect(find<OtlpHistogramPoint>(duration?.histogram?.dataPoints, { 'gen_ai.request.model': 'ref-b', 'error.type': '429' })?.count).toBe('2');
    expect(find<OtlpHistogramPoint>(metrics.get('gen_ai.client.operation.time_to_first_chunk')?.histogram?.dataPoints, { 'gen_ai.request.model': 'agg' })?.count).toBe('2');
    const turns = metrics.get('moa.turns');
    expect(turns?.sum).toMatchObject({ isMonotonic: true, aggregationTemporality: 2 });
    expect(find<OtlpNumberPoint>(turns?.sum?.dataPoints, { 'moa.cache': 'miss', 'moa.preset': 'duo' })?.asDouble).toBe(1);
    expect(find<OtlpNumberPoint>(turns?.sum?.dataPoints, { 'moa.cache': 'hit' })?.asDouble).toBe(1);
    expect(find<OtlpNumberPoint>(metrics.get('moa.reference.failures')?.sum?.dataPoints, { 'gen_ai.request.model': 'ref-b', 'error.type': '429' })?.asDouble).toBe(2);
    expect(find<OtlpNumberPoint>(metrics.get('moa.cost')?.sum?.dataPoints, { 'gen_ai.request.model': 'ref-a', 'moa.role': 'reference' })?.asDouble).toBe(1);
    expect(metrics.get('moa.cost')?.unit).toBe('USD');
    expect(pipeline!.stats()).toMatchObject({ exports: 1, droppedMeasurements: 0, overflowMeasurements: 0 });
  });
});
