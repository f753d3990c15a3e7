/**
 * Where replayed spans go: an OTLP/HTTP endpoint (the official exporter,
 * JSON encoding, `<base>/v1/traces`) or a file of OTLP JSON export requests,
 * one per line (the format the collector's file exporter writes).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { errorLine } from '../base/errors.js';
import { otlpTracesUrl } from '../config/otlp-url.js';
import { describeFsError, TraceFileError } from './errors.js';

export interface SpanSink {
  write(spans: ReadableSpan[]): Promise<void>;
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

/** `url` is the full traces URL (see `tracesUrl`). */
export function otlpHttpSink(url: string, timeoutMillis = 30_000): SpanSink {
  const exporter = new OTLPTraceExporter({ url, timeoutMillis });
  return {
    async write(spans) {
      const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
      if (result.code !== ExportResultCode.SUCCESS) {
        const reason = result.error ? errorLine(result.error) : 'unknown error';
        throw new SpanExportError(`export to ${url} failed: ${reason}`);
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
      const bytes = JsonTraceSerializer.serializeRequest(spans);
      if (!bytes) throw new SpanExportError('could not serialize spans as OTLP JSON');
      try {
        await handle.write(Buffer.concat([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from('\n')]));
      } catch (err) {
        throw new TraceFileError(`cannot write ${file}: ${describeFsError(err)}`);
      }
    },
    close: () => handle.close(),
  };
}
