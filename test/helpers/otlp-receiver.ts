/**
 * A minimal in-process OTLP/HTTP receiver for tests: a node:http server on
 * 127.0.0.1 (port 0) that collects every POST to /v1/traces (in `requests`)
 * and /v1/metrics (in `metricsRequests`). Like the
 * collector's OTLP/HTTP receiver it takes `application/json` and
 * `application/x-protobuf` bodies (gzip-encoded or not) and answers 415 to any
 * other Content-Type; `accept` narrows what it takes, e.g. to protobuf only as
 * Arize Phoenix does. Both encodings are decoded into the OTLP/JSON shape
 * (protobuf with protobufjs, independently of moa-otel's encoder).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { decodeProtobufMetricsRequest, type OtlpMetric, type OtlpMetricsRequest } from './otlp-metrics-proto.js';
import { decodeProtobufTraceRequest } from './otlp-proto.js';

export type OtlpMediaType = 'application/json' | 'application/x-protobuf';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  /** The media type of the body (Content-Type without parameters). */
  mediaType: OtlpMediaType;
  /** The request in the OTLP/JSON shape, whichever encoding it came in. */
  json: OtlpTraceRequest;
  /** The body as received, after gunzip. */
  raw: Buffer;
}

/** A POST to /v1/metrics, decoded the same way. */
export interface ReceivedMetricsRequest extends Omit<ReceivedRequest, 'json'> {
  json: OtlpMetricsRequest;
}

/** The parts of an OTLP JSON ExportTraceServiceRequest tests look at. */
export interface OtlpTraceRequest {
  resourceSpans: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans: { scope?: { name?: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number | string;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values: OtlpAnyValue[] };
  kvlistValue?: { values: OtlpKeyValue[] };
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
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
  /** Accepted POSTs to /v1/metrics, in arrival order. */
  metricsRequests: ReceivedMetricsRequest[];
  /** Every span of every accepted request, in arrival order. */
  spans(): OtlpSpan[];
  /** Every metric of every accepted metrics request, in arrival order. */
  metrics(): OtlpMetric[];
  /** Requests the server has read but not answered yet (a scripted delay). */
  pending(): number;
  /** The most requests that were ever in progress at once. */
  mostConcurrent(): number;
  /** Bodies refused with 415 (wrong Content-Type), in arrival order. */
  refused: { contentType: string }[];
  /** Responds (to traces and metrics alike) with this HTTP status (and headers) from now on, to test failures; null: accept again. */
  failWith(status: number | null, headers?: Record<string, string>): void;
  /** The next `responses.length` requests get these answers instead (then back to normal). */
  respondNext(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (a slow collector). */
  delayMs?: number;
}

export interface OtlpReceiverOptions {
  /** The media types taken; others get 415. Default: both. */
  accept?: readonly OtlpMediaType[];
  /** Serve https with this key and certificate (PEM) instead of http. */
  tls?: { key: string; cert: string };
}

const ALL_MEDIA_TYPES: readonly OtlpMediaType[] = ['application/json', 'application/x-protobuf'];

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const accept = options.accept ?? ALL_MEDIA_TYPES;
  const requests: ReceivedRequest[] = [];
  const metricsRequests: ReceivedMetricsRequest[] = [];
  let pending = 0;
  let open = 0;
  let mostOpen = 0;
  const refused: { contentType: string }[] = [];
  const scripted: ScriptedResponse[] = [];
  let failure: ScriptedResponse | null = null;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    open++;
    mostOpen = Math.max(mostOpen, open);
    res.on('close', () => { open--; });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url;
      if (req.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/metrics')) {
        res.writeHead(404).end();
        return;
      }
      const answer = scripted.shift() ?? failure;
      if (answer !== null) {
        const send = () => {
          if (answer.delayMs) pending--;
          if (!res.destroyed) res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '{}');
        };
        if (answer.delayMs) {
          pending++;
          setTimeout(send, answer.delayMs).unref();
        } else {
          send();
        }
        return;
      }
      const contentType = String(req.headers['content-type'] ?? '');
      const mediaType = contentType.split(';')[0]?.trim().toLowerCase() as OtlpMediaType;
      if (!accept.includes(mediaType)) {
        refused.push({ contentType });
        res.writeHead(415, { 'content-type': 'text/plain' }).end(`unsupported media type ${contentType}`);
        return;
      }
      let raw = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        const received = { path, headers: req.headers, contentType, mediaType, raw };
        const parsed: unknown = mediaType === 'application/json' ? JSON.parse(raw.toString('utf8')) : undefined;
        if (path === '/v1/metrics') {
          metricsRequests.push({ ...received, json: (parsed as OtlpMetricsRequest | undefined) ?? decodeProtobufMetricsRequest(raw) });
        } else {
          requests.push({ ...received, json: (parsed as OtlpTraceRequest | undefined) ?? decodeProtobufTraceRequest(raw) });
        }
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`undecodable body: ${String(error)}`);
        return;
      }
      res.writeHead(200, { 'content-type': mediaType }).end(mediaType === 'application/json' ? '{}' : Buffer.alloc(0));
    });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    requests,
    refused,
    metricsRequests,
    spans: () => requests.flatMap((r) => r.json.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))),
    metrics: () => metricsRequests.flatMap((r) => r.json.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))),
    pending: () => pending,
    mostConcurrent: () => mostOpen,
    failWith(status, headers) {
      failure = status === null ? null : { status, ...(headers ? { headers } : {}) };
    },
    respondNext(...responses) {
      scripted.push(...responses);
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
}

/**
 * For the top level of a test file: starts receivers like `startOtlpReceiver`
 * and closes every one of them after each test.
 */
export function receiversClosedAfterEach(): (options?: OtlpReceiverOptions) => Promise<OtlpReceiver> {
  const open: OtlpReceiver[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((receiver) => receiver.close()));
  });
  return async (options) => {
    const receiver = await startOtlpReceiver(options);
    open.push(receiver);
    return receiver;
  };
}

/** A loopback port nothing listens on (bound, noted, released): a receiver that is down. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The attribute value of `key` on a span as a plain JS value. */
export function attr(span: Pick<OtlpSpan, 'attributes'>, key: string): unknown {
  const kv = span.attributes.find((a) => a.key === key);
  if (!kv) return undefined;
  const v = kv.value;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map((x) => x.stringValue ?? (x.intValue !== undefined ? Number(x.intValue) : undefined) ?? x.doubleValue ?? x.boolValue);
  return undefined;
}
