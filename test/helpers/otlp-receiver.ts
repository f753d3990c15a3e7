/**
 * A minimal in-process OTLP/HTTP receiver for tests: a node:http server on
 * 127.0.0.1 (port 0) that collects every POST to /v1/traces. The official
 * JSON exporter (`@opentelemetry/exporter-trace-otlp-http`) sends
 * `Content-Type: application/json`, possibly gzip-encoded when configured;
 * both are decoded here. Protobuf bodies are kept raw.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  /** Parsed body when JSON, else undefined. */
  json: OtlpTraceRequest | undefined;
  raw: Buffer;
}

/** The parts of an OTLP JSON ExportTraceServiceRequest tests look at. */
export interface OtlpTraceRequest {
  resourceSpans: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans: { scope?: { name?: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

export interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: OtlpKeyValue['value'][] } };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  links?: { traceId: string; spanId: string }[];
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number; message?: string };
}

export interface OtlpReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123 (append /v1/traces yourself or let the exporter do it). */
  url: string;
  requests: ReceivedRequest[];
  /** Every span of every JSON request, in arrival order. */
  spans(): OtlpSpan[];
  /** Responds with this HTTP status from now on (to test failures). */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  let failStatus: number | null = null;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const contentType = String(req.headers['content-type'] ?? '');
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (failStatus !== null) {
        res.writeHead(failStatus, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const json = contentType.startsWith('application/json') ? (JSON.parse(raw.toString('utf8')) as OtlpTraceRequest) : undefined;
      requests.push({ path: req.url, headers: req.headers, contentType, json, raw });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans: () => requests.flatMap((r) => r.json?.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)) ?? []),
    failWith(status) {
      failStatus = status;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
}

/** The attribute value of `key` on a span as a plain JS value. */
export function attr(span: Pick<OtlpSpan, 'attributes'>, key: string): unknown {
  const kv = span.attributes.find((a) => a.key === key);
  if (!kv) return undefined;
  const v = kv.value;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map((x) => x.stringValue ?? x.intValue ?? x.doubleValue ?? x.boolValue);
  return undefined;
}
