/**
 * One OTLP/HTTP encoding as the exporter and the size guard use it: the body,
 * its exact size (for the guard), a cheap upper bound, and the Content-Type.
 */
import type { FinishedSpan } from '../../trace/span-data.js';
import { encodeJsonTraceRequest, jsonTraceRequestText } from './json-encoder.js';
import { OTLP_CONTENT_TYPES, type OtlpProtocol } from './protocol.js';
import { encodeProtobufTraceRequest, protobufTraceRequestBytes } from './protobuf-encoder.js';
import { requestUpperBoundBytes } from './span-size.js';

export interface OtlpEncoding {
  readonly protocol: OtlpProtocol;
  readonly contentType: string;
  encode(spans: readonly FinishedSpan[]): Buffer;
  /** Exactly `encode(spans).length`. */
  encodedBytes(spans: readonly FinishedSpan[]): number;
  /** Never below `encodedBytes(spans)`, and cheap. */
  upperBoundBytes(spans: readonly FinishedSpan[]): number;
}

const PROTOBUF: OtlpEncoding = {
  protocol: 'http/protobuf',
  contentType: OTLP_CONTENT_TYPES['http/protobuf'],
  encode: encodeProtobufTraceRequest,
  encodedBytes: protobufTraceRequestBytes,
  upperBoundBytes: (spans) => requestUpperBoundBytes(spans, 'http/protobuf'),
};

const JSON_ENCODING: OtlpEncoding = {
  protocol: 'http/json',
  contentType: OTLP_CONTENT_TYPES['http/json'],
  encode: encodeJsonTraceRequest,
  // JSON has no cheaper exact measure than writing it.
  encodedBytes: (spans) => Buffer.byteLength(jsonTraceRequestText(spans), 'utf8'),
  upperBoundBytes: (spans) => requestUpperBoundBytes(spans, 'http/json'),
};

export function otlpEncoding(protocol: OtlpProtocol): OtlpEncoding {
  return protocol === 'http/json' ? JSON_ENCODING : PROTOBUF;
}
