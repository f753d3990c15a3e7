/**
 * Keeps every OTLP export request under a byte limit, as an exporter
 * decorator around any exporter (the official OTLP exporters above all).
 *
 * A collector refuses a request body above its `max_request_body_size`
 * (HTTP 413) and gRPC hops refuse messages above 4 MiB; neither is retried,
 * so the whole batch, and with it the turn, would vanish from the backend.
 * MoA spans carry whole conversations, so one batch easily holds megabytes.
 * The guard
 *
 *  - lets a batch through untouched when a cheap upper bound already fits;
 *  - otherwise measures each span (`span-measure.ts`: the official
 *    serializer's exact size, or a conservative estimate) and splits the
 *    batch into consecutive requests that each fit the limit;
 *  - shortens the content attributes of a span that alone is too big
 *    (see `content-shrink.ts`);
 *  - drops content altogether when content capture is off (attributes, the
 *    content event, error texts: `trace/span-content.ts`).
 *
 * Spans are never mutated (every processor sees the same objects): changed
 * spans are exported as copies.
 */
import { diag } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { errorText } from '../base/errors.js';
import { EXPORT_FAILED, EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan, type SpanExporterLike } from '../trace/span-data.js';
import { ContentPolicy } from '../trace/content-policy.js';
import { spanThroughPolicy } from '../trace/span-content.js';
import { shrinkContent, type MeasuredSpan } from './content-shrink.js';
import type { SpanMeasure } from './span-measure.js';

export const DEFAULT_MAX_EXPORT_BYTES = 4 * 1024 * 1024;

export interface ExportPlanOptions {
  /** Upper bound for one request body, in bytes (before any compression). */
  maxExportBytes: number;
  /** When false, `gen_ai.input.messages` / `gen_ai.output.messages` are never exported. */
  captureContent: boolean;
  measure: SpanMeasure;
  /** Where oversized spans and guard failures are reported, once per cause. */
  reporter: CauseReporter;
}

export function checkedMaxExportBytes(value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`maxExportBytes must be a positive number, got ${String(value)}`);
  return Math.floor(value);
}

/** The spans as consecutive requests, each under the limit (a span that cannot get under it goes alone). */
export function planExportRequests(spans: readonly FinishedSpan[], options: ExportPlanOptions): FinishedSpan[][] {
  const prepared = options.captureContent ? [...spans] : spans.map(withoutContent);
  try {
    if (options.measure.upperBoundBytes(prepared) <= options.maxExportBytes) return [prepared];
    return packIntoChunks(prepared.map((span) => measure(span, options)), options.maxExportBytes);
  } catch (error) {
    // Never lose a batch to a bug in the guard (content is already stripped when capture is off).
    options.reporter.fail('size guard', () => `moa-otel: OTLP size guard failed (${errorText(error)}); exporting batches unchanged`);
    return [prepared];
  }
}

function measure(span: FinishedSpan, options: ExportPlanOptions): MeasuredSpan {
  const bytes = options.measure.requestBytes([span]);
  if (bytes <= options.maxExportBytes) return { span, bytes };
  const shrunk = options.captureContent ? shrinkContent(span, bytes, options.maxExportBytes, options.measure) : { span, bytes };
  if (shrunk.bytes > options.maxExportBytes) {
    // Nothing left to cut (huge events or non-content attributes). Send it
    // alone: a collector with a larger limit still takes it.
    options.reporter.fail('oversized span', () =>
      `moa-otel: span "${span.name}" encodes to ${shrunk.bytes} bytes even without content, above otlp max_export_bytes ${options.maxExportBytes}; it is sent alone (further such spans are counted, not repeated)`);
  }
  return shrunk;
}

/**
 * Greedy, order-preserving packing. A single-span request includes its own
 * resource and scope envelope, so the sum of single-span sizes is an upper
 * bound for the request holding them all: each chunk is safely under `max`.
 */
function packIntoChunks(measured: readonly MeasuredSpan[], max: number): FinishedSpan[][] {
  const chunks: FinishedSpan[][] = [];
  let current: FinishedSpan[] = [];
  let currentBytes = 0;
  for (const { span, bytes } of measured) {
    if (current.length > 0 && currentBytes + bytes > max) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(span);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** With content capture off, no content leaves: attributes, the content event, error texts. */
const NO_CONTENT = new ContentPolicy({ capture: 'NO_CONTENT' });

function withoutContent(span: FinishedSpan): FinishedSpan {
  return spanThroughPolicy(span, NO_CONTENT);
}

export interface SizeGuardOptions {
  /** Largest request body before compression (default 4 MiB). */
  maxExportBytes?: number;
  /** When false, message content never leaves the process (default true). */
  captureContent?: boolean;
  measure: SpanMeasure;
  /** Where oversized spans and guard failures are reported, once per cause (default: diag warnings). */
  log?: (message: string) => void;
}

/**
 * An exporter that hands `inner` the batch as requests that each fit the
 * limit, one after the other, and answers once: success when every request
 * succeeded, else the first failure.
 */
export class SizeGuardedExporter implements SpanExporterLike {
  private readonly plan: ExportPlanOptions;

  constructor(private readonly inner: SpanExporterLike, options: SizeGuardOptions) {
    this.plan = {
      maxExportBytes: checkedMaxExportBytes(options.maxExportBytes ?? DEFAULT_MAX_EXPORT_BYTES),
      captureContent: options.captureContent ?? true,
      measure: options.measure,
      reporter: new CauseReporter(options.log ?? ((message) => diag.warn(message))),
    };
  }

  export(spans: FinishedSpan[], resultCallback: (result: ExportResultLike) => void): void {
    const requests = planExportRequests(spans, this.plan).filter((chunk) => chunk.length > 0);
    void this.exportInTurn(requests).then(resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private async exportInTurn(requests: FinishedSpan[][]): Promise<ExportResultLike> {
    let firstFailure: ExportResultLike | undefined;
    for (const chunk of requests) {
      const result = await exportOnce(this.inner, chunk);
      if (result.code !== EXPORT_SUCCESS) firstFailure ??= result;
    }
    return firstFailure ?? { code: EXPORT_SUCCESS };
  }
}

/** One `export` call as a promise; an exporter that throws answers as a failure. */
export function exportOnce(exporter: SpanExporterLike, spans: FinishedSpan[]): Promise<ExportResultLike> {
  return new Promise((resolve) => {
    let answered = false;
    const answer = (result: ExportResultLike) => {
      if (answered) return;
      answered = true;
      resolve(result);
    };
    try {
      exporter.export(spans, answer);
    } catch (error) {
      answer({ code: EXPORT_FAILED, error: new Error(errorText(error)) });
    }
  });
}
