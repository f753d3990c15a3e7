/**
 * Trace and span ids for replayed records: the record's own ids when it has
 * valid ones, otherwise ids derived from a hash of the record, so exporting
 * the same file twice yields the same trace (a backend deduplicates or at
 * least shows the same ids) instead of a new random one each time.
 */
import { createHash } from 'node:crypto';

const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;

export function validTraceId(id: unknown): id is string {
  return typeof id === 'string' && TRACE_ID.test(id);
}

export function validSpanId(id: unknown): id is string {
  return typeof id === 'string' && SPAN_ID.test(id);
}

/** Hex digest of the parts; never all zeros (an all-zero id is invalid in OTLP). */
export function derivedId(hexLength: 16 | 32, ...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  const hex = hash.digest('hex').slice(0, hexLength);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** A stable fingerprint of a record's content (its canonical JSON). */
export function recordFingerprint(recordJson: string): string {
  return createHash('sha256').update(recordJson).digest('hex');
}
