/**
 * What a trace input holds, decided by its content: the compression (by the
 * first bytes' magic numbers) and the line format (by the first lines). A
 * name only breaks a tie: a `.jsonl` file whose first lines are unreadable is
 * still read as turn records, so each bad line is reported where it is.
 */

/**
 * The line formats the readers understand. A new format (the compact
 * session format) adds its name here, a detector to `LINE_FORMAT_DETECTORS`
 * and a decoder in `inputs.ts` (`LINE_DECODERS`).
 */
export type TraceFormat = 'jsonl' | 'otlp-json' | 'compact';

export const TRACE_FORMAT_NAMES: Record<TraceFormat, string> = {
  jsonl: 'JSONL turn records',
  compact: 'compact session records (trace_format: compact)',
  'otlp-json': 'OTLP JSON trace requests',
};

export type Compression = 'gzip' | 'zstd';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Bytes to look at before deciding a file is binary. */
export const SNIFF_BYTES = 4096;

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

export function detectCompression(head: Uint8Array): Compression | null {
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  if (startsWith(head, ZSTD_MAGIC)) return 'zstd';
  return null;
}

/** Binary formats a user may point a command at by mistake, by their magic bytes. */
const BINARY_KINDS: readonly { magic: readonly number[]; name: string }[] = [
  { magic: [0x50, 0x41, 0x52, 0x31], name: 'Parquet data' },
  { magic: [0x50, 0x4b, 0x03, 0x04], name: 'a zip archive' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2-compressed data' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz-compressed data' },
  { magic: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], name: 'an SQLite database' },
  { magic: [0x7f, 0x45, 0x4c, 0x46], name: 'an executable' },
];

/**
 * Names binary content (not text lines at all), or null for text. Decided
 * before any line is split: a binary file may have no newline for gigabytes.
 */
export function describeBinary(head: Uint8Array): string | null {
  for (const kind of BINARY_KINDS) if (startsWith(head, kind.magic)) return kind.name;
  // Only the first line: a text file may hold binary garbage later (a sparse hole after a crash), reported per line.
  const newline = head.indexOf(0x0a);
  const sample = head.subarray(0, newline >= 0 ? Math.min(newline, SNIFF_BYTES) : SNIFF_BYTES);
  if (sample.includes(0)) return 'binary data';
  return null;
}

export type LineVerdict = TraceFormat | 'undecided';

/**
 * A line format's test of one non-blank line (BOM removed): whether the line
 * shows the file is in that format. Cheap: it looks at the start of the line
 * only, the decoder parses it.
 */
export type LineFormatDetector = (line: string) => boolean;

const RECORD_START = /^\{\s*"ts"\s*:/;
const OTLP_TRACES_START = /^\{\s*"resourceSpans"\s*:/;
const COMPACT_START = /^\{"moa_(?:msg|rec)":/;

export const LINE_FORMAT_DETECTORS: readonly { format: TraceFormat; detect: LineFormatDetector }[] = [
  // Both writers (this package's and the original Python one) start every record with "ts".
  { format: 'jsonl', detect: (line) => RECORD_START.test(line) },
  // The collector's file exporter and `moa-otel export --out` write one ExportTraceServiceRequest per line.
  { format: 'otlp-json', detect: (line) => OTLP_TRACES_START.test(line) },
  // A compact session file starts with a message line (or a record whose messages came earlier).
  { format: 'compact', detect: (line) => COMPACT_START.test(line) },
];

export function detectLineFormat(line: string): LineVerdict {
  for (const { format, detect } of LINE_FORMAT_DETECTORS) if (detect(line)) return format;
  return 'undecided';
}

/** How many non-blank lines are looked at before a file without a recognizable line is called neither format. */
export const DETECT_MAX_LINES = 8;

/** File names that are trace files by convention: a tie-breaker when content decides nothing. */
export function formatByName(name: string): TraceFormat | null {
  return /\.jsonl(?:[.-][0-9][\w-]*)?(?:\.gz|\.zst)?$/i.test(name) ? 'jsonl' : null;
}

/** One phrase saying what a text line that belongs to no trace format looks like. */
export function describeTextLine(line: string): string {
  const trimmed = line.trim();
  if (/^\{\s*"resourceMetrics"\s*:/.test(trimmed)) return 'OTLP JSON metrics (only traces are read)';
  if (/^\{\s*"resourceLogs"\s*:/.test(trimmed)) return 'OTLP JSON logs (only traces are read)';
  if (trimmed.startsWith('<')) return 'HTML or XML';
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return trimmed.includes(',') ? 'text lines, not JSON (CSV?)' : 'text lines, not JSON';
  }
  if (Array.isArray(value)) return 'JSON arrays, not one object per line';
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 3).map((k) => JSON.stringify(k).slice(0, 40));
    return keys.length > 0 ? `JSON objects of another kind (keys ${keys.join(', ')}…)` : 'empty JSON objects';
  }
  return 'JSON values, not objects';
}

export const EXPECTED_FORMATS = 'expected JSONL turn records or OTLP JSON trace lines, optionally gzip- or zstd-compressed';
