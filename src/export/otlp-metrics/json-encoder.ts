/**
 * `ExportMetricsServiceRequest` in OTLP/JSON (`http/json`): lowerCamelCase
 * field names, enums as integers, 64-bit integers (int points, counts,
 * bucket counts, times) as decimal strings; the envelopes and attributes
 * are written as every signal writes them (`../otlp/common-json.ts`).
 */
import { doubleJson, int64Text, keyValues, resourceGroupJson, scopeGroupJson, timeText, type JsonObject } from '../otlp/common-json.js';
import { int64Halves } from '../otlp/proto-sink.js';
import type { HistogramPoint, MetricData, MetricDescriptor, NumberPoint, ResourceMetricsData } from './metric-data.js';
import { CUMULATIVE } from './protobuf-encoder.js';

/** The request body for one collection, as UTF-8 JSON. */
export function encodeJsonMetricsRequest(data: ResourceMetricsData): Buffer {
  const scopes = data.scopeMetrics.map(({ scope, metrics }) => scopeGroupJson(scope, 'metrics', metrics.map(metric)));
  return Buffer.from(JSON.stringify({ resourceMetrics: [resourceGroupJson(data.resource, 'scopeMetrics', scopes)] }), 'utf8');
}

function metric(source: MetricData): JsonObject {
  const base = {
    name: source.descriptor.name || undefined,
    description: source.descriptor.description || undefined,
    unit: source.descriptor.unit || undefined,
  };
  switch (source.kind) {
    case 'gauge':
      return { ...base, gauge: { dataPoints: numberPoints(source.descriptor, source.points) } };
    case 'sum':
      return {
        ...base,
        sum: { dataPoints: numberPoints(source.descriptor, source.points), aggregationTemporality: CUMULATIVE, isMonotonic: source.monotonic || undefined },
      };
    case 'histogram':
      return { ...base, histogram: { dataPoints: source.points.map(histogramPoint), aggregationTemporality: CUMULATIVE } };
  }
}

function numberPoints(descriptor: MetricDescriptor, points: readonly NumberPoint[]): JsonObject[] {
  return points.map((point) => ({
    attributes: keyValues(point.attributes),
    startTimeUnixNano: timeText(point.startTime),
    timeUnixNano: timeText(point.time),
    asDouble: descriptor.valueType === 'int' ? undefined : doubleJson(point.value),
    asInt: descriptor.valueType === 'int' ? sfixed64Text(point.value) : undefined,
  }));
}

function histogramPoint(point: HistogramPoint): JsonObject {
  return {
    attributes: keyValues(point.attributes),
    startTimeUnixNano: timeText(point.startTime),
    timeUnixNano: timeText(point.time),
    count: int64Text(point.count),
    sum: doubleJson(point.sum),
    bucketCounts: point.bucketCounts.map(int64Text),
    explicitBounds: point.boundaries.length > 0 ? point.boundaries.map(doubleJson) : undefined,
    min: doubleJson(point.min),
    max: doubleJson(point.max),
  };
}

/** Exactly the integer the protobuf encoding's sfixed64 carries for the same number (truncated, clamped to int64). */
function sfixed64Text(value: number): string {
  const [low, high] = int64Halves(value);
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
}
