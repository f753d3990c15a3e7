/**
 * Shrinks the content attributes (`gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.tool.definitions`, `input.value`,
 * `output.value`) of a span that alone encodes above the export
 * limit: long strings are cut to a common length with a visible marker,
 * keeping the result valid GenAI message JSON, and the span is flagged
 * (`moa.content.truncated=true`; `moa.content.original_bytes` = UTF-8 size
 * of the uncut content attributes together). The span itself is never
 * changed: the result is a copy.
 */
import type { Attributes } from '@opentelemetry/api';
import { tryParseJson } from '../content/safe-json.js';
import { truncationMarker } from '../content/truncation.js';
import { CONTENT_ATTRIBUTES, GEN_AI_OUTPUT_MESSAGES, MOA_CONTENT_ORIGINAL_BYTES, MOA_CONTENT_TRUNCATED } from '../trace/attributes.js';
import type { FinishedSpan } from '../trace/span-data.js';
import { withAttributes } from './span-copy.js';
import type { SpanMeasure } from './span-measure.js';
import type { WireEncoding } from './span-size.js';

/** Strings this short (roles, part types, ids, tool names) are structure, not content: never cut. */
const KEEP_STRINGS_UP_TO = 64;
/** How many times a shrink is re-measured and tightened before giving up on the text. */
const MAX_SHRINK_ATTEMPTS = 8;
/** Allowance for the marker appended to each cut string, in encoded bytes. */
const MARKER_ALLOWANCE_BYTES = 64;

export interface MeasuredSpan {
  span: FinishedSpan;
  /** Encoded size of a request holding this span alone. */
  bytes: number;
}

/** One content attribute, parsed when it is JSON (it normally is), else kept as text. */
interface ContentDocument {
  key: string;
  parsed: { json: unknown } | { text: string };
}

/**
 * Cuts the long strings of the content attributes to a common length cap (the
 * longest ones lose most, short ones are untouched) until the span fits.
 * The cap is estimated from per-string byte costs, then verified with the measure
 * (the official serializer, or the conservative estimate) and tightened if the estimate was optimistic.
 */
export function shrinkContent(span: FinishedSpan, fullBytes: number, max: number, measurer: SpanMeasure): MeasuredSpan {
  const measure = (copy: FinishedSpan): MeasuredSpan => ({ span: copy, bytes: measurer.requestBytes([copy]) });
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
  const costs = strings.map((text) => estimateEncodedCost(text, measurer.encoding));
  const contentCost = costs.reduce((sum, c) => sum + c.bytes, 0);
  const fixedBytes = Math.max(0, fullBytes - contentCost);
  const longest = strings.reduce((m, s) => Math.max(m, s.length), 0);

  const build = (cap: number): MeasuredSpan => {
    const attributes: Attributes = { ...span.attributes };
    for (const doc of documents) attributes[doc.key] = renderTruncated(doc, cap);
    attributes[MOA_CONTENT_TRUNCATED] = true;
    attributes[MOA_CONTENT_ORIGINAL_BYTES] = originalContentBytes;
    return measure(withAttributes(span, attributes));
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
  return measure(replaceContentWithPlaceholders(span, documents, originalContentBytes));
}

/** Estimated encoded bytes of a string leaf inside the request body, per UTF-16 unit. */
interface StringCost {
  length: number;
  bytesPerUnit: number;
  bytes: number;
}

function estimateEncodedCost(text: string, encoding: WireEncoding): StringCost {
  // A leaf is escaped once inside the messages JSON; OTLP/JSON escapes that
  // attribute string again, protobuf carries it as plain UTF-8.
  const once = JSON.stringify(text);
  const bytes = encoding === 'json'
    ? Buffer.byteLength(JSON.stringify(once), 'utf8') - 6
    : Buffer.byteLength(once, 'utf8') - 2;
  return { length: text.length, bytesPerUnit: text.length === 0 ? 0 : Math.max(0, bytes) / text.length, bytes: Math.max(0, bytes) };
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
  span: FinishedSpan,
  documents: readonly ContentDocument[],
  originalContentBytes: number,
): FinishedSpan {
  const attributes: Attributes = { ...span.attributes };
  for (const doc of documents) {
    const original = span.attributes[doc.key];
    const bytes = typeof original === 'string' ? Buffer.byteLength(original, 'utf8') : 0;
    const note = `[moa-otel: ${bytes} bytes of messages omitted: too large for one OTLP export]`;
    attributes[doc.key] = JSON.stringify([{ role: placeholderRole(doc), parts: [{ type: 'text', content: note }] }]);
  }
  attributes[MOA_CONTENT_TRUNCATED] = true;
  attributes[MOA_CONTENT_ORIGINAL_BYTES] = originalContentBytes;
  return withAttributes(span, attributes);
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
