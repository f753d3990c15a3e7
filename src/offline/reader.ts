/**
 * Streams the turn records of one JSONL trace file.
 *
 * Lines are read in fixed-size chunks and parsed one at a time, so memory is
 * bounded by the largest line (a 50 MB record is fine) and never by the file.
 * Each line is validated with the record schema, which accepts both origins
 * (this package and the original Python feature). Bad lines do not stop the
 * read: they are reported through `onProblem` with file and line number, and
 * the next line is read. An unterminated last line that does not parse is a
 * torn write (a crash mid-append) and is reported as such.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { turnRecordSchema, type TurnRecord } from '../record/schema.js';
import { describeFsError, TraceFileError } from './errors.js';
import { clip } from './format.js';
import { LineSplitter, type SplitLine } from './line-splitter.js';

export type ProblemKind = 'json' | 'schema' | 'torn';

export interface RecordProblem {
  file: string;
  /** 1-based line number. */
  line: number;
  kind: ProblemKind;
  message: string;
}

export interface ReadRecord {
  record: TurnRecord;
  /** 1-based line number. */
  line: number;
  /** Byte offset just past the record's line (progress, resuming a tail). */
  endOffset: number;
}

/** A place in a trace file: a line start and the number of lines before it. */
export interface ReadPosition {
  offset: number;
  lines: number;
}

export interface ReadOptions {
  onProblem?: (problem: RecordProblem) => void;
  /** Where to start reading; default the start of the file. */
  from?: ReadPosition;
  /**
   * When false, an unterminated last line is left unread instead of being
   * parsed (a follower waits for the writer to finish it). Default true.
   */
  readUnterminated?: boolean;
  /** Called after every complete line (record, blank or bad) with the position just past it. */
  onConsumed?: (position: ReadPosition) => void;
  chunkSize?: number;
}

const DEFAULT_CHUNK = 1 << 20;
const MAX_MESSAGE = 240;
const BOM = '\uFEFF';

/** Opens a trace file, turning file-system errors into one readable line. */
export async function openTraceFile(file: string): Promise<FileHandle> {
  try {
    const handle = await open(file, 'r');
    const info = await handle.stat();
    if (info.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return handle;
  } catch (err) {
    throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
  }
}

export async function* readTurnRecords(file: string, options: ReadOptions = {}): AsyncGenerator<ReadRecord> {
  const from = options.from ?? { offset: 0, lines: 0 };
  const handle = await openTraceFile(file);
  const parser = new RecordLineParser(file, options.onProblem, from.lines);
  const splitter = new LineSplitter(from.offset);
  const buffer = Buffer.allocUnsafe(options.chunkSize ?? DEFAULT_CHUNK);
  let position = from.offset;
  try {
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
      } catch (err) {
        throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
      }
      if (bytesRead === 0) break;
      position += bytesRead;
      const lines: SplitLine[] = [];
      splitter.push(buffer.subarray(0, bytesRead), (line) => lines.push(line));
      // The lines point into `buffer`: every one is parsed before the loop reads again.
      for (const line of lines) {
        const item = parser.parse(line, false);
        options.onConsumed?.({ offset: line.endOffset, lines: parser.lineNumber });
        if (item) yield item;
      }
    }
    if (options.readUnterminated !== false) {
      const tail = splitter.finish();
      if (tail) {
        const item = parser.parse(tail, true);
        if (item) yield item;
      }
    }
  } finally {
    await handle.close();
  }
}

/** Turns one line into a record or a reported problem. */
class RecordLineParser {
  private line: number;

  constructor(private readonly file: string, private readonly onProblem: ((p: RecordProblem) => void) | undefined, linesBefore = 0) {
    this.line = linesBefore;
  }

  get lineNumber(): number {
    return this.line;
  }

  parse(split: SplitLine, unterminated: boolean): ReadRecord | null {
    this.line += 1;
    let text = split.bytes.toString('utf8');
    if (this.line === 1 && text.startsWith(BOM)) text = text.slice(1);
    // Blank lines are skipped; the cheap first-character test avoids trimming every record.
    if (text.length === 0 || (text.charCodeAt(0) <= 0x20 && text.trim() === '')) return null;
    const result = parseRecordLine(text);
    if (result.ok) return { record: result.record, line: this.line, endOffset: split.endOffset };
    if (unterminated && result.kind === 'json') {
      this.report('torn', `torn last line (incomplete write, ${split.bytes.length} bytes): ${result.message}`);
    } else {
      this.report(result.kind, result.message);
    }
    return null;
  }

  private report(kind: ProblemKind, message: string): void {
    this.onProblem?.({ file: this.file, line: this.line, kind, message: clip(message.replace(/\s+/g, ' '), MAX_MESSAGE) });
  }
}

export type LineParseResult =
  | { ok: true; record: TurnRecord }
  | { ok: false; kind: 'json' | 'schema'; message: string };

/** Parses and validates one JSONL line. */
export function parseRecordLine(text: string): LineParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, kind: 'json', message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = turnRecordSchema.safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data };
  const issues = parsed.error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)';
    return `${where}: ${issue.message}`;
  });
  const more = parsed.error.issues.length > 3 ? ` (+${parsed.error.issues.length - 3} more)` : '';
  return { ok: false, kind: 'schema', message: `not a turn record: ${issues.join('; ')}${more}` };
}
