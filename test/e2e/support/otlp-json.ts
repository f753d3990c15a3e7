/**
 * Reads OTLP JSON (ExportTraceServiceRequest / TracesData) as written by the
 * collector's file exporter and served by Jaeger's /api/v3 into flat,
 * comparable spans: hex ids, numeric kinds, attribute values as plain JS values.
 */

export interface FlatSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP numbering: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  resource: Record<string, unknown>;
  scopeName: string;
}

export const SPAN_KIND_INTERNAL = 1;
export const SPAN_KIND_CLIENT = 3;

const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

type Json = Record<string, unknown>;

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

/** OTLP/JSON ids are hex; some protobuf-JSON encoders use base64. Accept both. */
export function normalizeId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return '';
  if (/^[0-9a-fA-F]+$/.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

export function anyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const v = value as Json;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return asArray((v.arrayValue as Json | undefined)?.values).map(anyValue);
  if ('kvlistValue' in v) return keyValues((v.kvlistValue as Json | undefined)?.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

export function keyValues(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of asArray(list)) out[String(kv.key)] = anyValue(kv.value);
  return out;
}

function kindOf(kind: unknown): number {
  if (typeof kind === 'number') return kind;
  if (typeof kind === 'string') return KIND_NAMES[kind] ?? Number(kind);
  return 0;
}

/** Spans of one TracesData / ExportTraceServiceRequest object. */
export function flattenTracesData(data: unknown): FlatSpan[] {
  const spans: FlatSpan[] = [];
  for (const rs of asArray((data as Json | null)?.resourceSpans)) {
    const resource = keyValues((rs.resource as Json | undefined)?.attributes);
    for (const ss of asArray(rs.scopeSpans)) {
      const scopeName = String((ss.scope as Json | undefined)?.name ?? '');
      for (const s of asArray(ss.spans)) {
        spans.push({
          traceId: normalizeId(s.traceId),
          spanId: normalizeId(s.spanId),
          parentSpanId: normalizeId(s.parentSpanId),
          name: String(s.name),
          kind: kindOf(s.kind),
          attributes: keyValues(s.attributes),
          links: asArray(s.links).map((l) => ({ traceId: normalizeId(l.traceId), spanId: normalizeId(l.spanId) })),
          resource,
          scopeName,
        });
      }
    }
  }
  return spans;
}
