/**
 * Keeps every OTLP/HTTP export request under a byte limit, in the encoding
 * actually sent (protobuf or JSON).
 *
 * A collector refuses a request body above its `max_request_body_size`
 * (HTTP 413) and gRPC hops refuse messages above 4 MiB; neither is retried,
 * so the whole batch, and with it the turn, would vanish from the backend.
 * MoA spans carry whole conversations, so one batch easily holds megabytes.
 * The guard
 *
 *  - lets a batch through untouched when a cheap upper bound already fits;
 *  - otherwise measures each span with the encoder itself and splits the
 *    batch into consecutive requests that each fit the limit;
 *  - shortens the content attributes of a span that alone is too big
 *    (see `otlp/content-shrink.ts`);
 *  - drops content altogether when content capture is off (attributes, the
 *    content event, error texts: `trace/span-content.ts`).
 *
 * Spans are never mutated (every processor sees the same objects): changed
 * spans are exported as copies. `OtlpHttpTraceExporter` plans every export
 * call with it.
 */
import type { CauseReporter } from '../base/cause-reporter.js';
import { errorText } from '../base/errors.js';
import type { FinishedSpan } from '../trace/span-data.js';
import { ContentPolicy } from '../trace/content-policy.js';
import { spanThroughPolicy } from '../trace/span-content.js';
import { shrinkContent, type MeasuredSpan } from './otlp/content-shrink.js';
import type { OtlpEncoding } from './otlp/encoding.js';

export interface ExportPlanOptions {
  /** Upper bound for one request body, in bytes (before any compression). */
  maxExportBytes: number;
  /** When false, `gen_ai.input.messages` / `gen_ai.output.messages` are never exported. */
  captureContent: boolean;
  encoding: OtlpEncoding;
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
    if (options.encoding.upperBoundBytes(prepared) <= options.maxExportBytes) return [prepared];
    return packIntoChunks(prepared.map((span) => measure(span, options)), options.maxExportBytes);
  } catch (error) {
    // Never lose a batch to a bug in the guard (content is already stripped when capture is off).
    options.reporter.fail('size guard', () => `moa-otel: OTLP size guard failed (${errorText(error)}); exporting batches unchanged`);
    return [prepared];
  }
}

function measure(span: FinishedSpan, options: ExportPlanOptions): MeasuredSpan {
  const bytes = options.encoding.encodedBytes([span]);
  if (bytes <= options.maxExportBytes) return { span, bytes };
  const shrunk = options.captureContent ? shrinkContent(span, bytes, options.maxExportBytes, options.encoding) : { span, bytes };
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
