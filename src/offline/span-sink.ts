/**
 * Where replayed spans go: an OTLP/HTTP endpoint (moa-otel's own exporter,
 * `<base>/v1/traces`, in the protocol the environment names: http/protobuf
 * by default) or a file of OTLP JSON export requests, one per line (the
 * format the collector's file exporter writes).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { errorLine } from '../base/errors.js';
import { otlpTracesUrl } from '../config/otlp-url.js';
import { OtlpExportError, OtlpHttpTraceExporter } from '../export/otlp/exporter.js';
import { displayUrl } from '../export/otlp/http-sender.js';
import { encodeJsonTraceRequest } from '../export/otlp/json-encoder.js';
import { DEFAULT_OTLP_PROTOCOL, type OtlpProtocol } from '../export/otlp/protocol.js';
import { EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan } from '../trace/span-data.js';
import { describeFsError, TraceFileError } from './errors.js';

export interface SpanSink {
  write(spans: FinishedSpan[]): Promise<void>;
  close(): Promise<void>;
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
    throw new SpanExportError(`not a URL: ${base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SpanExportError(`expected an http(s) URL, got ${base}`);
  return otlpTracesUrl(base);
}

export interface OtlpHttpSinkOptions {
  /** Default http/protobuf; `resolveOtlpProtocol(env)` gives the environment's choice. */
  protocol?: OtlpProtocol;
  timeoutMillis?: number;
}

/** `url` is the full traces URL (see `tracesUrl`). A failed request fails the write with one line. */
export function otlpHttpSink(url: string, options: OtlpHttpSinkOptions = {}): SpanSink {
  // Failures surface as the write's error (one line from the command), not as log lines too.
  const exporter = new OtlpHttpTraceExporter({
    url, protocol: options.protocol ?? DEFAULT_OTLP_PROTOCOL, timeoutMillis: options.timeoutMillis ?? 30_000, log: () => undefined,
  });
  const target = displayUrl(new URL(url));
  return {
    async write(spans) {
      const result = await new Promise<ExportResultLike>((resolve) => exporter.export(spans, resolve));
      if (result.code !== EXPORT_SUCCESS) {
        const reason = result.error instanceof OtlpExportError ? result.error.reason : result.error ? errorLine(result.error) : 'unknown error';
        throw new SpanExportError(`export to ${target} failed: ${reason}`);
      }
    },
    close: () => exporter.shutdown(),
  };
}

export async function otlpJsonFileSink(file: string): Promise<SpanSink> {
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
        line = Buffer.concat([encodeJsonTraceRequest(spans), Buffer.from('\n')]);
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
