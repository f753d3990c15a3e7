/**
 * Finding lines of a plain JSONL session without parsing the ones around
 * them: the file is scanned for newlines only (native `indexOf`, no string
 * is made), and only the lines a command wants are parsed. `show --turn N`
 * and `tail` use it; anything that is not a plain JSONL file (compressed,
 * OTLP JSON, stdin) goes through the full reader instead.
 *
 * A turn is a non-blank line here. The full reader counts only valid records,
 * so a bad line before the one asked for would shift the count: a scanned
 * line that does not hold a record makes the caller fall back to the full
 * reader, which reports it.
 */
import { DEFAULT_MAX_LINE_BYTES } from './line-splitter.js';
import { openTraceFile, readFileChunks, RecordLineParser, type ReadPosition, type ReadRecord, type RecordProblem } from './reader.js';
import { describeBinary, detectCompression, detectLineFormat, formatByName } from './trace-format.js';

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const SNIFF = 64 * 1024;

/** A line's bytes in the file: [start, end) without its newline, and its 1-based number. */
export interface LineSpan {
  start: number;
  end: number;
  line: number;
  /** Starts with `{` and ends with `}` (blanks aside): shaped like a record, not torn. */
  shaped: boolean;
  /** The last line, without a newline after it. */
  unterminated?: true;
}

/** Whether `file` is plain (uncompressed) JSONL turn records, judged by its first bytes. */
export async function isPlainJsonl(file: string): Promise<boolean> {
  const handle = await openTraceFile(file);
  try {
    const head = Buffer.alloc(SNIFF);
    const { bytesRead } = await handle.read(head, 0, SNIFF, 0);
    const bytes = head.subarray(0, bytesRead);
    if (detectCompression(bytes) !== null || detectCompression(bytes.subarray(4)) !== null || describeBinary(bytes) !== null) return false;
    const first = bytes.toString('utf8').replace(/^\uFEFF/, '').split('\n').find((l) => l.trim() !== '')?.trimStart();
    if (first === undefined) return true;
    const verdict = detectLineFormat(first);
    return verdict === 'jsonl' || (verdict === 'undecided' && formatByName(file) === 'jsonl');
  } finally {
    await handle.close();
  }
}

/**
 * Every non-blank complete line (and an unterminated last one when
 * `includeUnterminated`), in order. Returns the position just past the last
 * complete line (where a follower resumes).
 */
export async function scanLines(
  file: string, onLine: (span: LineSpan) => boolean | void, options: { includeUnterminated?: boolean } = {},
): Promise<ReadPosition> {
  const handle = await openTraceFile(file);
  const buffer = Buffer.allocUnsafe(CHUNK);
  let position = 0;
  let lineStart = 0;
  let lineNumber = 0;
  // The current line's first non-blank byte (0 while it has none) and its last byte before the newline.
  let first = 0;
  let last = 0;
  try {
    for await (const chunk of readFileChunks(file, handle, buffer)) {
      let from = 0;
      for (let newline = chunk.indexOf(NEWLINE, from); newline !== -1; newline = chunk.indexOf(NEWLINE, from)) {
        lineNumber += 1;
        if (first === 0) first = firstContent(chunk, from, newline);
        if (newline > from) last = lastContent(chunk, from, newline, last);
        if (first !== 0) {
          const span = { start: lineStart, end: position + newline, line: lineNumber, shaped: first === OPEN && last === CLOSE };
          if (onLine(span) === false) return { offset: position + newline + 1, lines: lineNumber };
        }
        first = 0;
        last = 0;
        from = newline + 1;
        lineStart = position + from;
      }
      if (first === 0) first = firstContent(chunk, from, chunk.length);
      if (chunk.length > from) last = lastContent(chunk, from, chunk.length, last);
      position += chunk.length;
    }
    const complete = { offset: lineStart, lines: lineNumber };
    if (options.includeUnterminated && first !== 0) {
      onLine({ start: lineStart, end: position, line: lineNumber + 1, shaped: first === OPEN && last === CLOSE, unterminated: true });
    }
    return complete;
  } finally {
    await handle.close();
  }
}

const OPEN = 0x7b;
const CLOSE = 0x7d;
const BOM = [0xef, 0xbb, 0xbf];

function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d;
}

/** The first byte of [from, to) that is not blank (a BOM skipped), or 0. */
function firstContent(chunk: Buffer, from: number, to: number): number {
  let i = from;
  if (chunk[i] === BOM[0] && chunk[i + 1] === BOM[1] && chunk[i + 2] === BOM[2]) i += 3;
  for (; i < to; i++) if (!isBlank(chunk[i] as number)) return chunk[i] as number;
  return 0;
}

/** The last byte of [from, to) that is not blank, or `before` when there is none. */
function lastContent(chunk: Buffer, from: number, to: number, before: number): number {
  for (let i = to - 1; i >= from; i--) if (!isBlank(chunk[i] as number)) return chunk[i] as number;
  return before;
}

/** Parses the lines at `spans` (read one by one), as the reader would; null for a line that holds no record. */
export async function readLinesAt(
  file: string, spans: readonly LineSpan[], onProblem?: (p: RecordProblem) => void, unterminatedLast = false,
): Promise<(ReadRecord | null)[]> {
  const handle = await openTraceFile(file);
  try {
    const out: (ReadRecord | null)[] = [];
    for (const [i, span] of spans.entries()) {
      const length = span.end - span.start;
      const parser = new RecordLineParser(file, onProblem, span.line - 1);
      if (length > DEFAULT_MAX_LINE_BYTES) {
        out.push(parser.parse({ bytes: Buffer.alloc(0), endOffset: span.end + 1, tooLongBytes: length }, false));
        continue;
      }
      const bytes = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(bytes, 0, length, span.start);
      const unterminated = span.unterminated === true || (unterminatedLast && i === spans.length - 1);
      out.push(parser.parse({ bytes: trimCr(bytes.subarray(0, bytesRead)), endOffset: span.end + (unterminated ? 0 : 1) }, unterminated));
    }
    return out;
  } finally {
    await handle.close();
  }
}

function trimCr(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
}
