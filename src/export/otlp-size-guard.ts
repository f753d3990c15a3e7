/**
 * Keeps every OTLP/HTTP export request under a byte limit.
 *
 * A collector refuses a request body above its `max_request_body_size`
 * (HTTP 413), and the OTLP exporter does not retry that: the whole batch, and
 * with it the turn, would vanish from the backend. MoA spans carry whole
 * conversations, so one batch easily holds megabytes. This exporter sits
 * between the BatchSpanProcessor and the OTLP exporter and
 *
 *  - measures each span with the serializer the OTLP/HTTP JSON exporter itself
 *    uses (`JsonTraceSerializer`), so the numbers are the real body sizes;
 *  - splits a batch into consecutive exports that each fit the limit;
 *  - shortens the content attributes of a span that alone is too big, keeping
 *    them valid GenAI message JSON with a visible marker, and flags the span
 *    (`moa.content.truncated=true`; `moa.content.original_bytes` = UTF-8 size
 *    of the uncut content attributes together);
 *  - drops the content attributes altogether when content capture is off.
 *
 * The SDK hands the same ReadableSpan objects to every processor (the JSONL
 * exporter among them), so spans are never mutated: changed spans are exported
 * as shallow copies carrying a new attribute map.
 */
import { diag, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { tryParseJson } from '../content/safe-json.js';
import {
  GEN_AI_INPUT_MESSAGES,
  GEN_AI_OUTPUT_MESSAGES,
  MOA_CONTENT_ORIGINAL_BYTES,
  MOA_CONTENT_TRUNCATED,
} from '../trace/attributes.js';

export interface SizeBoundedSpanExporterOptions {
  /** Upper bound for one request body, in bytes (uncompressed JSON). */
  maxExportBytes: number;
  /** When false, `gen_ai.input.messages` / `gen_ai.output.messages` are never exported. */
  captureContent: boolean;
}

const CONTENT_ATTRIBUTES = [GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES] as const;

/** Strings this short (roles, part types, ids, tool names) are structure, not content: never cut. */
const KEEP_STRINGS_UP_TO = 64;
/** How many times a shrink is re-measured and tightened before giving up on the text. */
const MAX_SHRINK_ATTEMPTS = 8;
/** Allowance for the marker appended to each cut string, in encoded bytes. */
const MARKER_ALLOWANCE_BYTES = 64;

/** The text appended where content was cut; visible in any backend's attribute view. */
export function truncationMarker(removedChars: number): string {
  return `…[moa-otel: truncated ${removedChars} chars]`;
}

/** Size of the OTLP/HTTP JSON request body the exporter would send for these spans. */
export function encodedRequestBytes(spans: ReadableSpan[]): number {
  return JsonTraceSerializer.serializeRequest(spans)?.byteLength ?? 0;
}

interface MeasuredSpan {
  span: ReadableSpan;
  bytes: number;
}

export class SizeBoundedSpanExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly maxExportBytes: number;
  private readonly captureContent: boolean;

  constructor(inner: SpanExporter, options: SizeBoundedSpanExporterOptions) {
    if (!Number.isFinite(options.maxExportBytes) || options.maxExportBytes <= 0) {
      throw new RangeError(`maxExportBytes must be a positive number, got ${String(options.maxExportBytes)}`);
    }
    this.inner = inner;
    this.maxExportBytes = Math.floor(options.maxExportBytes);
    this.captureContent = options.captureContent;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let chunks: ReadableSpan[][];
    try {
      const prepared = this.captureContent ? spans : spans.map(withoutContent);
      // Most batches are far below the limit: a cheap upper bound spares
      // serializing every span once here and again in the OTLP exporter.
      chunks = batchUpperBoundBytes(prepared) <= this.maxExportBytes
        ? [prepared]
        : packIntoChunks(prepared.map((span) => this.measure(span)), this.maxExportBytes);
    } catch (error) {
      // Never lose a batch to a bug in the guard; without content capture,
      // though, content must not leave the process, so strip it the simple way.
      diag.error('moa-otel: OTLP size guard failed; exporting the batch unchanged', error);
      chunks = [this.captureContent ? spans : spans.map(withoutContent)];
    }
    void this.exportInOrder(chunks).then(resultCallback, (error: unknown) =>
      resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private measure(span: ReadableSpan): MeasuredSpan {
    const bytes = encodedRequestBytes([span]);
    if (bytes <= this.maxExportBytes) return { span, bytes };
    const shrunk = this.captureContent ? shrinkContent(span, bytes, this.maxExportBytes) : { span, bytes };
    if (shrunk.bytes > this.maxExportBytes) {
      // Nothing left to cut (huge events or non-content attributes). Send it
      // alone: a collector with a larger limit still takes it.
      diag.warn(
        `moa-otel: span "${span.name}" encodes to ${shrunk.bytes} bytes even without content, above otlp max_export_bytes ${this.maxExportBytes}`,
      );
    }
    return shrunk;
  }

  /** Sends chunks one after another; the batch fails if any chunk failed, but every chunk is tried. */
  private async exportInOrder(chunks: ReadableSpan[][]): Promise<ExportResult> {
    let failure: ExportResult | undefined;
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      const result = await new Promise<ExportResult>((resolve) => {
        try {
          this.inner.export(chunk, resolve);
        } catch (error) {
          resolve({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        }
      });
      if (result.code !== ExportResultCode.SUCCESS && failure === undefined) failure = result;
    }
    return failure ?? { code: ExportResultCode.SUCCESS };
  }
}

// --- a cheap upper bound ---------------------------------------------------------

/**
 * JSON escaping turns one UTF-16 unit into at most 6 bytes (`\u0000`), so six
 * bytes per unit of every string, plus generous room for the structure, is
 * never less than what `JsonTraceSerializer` produces.
 */
const BYTES_PER_UNIT = 6;
const SPAN_ENVELOPE_BYTES = 1024;
const ENTRY_ENVELOPE_BYTES = 256;
const ATTRIBUTE_ENVELOPE_BYTES = 64;

export function batchUpperBoundBytes(spans: readonly ReadableSpan[]): number {
  let bytes = 0;
  const envelopes = new Set<object>();
  for (const span of spans) {
    bytes += spanUpperBoundBytes(span);
    // The resource and scope are written once per request for each distinct one.
    if (!envelopes.has(span.resource)) {
      envelopes.add(span.resource);
      bytes += ENTRY_ENVELOPE_BYTES + attributesUpperBound(span.resource.attributes);
    }
    if (!envelopes.has(span.instrumentationScope)) {
      envelopes.add(span.instrumentationScope);
      const scope = span.instrumentationScope;
      bytes += ENTRY_ENVELOPE_BYTES + BYTES_PER_UNIT * (scope.name.length + (scope.version?.length ?? 0) + (scope.schemaUrl?.length ?? 0));
    }
  }
  return bytes;
}

function spanUpperBoundBytes(span: ReadableSpan): number {
  let bytes = SPAN_ENVELOPE_BYTES + BYTES_PER_UNIT * (span.name.length + (span.status.message?.length ?? 0));
  bytes += attributesUpperBound(span.attributes);
  for (const event of span.events) bytes += ENTRY_ENVELOPE_BYTES + BYTES_PER_UNIT * event.name.length + attributesUpperBound(event.attributes);
  for (const link of span.links) bytes += ENTRY_ENVELOPE_BYTES + attributesUpperBound(link.attributes);
  return bytes;
}

function attributesUpperBound(attributes: Attributes | undefined): number {
  let bytes = 0;
  for (const key in attributes) bytes += ATTRIBUTE_ENVELOPE_BYTES + BYTES_PER_UNIT * key.length + valueUpperBound(attributes[key]);
  return bytes;
}

function valueUpperBound(value: unknown): number {
  if (typeof value === 'string') return BYTES_PER_UNIT * value.length + 2;
  if (Array.isArray(value)) return value.reduce((sum: number, item: unknown) => sum + ATTRIBUTE_ENVELOPE_BYTES + valueUpperBound(item), 16);
  return ATTRIBUTE_ENVELOPE_BYTES;
}

/**
 * Greedy, order-preserving packing. A single-span request includes its own
 * resource and scope envelope, so the sum of single-span sizes is an upper
 * bound for the request holding them all: each chunk is safely under `max`.
 */
function packIntoChunks(measured: readonly MeasuredSpan[], max: number): ReadableSpan[][] {
  const chunks: ReadableSpan[][] = [];
  let current: ReadableSpan[] = [];
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

/** A copy of `span` that differs only in its attributes; the original stays untouched. */
function withAttributes(span: ReadableSpan, attributes: Attributes): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    // The SDK's spanContext is a method reading private state: keep calling it on the original.
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    // The same resource object: the serializer groups spans by resource identity.
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

function withoutContent(span: ReadableSpan): ReadableSpan {
  if (!CONTENT_ATTRIBUTES.some((key) => key in span.attributes)) return span;
  const attributes: Attributes = { ...span.attributes };
  for (const key of CONTENT_ATTRIBUTES) delete attributes[key];
  return withAttributes(span, attributes);
}

// --- shrinking content ---------------------------------------------------------

/** One content attribute, parsed when it is JSON (it normally is), else kept as text. */
interface ContentDocument {
  key: string;
  parsed: { json: unknown } | { text: string };
}

/**
 * Cuts the long strings of the content attributes to a common length cap (the
 * longest ones lose most, short ones are untouched) until the span fits.
 * The cap is estimated from per-string byte costs, then verified with the real
 * serializer and tightened if the estimate was optimistic.
 */
function shrinkContent(span: ReadableSpan, fullBytes: number, max: number): MeasuredSpan {
  const documents: ContentDocument[] = [];
  let originalContentBytes = 0;
  for (const key of CONTENT_ATTRIBUTES) {
    const value = span.attributes[key];
    if (typeof value !== 'string') continue;
    originalContentBytes += Buffer.byteLength(value, 'utf8');
    documents.push({ key, parsed: parseJson(value) });
  }
  if (documents.length === 0) return { span, bytes: fullBytes };

  const strings = documents.flatMap((doc) => cuttableStrings(doc));
  const costs = strings.map(estimateEncodedCost);
  const contentCost = costs.reduce((sum, c) => sum + c.bytes, 0);
  const fixedBytes = Math.max(0, fullBytes - contentCost);
  const longest = strings.reduce((m, s) => Math.max(m, s.length), 0);

  const build = (cap: number): MeasuredSpan => {
    const attributes: Attributes = { ...span.attributes };
    for (const doc of documents) attributes[doc.key] = renderTruncated(doc, cap);
    attributes[MOA_CONTENT_TRUNCATED] = true;
    attributes[MOA_CONTENT_ORIGINAL_BYTES] = originalContentBytes;
    const copy = withAttributes(span, attributes);
    return { span: copy, bytes: encodedRequestBytes([copy]) };
  };

  let target = max;
  for (let attempt = 0; attempt < MAX_SHRINK_ATTEMPTS; attempt++) {
    const cap = largestCapWithin(costs, fixedBytes, target, longest);
    const candidate = build(cap);
    if (candidate.bytes <= max) return candidate;
    if (cap === 0) break;
    // The estimate was optimistic (escaping, markers): aim lower by the overshoot plus a margin.
    target -= candidate.bytes - max + Math.ceil(max * 0.01);
  }
  return replaceContentWithPlaceholders(span, documents, originalContentBytes);
}

/** Estimated encoded bytes of a string leaf inside the OTLP JSON body, per UTF-16 unit. */
interface StringCost {
  length: number;
  bytesPerUnit: number;
  bytes: number;
}

function estimateEncodedCost(text: string): StringCost {
  // A leaf is escaped twice: once inside the messages JSON, once as the
  // attribute's string value in the request body.
  const bytes = Math.max(0, Buffer.byteLength(JSON.stringify(JSON.stringify(text)), 'utf8') - 6);
  return { length: text.length, bytesPerUnit: text.length === 0 ? 0 : bytes / text.length, bytes };
}

function costAtCap(cost: StringCost, cap: number): number {
  if (!isCuttable(cost.length, cap)) return cost.bytes;
  return cap * cost.bytesPerUnit + MARKER_ALLOWANCE_BYTES;
}

/** Binary search for the largest cap whose estimated size fits `target` (0 when none does). */
function largestCapWithin(costs: readonly StringCost[], fixedBytes: number, target: number, longest: number): number {
  const fits = (cap: number): boolean => fixedBytes + costs.reduce((sum, c) => sum + costAtCap(c, cap), 0) <= target;
  let low = 0;
  let high = longest;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

function isCuttable(length: number, cap: number): boolean {
  return length > KEEP_STRINGS_UP_TO && length > cap;
}

function cuttableStrings(doc: ContentDocument): string[] {
  if ('text' in doc.parsed) return [doc.parsed.text];
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') found.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(doc.parsed.json);
  return found;
}

function renderTruncated(doc: ContentDocument, cap: number): string {
  if ('text' in doc.parsed) return cutString(doc.parsed.text, cap);
  // Object keys and short strings are kept, so roles, part types and tool
  // names survive and the result is still GenAI message JSON.
  const cut = (value: unknown): unknown => {
    if (typeof value === 'string') return cutString(value, cap);
    if (Array.isArray(value)) return value.map(cut);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = cut(v);
      return out;
    }
    return value;
  };
  return JSON.stringify(cut(doc.parsed.json));
}

function cutString(text: string, cap: number): string {
  if (!isCuttable(text.length, cap)) return text;
  let end = cap;
  // Never split a surrogate pair: half an emoji would be a lone surrogate.
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + truncationMarker(text.length - end);
}

/** Last resort when even empty strings don't fit (thousands of messages): one marker message. */
function replaceContentWithPlaceholders(
  span: ReadableSpan,
  documents: readonly ContentDocument[],
  originalContentBytes: number,
): MeasuredSpan {
  const attributes: Attributes = { ...span.attributes };
  for (const doc of documents) {
    const original = span.attributes[doc.key];
    const bytes = typeof original === 'string' ? Buffer.byteLength(original, 'utf8') : 0;
    const note = `[moa-otel: ${bytes} bytes of messages omitted: too large for one OTLP export]`;
    attributes[doc.key] = JSON.stringify([{ role: placeholderRole(doc), parts: [{ type: 'text', content: note }] }]);
  }
  attributes[MOA_CONTENT_TRUNCATED] = true;
  attributes[MOA_CONTENT_ORIGINAL_BYTES] = originalContentBytes;
  const copy = withAttributes(span, attributes);
  return { span: copy, bytes: encodedRequestBytes([copy]) };
}

function placeholderRole(doc: ContentDocument): string {
  if ('json' in doc.parsed && Array.isArray(doc.parsed.json)) {
    const first: unknown = doc.parsed.json[0];
    if (first !== null && typeof first === 'object' && typeof (first as { role?: unknown }).role === 'string') {
      return (first as { role: string }).role;
    }
  }
  return doc.key === GEN_AI_OUTPUT_MESSAGES ? 'assistant' : 'user';
}

function parseJson(text: string): ContentDocument['parsed'] {
  // JSON never parses to undefined, so undefined here means "not JSON".
  const json = tryParseJson(text);
  return json === undefined ? { text } : { json };
}
