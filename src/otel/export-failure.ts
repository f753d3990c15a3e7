/**
 * Why an export failed, in one line: the official exporters carry the HTTP
 * status in `code` and the status text in `message` (and say nothing but
 * "Export failed with retryable status" after retrying 429/502/503/504). The
 * statuses a user can act on get a hint.
 */
import { errorLine } from '../base/errors.js';

const HINTS: Readonly<Record<number, string>> = {
  401: 'check the credentials in OTEL_EXPORTER_OTLP_HEADERS or otlp.headers',
  403: 'check the credentials in OTEL_EXPORTER_OTLP_HEADERS or otlp.headers',
  404: 'check the endpoint: the traces path is usually /v1/traces',
  413: 'the request is larger than the receiver takes: lower otlp.max_export_bytes',
  415: 'the receiver does not take this encoding: set OTEL_EXPORTER_OTLP_PROTOCOL to http/protobuf or http/json',
};

export function exportFailureReason(error: Error | undefined): string {
  if (!error) return 'the exporter gave no reason';
  const code = (error as { code?: unknown }).code;
  const text = errorLine(error).trim();
  if (typeof code !== 'number' || code < 100 || code > 599) return text || 'unknown error';
  const hint = HINTS[code];
  return `HTTP ${code}${text && text !== String(code) ? ` ${text}` : ''}${hint ? ` (${hint})` : ''}`;
}
