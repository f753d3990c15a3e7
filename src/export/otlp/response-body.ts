/**
 * What an OTLP/HTTP receiver says back, in either encoding:
 *  - on success, `Export{Trace,Metrics,Logs}ServiceResponse.partial_success`
 *    (field 1: `rejected_spans`/`rejected_data_points`/`rejected_log_records`
 *    = 1, `error_message` = 2) counts the items it refused;
 *  - on failure, a `google.rpc.Status` whose `message` (field 2) says why.
 * Only these few fields are read; anything unreadable reads as "nothing said".
 */
import { firstLine } from '../../base/errors.js';

export interface PartialSuccess {
  /** Spans, data points or log records, whichever the request carried. */
  rejectedItems: number;
  errorMessage: string;
}

/** Longest diagnostic text kept from a receiver's answer. */
const MAX_DETAIL_CHARS = 300;

type FieldValue = number | Buffer;

/** The top-level varint and length-delimited fields of a protobuf message (fixed-width ones skipped). */
function protobufFields(body: Buffer): Map<number, FieldValue> {
  const fields = new Map<number, FieldValue>();
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let scale = 1; pos < body.length && scale < 2 ** 64; scale *= 128) {
      const byte = body[pos++] as number;
      value += (byte & 127) * scale;
      if (byte < 128) return value;
    }
    return undefined;
  };
  while (pos < body.length) {
    const tag = varint();
    if (tag === undefined) break;
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === 0) {
      const value = varint();
      if (value === undefined) break;
      fields.set(field, value);
    } else if (wireType === 2) {
      const length = varint();
      if (length === undefined || pos + length > body.length) break;
      fields.set(field, body.subarray(pos, pos + length));
      pos += length;
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
    } else {
      break;
    }
  }
  return fields;
}

function isJson(mediaType: string): boolean {
  return mediaType.toLowerCase().includes('json');
}

function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function partialSuccessOf(body: Buffer, mediaType: string): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  let rejected: unknown;
  let message: unknown;
  if (isJson(mediaType)) {
    const partial = parseJsonObject(body)?.partialSuccess;
    if (partial === null || typeof partial !== 'object') return undefined;
    const fields = partial as Record<string, unknown>;
    rejected = fields.rejectedSpans ?? fields.rejectedDataPoints ?? fields.rejectedLogRecords;
    message = fields.errorMessage;
  } else {
    const partial = protobufFields(body).get(1);
    if (!Buffer.isBuffer(partial)) return undefined;
    const fields = protobufFields(partial);
    rejected = fields.get(1);
    const text = fields.get(2);
    message = Buffer.isBuffer(text) ? text.toString('utf8') : undefined;
  }
  const rejectedItems = Number(rejected ?? 0);
  const errorMessage = typeof message === 'string' ? message : '';
  if (!(rejectedItems > 0) && errorMessage === '') return undefined;
  return { rejectedItems: Number.isFinite(rejectedItems) && rejectedItems > 0 ? rejectedItems : 0, errorMessage: clip(errorMessage) };
}

/** A one-line reason from a failure answer: the Status message, else the text itself; '' when there is none. */
export function failureDetail(body: Buffer, mediaType: string): string {
  if (body.length === 0) return '';
  if (isJson(mediaType)) {
    const status = parseJsonObject(body);
    if (status !== undefined) return typeof status.message === 'string' ? clip(status.message) : '';
  } else if (mediaType.toLowerCase().includes('protobuf')) {
    const message = protobufFields(body).get(2);
    return Buffer.isBuffer(message) ? clip(message.toString('utf8')) : '';
  }
  return clip(body.toString('utf8'));
}

function clip(text: string): string {
  const line = firstLine(text).replace(/[\u0000-\u001f\u007f]/g, ' ');
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}…` : line;
}
