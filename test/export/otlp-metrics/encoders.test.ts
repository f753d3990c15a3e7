import { ValueType, type Attributes, type HrTime, type Meter } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, MeterProvider, MetricReader,
  type MetricData as SdkMetricData, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeJsonMetricsRequest } from '../../../src/export/otlp-metrics/json-encoder.js';
import type { MetricData, ResourceMetricsData } from '../../../src/export/otlp-metrics/metric-data.js';
import { OwnMeterProvider } from '../../../src/export/otlp-metrics/meter-provider.js';
import { encodeProtobufMetricsRequest } from '../../../src/export/otlp-metrics/protobuf-encoder.js';
import { canonicalMetricsRequest, decodeProtobufMetricsRequest } from '../../helpers/otlp-metrics-proto.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** Our collected data in the SDK's shape, so otlp-transformer encodes exactly what we do. */
function asSdkResourceMetrics(data: ResourceMetricsData): ResourceMetrics {
  return {
    resource: resourceFromAttributes(data.resource.attributes),
    scopeMetrics: data.scopeMetrics.map(({ scope, metrics }) => ({
      scope: { name: scope.name, ...(scope.version ? { version: scope.version } : {}), ...(scope.schemaUrl ? { schemaUrl: scope.schemaUrl } : {}) },
      metrics: metrics.map(asSdkMetric),
    })),
  };
}

function asSdkMetric(metric: MetricData): SdkMetricData {
  const descriptor = { ...metric.descriptor, valueType: metric.descriptor.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE };
  const times = (point: { startTime: HrTime; time: HrTime; attributes: Attributes }) => ({ startTime: point.startTime, endTime: point.time, attributes: point.attributes });
  switch (metric.kind) {
    case 'sum':
      return {
        descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: metric.monotonic,
        dataPoints: metric.points.map((p) => ({ ...times(p), value: p.value })),
      } as SdkMetricData;
    case 'gauge':
      return {
        descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE,
        dataPoints: metric.points.map((p) => ({ ...times(p), value: p.value })),
      } as SdkMetricData;
    case 'histogram':
      return {
        descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
        dataPoints: metric.points.map((p) => ({
          ...times(p),
          value: { buckets: { boundaries: [...p.boundaries], counts: [...p.bucketCounts] }, count: p.count, sum: p.sum, min: p.min, max: p.max },
        })),
      } as SdkMetricData;
  }
}

/** Ours (protobuf and JSON) and otlp-transformer's (protobuf and JSON) decode to the same request. */
function expectSameAsOfficial(data: ResourceMetricsData): unknown {
  const sdkShape = asSdkResourceMetrics(data);
  const theirs = ProtobufMetricsSerializer.serializeRequest(sdkShape);
  const theirsJson = JsonMetricsSerializer.serializeRequest(sdkShape);
  if (!theirs || !theirsJson) throw new Error('otlp-transformer could not serialize');
  const expected = canonicalMetricsRequest(theirs, PROTOBUF);
  expect(canonicalMetricsRequest(encodeProtobufMetricsRequest(data), PROTOBUF)).toEqual(expected);
  expect(canonicalMetricsRequest(encodeJsonMetricsRequest(data), JSON_TYPE)).toEqual(expected);
  expect(canonicalMetricsRequest(theirsJson, JSON_TYPE)).toEqual(expected);
  return expected;
}

/** Instruments of every kind and value type, on any meter (ours or the SDK's). */
function instruments(meter: Meter) {
  return [
    meter.createCounter('gen_ai.client.calls', { unit: '{call}', description: 'calls' }),
    meter.createCounter('gen_ai.client.tokens', { valueType: ValueType.INT }),
    meter.createUpDownCounter('moa.inflight', { valueType: ValueType.INT }),
    meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' }),
    meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', valueType: ValueType.INT, advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024] } }),
    meter.createGauge('moa.queue.bytes'),
  ].map((instrument) => (value: number, attributes?: Attributes) => {
    if ('add' in instrument) instrument.add(value, attributes);
    else instrument.record(value, attributes);
  });
}

