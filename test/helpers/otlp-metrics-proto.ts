/**
 * Decoding OTLP metrics requests in tests with protobufjs, independently of
 * moa-otel's encoder, from opentelemetry-proto's metrics_service.proto and
 * metrics.proto (the messages an ExportMetricsServiceRequest holds, exemplars
 * included so a stray one would show). Same two views as for traces:
 * the OTLP/JSON shape, and a canonical object with every default filled.
 */
import { canonicalOtlpRequest, decodeOtlpProtobuf, otlpRequestType, type OtlpContentType } from './otlp-proto.js';

const OTLP_METRIC_PROTO = `
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
  }
  repeated KeyValue metadata = 12;
}
enum AggregationTemporality {
  AGGREGATION_TEMPORALITY_UNSPECIFIED = 0;
  AGGREGATION_TEMPORALITY_DELTA = 1;
  AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum {
  repeated NumberDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
  bool is_monotonic = 3;
}
message Histogram {
  repeated HistogramDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
}
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value {
    double as_double = 4;
    sfixed64 as_int = 6;
  }
  repeated Exemplar exemplars = 5;
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  repeated Exemplar exemplars = 8;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}
message Exemplar {
  repeated KeyValue filtered_attributes = 7;
  fixed64 time_unix_nano = 2;
  oneof value {
    double as_double = 3;
    sfixed64 as_int = 6;
  }
  bytes span_id = 4;
  bytes trace_id = 5;
}
`;

const MetricsRequest = otlpRequestType({ request: 'ExportMetricsServiceRequest', envelope: 'Metrics', item: 'Metric', messages: OTLP_METRIC_PROTO });

/** The parts of an OTLP/JSON ExportMetricsServiceRequest tests look at. */
export interface OtlpMetricsRequest {
  resourceMetrics: {
    resource?: { attributes?: OtlpKeyValueLike[] };
    scopeMetrics: { scope?: { name?: string; version?: string }; metrics: OtlpMetric[] }[];
  }[];
}

interface OtlpKeyValueLike {
  key: string;
  value: Record<string, unknown>;
}

export interface OtlpNumberPoint {
  attributes?: OtlpKeyValueLike[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number | string;
  asInt?: number | string;
}

export interface OtlpHistogramPoint {
  attributes?: OtlpKeyValueLike[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: number | string;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: (number | string)[];
  explicitBounds?: number[];
}

export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  sum?: { dataPoints: OtlpNumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  gauge?: { dataPoints: OtlpNumberPoint[] };
  histogram?: { dataPoints: OtlpHistogramPoint[]; aggregationTemporality?: number };
}

/** A protobuf request body as the OTLP/JSON shape (throws on bytes that are not a valid request). */
export function decodeProtobufMetricsRequest(body: Uint8Array): OtlpMetricsRequest {
  return decodeOtlpProtobuf(MetricsRequest, body) as OtlpMetricsRequest;
}

/** A request body of either encoding as one comparable object: all defaults filled, int64s as strings. */
export function canonicalMetricsRequest(body: Uint8Array, contentType: OtlpContentType): unknown {
  return canonicalOtlpRequest(MetricsRequest, body, contentType);
}

/** The attributes of a point as a plain object (strings, numbers, booleans). */
export function pointAttributes(point: { attributes?: OtlpKeyValueLike[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of point.attributes ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue;
    out[key] = typeof v === 'string' && value.intValue !== undefined ? Number(v) : v;
  }
  return out;
}

/** Every metric of a request, by name. */
export function metricsByName(request: OtlpMetricsRequest): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const resource of request.resourceMetrics) for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) out.set(metric.name, metric);
  return out;
}
