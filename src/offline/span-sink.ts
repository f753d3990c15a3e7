/**
 * Where replayed spans go: an OTLP endpoint through the official exporter of
 * the protocol the environment names (`<base>/v1/traces` over http/protobuf by
 * default), or a file of OTLP JSON export requests, one per line (the format
 * the collector's file exporter writes, from the official JSON serializer).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { displayUrl } from '../config/otlp-url.js';
import { errorLine } from '../base/errors.js';
import type { OtlpProtocol } from '../config/otlp-protocol.js';
import { otlpTracesUrl } from '../config/otlp-url.js';
import { withoutStandardEndpointAndHeaders } from '../config/settings.js';
import { loadOtlpTraceExporter, type Env } from '../otel/load-exporter.js';
import { loadFromApplication, missingPackageLineFor } from '../otel/load-from-app.js';
import { exportFailureReason } from '../otel/export-failure.js';
import { exportOnce } from '../otel/size-guard.js';
import { EXPORT_SUCCESS, type FinishedSpan, type SpanExporterLike } from '../trace/span-data.js';
import { describeFsError, TraceFileError } from './errors.js';

export interface SpanSink {
  /** Sends or writes the spans; a sink that delivers over a network counts instead of throwing (see `delivery`). */
  write(spans: FinishedSpan[]): Promise<void>;
  close(): Promise<void>;
  /** What a network sink delivered so far; undefined for a file. */
  delivery?(): SpanDelivery;
}

/** What an OTLP sink delivered: spans the receiver took, spans it did not (failed or not sent after a failure), and why. */
export interface SpanDelivery {
  delivered: number;
  failed: number;
  /** The first failure's reason, when anything failed. */
  reason: string | undefined;
}

export class SpanExportError extends Error {
  override readonly name = 'SpanExportError';
}

/** The traces URL of an http(s) base URL (see `otlpTracesUrl`); anything else is a one-line error. */
export function tracesUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new SpanExportError(`not a URL: ${displayUrl(base)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SpanExportError(`expected an http(s) URL, got ${displayUrl(base)}`);
  return otlpTracesUrl(base);
}

export interface OtlpHttpSinkOptions {
  /** Default http/protobuf; `resolveOtlpProtocol(env)` gives the environment's choice. */
  protocol?: OtlpProtocol;
  /** Per export, retries included; left out, OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT or the exporter's 10 s. */
  timeoutMillis?: number;
  /** The standard variables the exporter reads (compression, timeout, certificates). */
  env?: Env;
  cwd?: string;
  /** An exporter to send through instead of loading the official one. */
  exporter?: SpanExporterLike;
}

/**
 * `url` is the full traces URL (see `tracesUrl`). Throws `SpanExportError`
 * (one line) when no exporter can be loaded. After the first failed request
 * the rest is counted as not delivered without being sent: a receiver that is
 * down would only make each batch wait out the same timeout.
 */
export function otlpHttpSink(url: string, options: OtlpHttpSinkOptions = {}): SpanSink {
  const protocol = options.protocol ?? 'http/protobuf';
  let exporter = options.exporter;
  if (!exporter) {
    // The URL is the one given on the command line: the standard endpoint and headers
    // (another collector's, with its credentials) must not redirect or travel with it.
    const env = withoutStandardEndpointAndHeaders(options.env ?? process.env);
    const load = loadOtlpTraceExporter(protocol, { url, ...(options.timeoutMillis !== undefined ? { timeoutMillis: options.timeoutMillis } : {}) }, {
      env, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    if (!load.ok) throw new SpanExportError(load.line.replace(/^moa-otel: /, ''));
    exporter = load.loaded.exporter;
  }
  const target = displayUrl(url);
  const delivery: SpanDelivery = { delivered: 0, failed: 0, reason: undefined };
  return {
    async write(spans) {
      if (delivery.reason !== undefined) {
        delivery.failed += spans.length;
        return;
      }
      // The official exporter waits between retries on timers; this one keeps the process
      // alive until the answer, so a command never ends (exit 0) in the middle of a retry.
      const keepAlive = setInterval(() => undefined, 60_000);
      try {
        const result = await exportOnce(exporter, spans);
        if (result.code === EXPORT_SUCCESS) delivery.delivered += spans.length;
        else {
          delivery.failed += spans.length;
          delivery.reason = `export to ${target} failed: ${exportFailureReason(result.error)}`;
        }
      } finally {
        clearInterval(keepAlive);
      }
    },
    delivery: () => ({ ...delivery }),
    close: () => exporter.shutdown(),
  };
}

interface JsonSerializer {
  serializeRequest(spans: FinishedSpan[]): Uint8Array | undefined;
}

export async function otlpJsonFileSink(file: string, cwd?: string): Promise<SpanSink> {
  const transformer = loadFromApplication<{ JsonTraceSerializer?: JsonSerializer }>('@opentelemetry/otlp-transformer', cwd);
  const serializer = transformer?.module.JsonTraceSerializer;
  if (!serializer) throw new SpanExportError(missingPackageLineFor('@opentelemetry/otlp-transformer', 'writing OTLP JSON', cwd));
  let handle: FileHandle;
  try {
    handle = await open(file, 'w', 0o600);
  } catch (err) {
    throw new TraceFileError(`cannot write ${file}: ${describeFsError(err)}`);
  }
  return {
    async write(spans) {
      let line: Buffer;
      try {
        const body = serializer.serializeRequest(spans);
        if (!body) throw new Error('the serializer returned nothing');
        line = Buffer.concat([body, Buffer.from('\n')]);
      } catch (err) {
        throw new SpanExportError(`could not encode spans as OTLP JSON: ${errorLine(err)}`);
      }
      try {
        await handle.write(line);
      } catch (err) {
        throw new TraceFileError(`cannot write ${file}: ${describeFsError(err)}`);
      }
    },
    close: () => handle.close(),
  };
}
