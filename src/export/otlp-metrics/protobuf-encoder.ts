/**
 * `ExportMetricsServiceRequest` in the protobuf wire format (OTLP/HTTP
 * `http/protobuf`). Field numbers are those of opentelemetry-proto's
 * `collector/metrics/v1/metrics_service.proto` and `metrics/v1/metrics.proto`;
 * the envelopes, attributes and times are written as every signal writes
 * them (`../otlp/common-proto.ts`). A point's value is a oneof (`as_double`
 * or `as_int`) and a histogram's sum, min and max have explicit presence, so
 * those are written even when 0.
 */
import { writeAttributes, writeResourceGroup, writeScopeGroup, writeTime } from '../otlp/common-proto.js';
import { encodeProto, type ProtoSink } from '../otlp/proto-sink.js';
import type { HistogramPoint, MetricData, MetricDescriptor, NumberPoint, ResourceMetricsData } from './metric-data.js';

/** Field numbers, per message. */
const REQUEST = { resourceMetrics: 1 } as const;
const METRIC = { name: 1, description: 2, unit: 3, gauge: 5, sum: 7, histogram: 9 } as const;
/** `Gauge`, `Sum` and `Histogram` alike. */
const DATA = { dataPoints: 1, aggregationTemporality: 2, isMonotonic: 3 } as const;
const NUMBER_POINT = { startTime: 2, time: 3, asDouble: 4, asInt: 6, attributes: 7 } as const;
const HISTOGRAM_POINT = { startTime: 2, time: 3, count: 4, sum: 5, bucketCounts: 6, explicitBounds: 7, attributes: 9, min: 11, max: 12 } as const;
/** `AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE`. */
export const CUMULATIVE = 2;
const TWO_POW_32 = 0x1_0000_0000;

/** The request body for one collection. */
export function encodeProtobufMetricsRequest(data: ResourceMetricsData): Buffer {
  return encodeProto((out) => {
    out.message(REQUEST.resourceMetrics, () => writeResourceGroup(out, data.resource, data.scopeMetrics, (scopeMetrics) => {
      writeScopeGroup(out, scopeMetrics.scope, scopeMetrics.metrics, (metric) => writeMetric(out, metric));
    }));
  });
}

function writeMetric(out: ProtoSink, metric: MetricData): void {
  const { name, description, unit } = metric.descriptor;
  if (name) out.string(METRIC.name, name);
  if (description) out.string(METRIC.description, description);
  if (unit) out.string(METRIC.unit, unit);
  switch (metric.kind) {
    case 'gauge':
      return out.message(METRIC.gauge, () => writeNumberPoints(out, metric.descriptor, metric.points));
    case 'sum':
      return out.message(METRIC.sum, () => {
        writeNumberPoints(out, metric.descriptor, metric.points);
        out.uint(DATA.aggregationTemporality, CUMULATIVE);
        if (metric.monotonic) out.uint(DATA.isMonotonic, 1);
      });
    case 'histogram':
      return out.message(METRIC.histogram, () => {
        for (const point of metric.points) out.message(DATA.dataPoints, () => writeHistogramPoint(out, point));
        out.uint(DATA.aggregationTemporality, CUMULATIVE);
      });
  }
}

function writeNumberPoints(out: ProtoSink, descriptor: MetricDescriptor, points: readonly NumberPoint[]): void {
  for (const point of points) {
    out.message(DATA.dataPoints, () => {
      writeTime(out, NUMBER_POINT.startTime, point.startTime);
      writeTime(out, NUMBER_POINT.time, point.time);
      if (descriptor.valueType === 'int') out.sfixed64(NUMBER_POINT.asInt, point.value);
      else out.double(NUMBER_POINT.asDouble, point.value);
      writeAttributes(out, NUMBER_POINT.attributes, point.attributes);
    });
  }
}

function writeHistogramPoint(out: ProtoSink, point: HistogramPoint): void {
  writeTime(out, HISTOGRAM_POINT.startTime, point.startTime);
  writeTime(out, HISTOGRAM_POINT.time, point.time);
  const high = Math.floor(point.count / TWO_POW_32);
  out.fixed64(HISTOGRAM_POINT.count, point.count - high * TWO_POW_32, high);
  out.double(HISTOGRAM_POINT.sum, point.sum);
  out.packedFixed64(HISTOGRAM_POINT.bucketCounts, point.bucketCounts);
  out.packedDouble(HISTOGRAM_POINT.explicitBounds, point.boundaries);
  writeAttributes(out, HISTOGRAM_POINT.attributes, point.attributes);
  out.double(HISTOGRAM_POINT.min, point.min);
  out.double(HISTOGRAM_POINT.max, point.max);
}