type Measurement = [instrument: number, value: number, attributes: Attributes];

const RICH: Measurement[] = [
  [0, 1, { 'gen_ai.request.model': 'gpt-4o', 'moa.role': 'reference' }],
  [0, 2.5, { 'moa.role': 'reference', 'gen_ai.request.model': 'gpt-4o' }],
  [0, 0, {}],
  [1, 150, { 'gen_ai.token.type': 'input' }],
  [1, 2 ** 40 + 0.75, { 'gen_ai.token.type': 'output' }],
  [2, -3, { n: 1, flag: true, list: ['a', 'b'], ratio: 0.5 }],
  [3, 0.0123, { 'gen_ai.operation.name': 'chat' }],
  [3, 12_000, { 'gen_ai.operation.name': 'chat' }],
  [4, 3, { 'gen_ai.token.type': 'input', unicode: 'héllo 😀' }],
  [4, 5000, { 'gen_ai.token.type': 'input', unicode: 'héllo 😀' }],
  [5, -1.5e300, { q: 'a' }],
  [5, 42, { q: 'b' }],
];

function ourCollection(measurements: readonly Measurement[], meterNames: readonly [string, string?][] = [['moa-otel', '0.1.0']]): ResourceMetricsData {
  let tick = 1_763_900_000;
  const provider = new OwnMeterProvider({ resourceAttributes: { 'service.name': 'enc', 'deployment.environment': 'test' }, now: () => [tick++, 123_456_789] });
  const meters = meterNames.map(([name, version]) => instruments(provider.getMeter(name, version)));
  measurements.forEach(([index, value, attributes], i) => meters[i % meters.length]![index]!(value, attributes));
  return provider.collect();
}

class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The same measurements through the OpenTelemetry SDK's MeterProvider (cumulative, default aggregations). */
async function sdkCollection(measurements: readonly Measurement[]): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'enc', 'deployment.environment': 'test' }), readers: [reader] });
  const record = instruments(provider.getMeter('moa-otel', '0.1.0'));
  for (const [index, value, attributes] of measurements) record[index]!(value, attributes);
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  await provider.shutdown();
  return resourceMetrics;
}

/** A canonical request with times zeroed and attributes in key order: what aggregation decided, not when. */
function aggregationView(canonical: unknown): unknown {
  return JSON.parse(JSON.stringify(canonical), (key, value: unknown) => {
    if (key === 'startTimeUnixNano' || key === 'timeUnixNano') return '0';
    if (key === 'attributes' && Array.isArray(value)) return [...value].sort((a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return value;
  });
}

describe('OTLP metrics encoders against @opentelemetry/otlp-transformer', () => {
  it('encode sums, gauges and histograms, int and double points, alike in protobuf and JSON', () => {
    const data = ourCollection(RICH, [['moa-otel', '0.1.0'], ['other', undefined]]);
    const request = expectSameAsOfficial(data) as {
      resourceMetrics: { scopeMetrics: { scope: { name: string }; metrics: { name: string; sum?: { aggregationTemporality: number; isMonotonic: boolean } }[] }[] }[];
    };
    // Spot checks that the comparison saw the interesting parts at all.
    const scopes = request.resourceMetrics[0]!.scopeMetrics;
    expect(scopes.map((s) => s.scope.name)).toEqual(['moa-otel', 'other']);
    const calls = scopes[0]!.metrics.find((m) => m.name === 'gen_ai.client.calls');
    expect(calls?.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
  });

  it('write the OTLP/JSON mapping: 64-bit integers and times as strings, enums as integers, explicit zeros where presence matters', () => {
    const data = ourCollection([[1, 2 ** 53 + 2, {}], [2, -(2 ** 40), {}], [3, 0, {}], [0, 0, {}]]);
    const json = JSON.parse(encodeJsonMetricsRequest(data).toString('utf8'));
    const metrics = new Map<string, Record<string, { dataPoints: Record<string, unknown>[]; aggregationTemporality?: number; isMonotonic?: boolean }>>(
      json.resourceMetrics[0].scopeMetrics[0].metrics.map((m: { name: string }) => [m.name, m]),
    );
    expect(metrics.get('gen_ai.client.tokens')!.sum!.dataPoints[0]).toMatchObject({ asInt: '9007199254740994', startTimeUnixNano: '1763900000123456789' });
    expect(metrics.get('moa.inflight')!.sum!.dataPoints[0]!.asInt).toBe('-1099511627776');
    expect(metrics.get('moa.inflight')!.sum).toMatchObject({ aggregationTemporality: 2 });
    expect(metrics.get('moa.inflight')!.sum!.isMonotonic).toBeUndefined();
    expect(metrics.get('gen_ai.client.calls')!.sum!.dataPoints[0]!.asDouble).toBe(0);
    const histogram = metrics.get('gen_ai.client.operation.duration')!.histogram!.dataPoints[0]!;
    expect(histogram).toMatchObject({ count: '1', sum: 0, min: 0, max: 0 });
    expect(histogram.bucketCounts).toEqual(['1', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0']);
    expect(histogram.explicitBounds).toEqual([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);
    // The protobuf body carries the same explicit zeros (sum, min, max, as_double).
    const decoded = decodeProtobufMetricsRequest(encodeProtobufMetricsRequest(data)).resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    expect(decoded.find((m) => m.name === 'gen_ai.client.operation.duration')!.histogram!.dataPoints[0]).toMatchObject({ sum: 0, min: 0, max: 0, count: '1' });
    expect(decoded.find((m) => m.name === 'gen_ai.client.calls')!.sum!.dataPoints[0]!.asDouble).toBe(0);
  });

  it('write int points beyond int64 clamped, the same in both encodings', () => {
    const data = ourCollection([[1, 2 ** 64, {}], [2, -(2 ** 64), {}]]);
    const canonical = canonicalMetricsRequest(encodeProtobufMetricsRequest(data), PROTOBUF);
    expect(canonicalMetricsRequest(encodeJsonMetricsRequest(data), JSON_TYPE)).toEqual(canonical);
    const points = decodeProtobufMetricsRequest(encodeProtobufMetricsRequest(data)).resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => m.sum!.dataPoints[0]!.asInt);
    expect(points).toEqual(['9223372036854775807', '-9223372036854775808']);
  });

  it('agree with the SDK MeterProvider + otlp-transformer on what is aggregated (rich case)', async () => {
    const ours = canonicalMetricsRequest(encodeProtobufMetricsRequest(ourCollection(RICH)), PROTOBUF);
    const theirs = ProtobufMetricsSerializer.serializeRequest(await sdkCollection(RICH))!;
    expect(aggregationView(ours)).toEqual(aggregationView(canonicalMetricsRequest(theirs, PROTOBUF)));
  });

  it('agree with the SDK and otlp-transformer for random measurements', async () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 8 });
    const attributes = fc.dictionary(fc.constantFrom('a', 'b', 'model', 'role'), fc.oneof(text, fc.integer({ min: -5, max: 5 }), fc.boolean()), { maxKeys: 3 });
    const value = fc.oneof(fc.integer({ min: -1000, max: 1_000_000 }), fc.double({ min: -1e6, max: 1e9, noNaN: true, noDefaultInfinity: true }));
    const measurement = fc.tuple(fc.integer({ min: 0, max: 5 }), value, attributes) as fc.Arbitrary<Measurement>;
    await fc.assert(
      fc.asyncProperty(fc.array(measurement, { minLength: 1, maxLength: 40 }), async (measurements) => {
        const data = ourCollection(measurements);
        if (data.scopeMetrics.length === 0) return; // every value dropped (negative counters): the SDK sends no metric either
        const ours = canonicalMetricsRequest(encodeProtobufMetricsRequest(data), PROTOBUF);
        expectSameAsOfficial(data);
        const theirs = ProtobufMetricsSerializer.serializeRequest(await sdkCollection(measurements))!;
        expect(aggregationView(ours)).toEqual(aggregationView(canonicalMetricsRequest(theirs, PROTOBUF)));
      }),
      { numRuns: 150 },
    );
  });
});
