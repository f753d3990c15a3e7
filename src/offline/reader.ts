/**
 * Streams the turn records of one JSONL trace file.
 *
 * Lines are read in fixed-size chunks and parsed one at a time, so memory is
 * bounded by the largest line (a 50 MB record is fine) and never by the file.
 * Each line is validated with the record schema, which accepts both origins
 * (this package and the original Python feature). Bad lines do not stop the
 * read: they are reported through `onProblem` with file and line number, and
 * the next line is read. That includes lines no reader could hold (longer
 * than one string: measured, never kept) and JSON nested too deep for the
 * commands that walk it.
 *
 * A torn write (a crash, a full disk) leaves a record cut short: as the last
 * line, or mid-file once a later record was appended after a newline. Both
 * are reported as `torn`. Files written before writers closed torn tails may
 * have a complete record glued to the fragment: that record is read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { jsonNestingExceeds, scanJsonNesting } from '../content/json-nesting.js';
import type { TurnRecord } from '../record/schema.js';
import { recordOfValue } from './record-value.js';
import { asksForTools } from './insights/user-turns.js';
import { describeFsError, TraceFileError } from './errors.js';
import { clip } from './format.js';
import { decodeWithLastInputMessages, decodeWithoutCheckedInputMessages, decodeWithoutInputMessages } from './content-skip.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type SplitLine } from './line-splitter.js';

/** `format`: the whole input is in no format the readers know (line 0); `partial`: a turn rebuilt from spans lacks some of them. */
export type ProblemKind = 'json' | 'schema' | 'torn' | 'too_long' | 'too_deep' | 'format' | 'partial';

export interface RecordProblem {
  file: string;
  /** 1-based line number; 0 for a problem of the whole input. */
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
  /**
   * Longer lines are reported (`too_long`) and skipped without being held in
   * memory. Default: the longest string this runtime can hold.
   */
  maxLineBytes?: number;
  /**
   * Records come without their `input_messages` (empty lists), for commands
   * that never read them: much faster on large records. `true` does not look
   * into the lists at all; `'checked'` checks each is valid JSON (a byte
   * scan) so every problem of a full read is still reported, word for word;
   * `'turns'` is `true`, except that a record without `iteration` (the
   * original writer's) that follows one asking for tools keeps its
   * aggregator's messages: they tell whether the loop went on
   * (`insights/user-turns.ts`).
   */
  skipContent?: SkipContent;
}

export type SkipContent = boolean | 'checked' | 'turns';

/** Whether a mode cuts message lists out without looking into them. */
function skipsUnchecked(mode: SkipContent | undefined): boolean {
  return mode === true || mode === 'turns';
}

/**
 * Records nested deeper are reported (`too_deep`), not parsed: the commands
 * walk records recursively (and so do Python's json readers, whose default
 * recursion limit is about this). Writers of this package nest at most
 * MAX_JSON_DEPTH levels below a message list, far under it.
 */
export const MAX_RECORD_DEPTH = 1000;

const DEFAULT_CHUNK = 1 << 20;
/** Message lists nested deeper are read whole by `skipContent: 'checked'` (writers nest at most 500 levels below one). */
const CHECKED_LIST_DEPTH = 64;
const MAX_MESSAGE = 240;
const BOM = '\uFEFF';
const OPEN_BRACE = 0x7b;

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

/**
 * The bytes of an open file from `start`, by positioned reads into the one
 * reused `buffer`: a chunk is overwritten by the next, so the consumer is
 * done with it before pulling again.
 */
export async function* readFileChunks(file: string, handle: FileHandle, buffer: Buffer, start = 0): AsyncGenerator<Buffer> {
  let position = start;
  for (;;) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
    } catch (err) {
      throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
    }
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

export async function* readTurnRecords(file: string, options: ReadOptions = {}): AsyncGenerator<ReadRecord> {
  const from = options.from ?? { offset: 0, lines: 0 };
  const handle = await openTraceFile(file);
  const parser = new RecordLineParser(file, options.onProblem, from.lines, options.skipContent);
  const splitter = new LineSplitter(from.offset, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const buffer = Buffer.allocUnsafe(options.chunkSize ?? DEFAULT_CHUNK);
  try {
    for await (const chunk of readFileChunks(file, handle, buffer, from.offset)) {
      const lines: SplitLine[] = [];
      splitter.push(chunk, (line) => lines.push(line));
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
export class RecordLineParser {
  private line: number;
  /** `'turns'`: per session id, whether its last record's aggregator asked for tools. */
  private readonly askedForTools = new Map<TurnRecord['session_id'], boolean>();

  constructor(
    private readonly file: string, private readonly onProblem: ((p: RecordProblem) => void) | undefined, linesBefore = 0,
    private readonly skipContent: SkipContent = false,
  ) {
    this.line = linesBefore;
  }

  get lineNumber(): number {
    return this.line;
  }

  parse(split: SplitLine, unterminated: boolean): ReadRecord | null {
    this.line += 1;
    if (split.tooLongBytes !== undefined) {
      this.report('too_long', `line of ${split.tooLongBytes} bytes is longer than a reader can hold; skipped`);
      return null;
    }
    if (this.skipContent === 'checked') {
      const record = this.checkedWithoutContent(split);
      if (record !== null) return record;
    }
    let text: string;
    try {
      text = skipsUnchecked(this.skipContent) ? decodeWithoutInputMessages(split.bytes) : split.bytes.toString('utf8');
    } catch {
      // Only with a maxLineBytes above what one string can hold.
      this.report('too_long', `line of ${split.bytes.length} bytes is longer than a reader can hold; skipped`);
      return null;
    }
    if (this.line === 1 && text.startsWith(BOM)) text = text.slice(1);
    // Blank lines are skipped; the cheap first-character test avoids trimming every record.
    if (text.length === 0 || (text.charCodeAt(0) <= 0x20 && text.trim() === '')) return null;
    const result = parseRecordLine(text);
    if (result.ok) {
      const record = this.skipContent === 'turns' ? this.withTurnEvidence(result.record, split) : result.record;
      return { record, line: this.line, endOffset: split.endOffset };
    }
    if (result.kind !== 'json') {
      this.report(result.kind, result.message);
      return null;
    }
    const glued = gluedRecord(text);
    if (glued) {
      this.report('torn', `torn line: an incomplete record (${Buffer.byteLength(text.slice(0, glued.at))} bytes) with a complete record glued after it; that record is read`);
      return { record: glued.record, line: this.line, endOffset: split.endOffset };
    }
    if (unterminated) {
      this.report('torn', `torn last line (incomplete write, ${split.bytes.length} bytes): ${result.message}`);
    } else if (isCutShort(text, result.message)) {
      this.report('torn', `torn line (an incomplete write of ${split.bytes.length} bytes, closed by a later append): ${result.message}`);
    } else {
      this.report('json', result.message);
    }
    return null;
  }

  /**
   * `'turns'`: in a record without `iteration` (the original writer's), the
   * aggregator's messages tell whether a tool loop went on, which matters
   * only after an iteration that asked for tools (`insights/user-turns.ts`):
   * only then is the line read again for them.
   */
  private withTurnEvidence(record: TurnRecord, split: SplitLine): TurnRecord {
    const session = record.session_id;
    const afterTools = this.askedForTools.get(session) === true;
    const read = afterTools && typeof record.iteration !== 'number' ? this.turnEvidence(split) ?? record : record;
    this.askedForTools.set(session, asksForTools(read.aggregator));
    return read;
  }

  /**
   * The line's record with the aggregator's messages (the last list on the
   * line, as writers order the keys); read whole when that list did not turn
   * out to be the aggregator's. Null when it cannot be had.
   */
  private turnEvidence(split: SplitLine): TurnRecord | null {
    const withLast = parseRecordLine(withoutBom(decodeWithLastInputMessages(split.bytes)));
    if (withLast.ok && withLast.record.aggregator.input_messages.length > 0) return withLast.record;
    const whole = parseRecordLine(withoutBom(split.bytes.toString('utf8')));
    return whole.ok ? whole.record : null;
  }

  /**
   * The record of a line whose message lists are valid JSON, read without
   * them; null for anything else (not a record, a list that is not valid
   * JSON, nesting near the limit): that line is read whole, as before, and
   * its problem reported from there.
   */
  private checkedWithoutContent(split: SplitLine): ReadRecord | null {
    let cut;
    try {
      cut = decodeWithoutCheckedInputMessages(split.bytes, CHECKED_LIST_DEPTH);
    } catch {
      return null;
    }
    if (cut === null) return null;
    let text = cut.text;
    if (this.line === 1 && text.startsWith(BOM)) text = text.slice(1);
    if (text.length === 0 || text.charCodeAt(0) <= 0x20) return null;
    // The lists sat somewhere in what is left: together they nest no deeper than both depths added.
    if (jsonNestingExceeds(text, MAX_RECORD_DEPTH - cut.depth)) return null;
    const result = parseRecordValue(text);
    return result.ok ? { record: result.record, line: this.line, endOffset: split.endOffset } : null;
  }

  private report(kind: ProblemKind, message: string): void {
    this.onProblem?.({ file: this.file, line: this.line, kind, message: clip(message.replace(/\s+/g, ' '), MAX_MESSAGE) });
  }
}

/**
 * A record is a JSON object: one cut short starts with `{`, leaves a string or
 * container open, and the parser fails at its very end (V8 says where it
 * stopped; "Unexpected end of JSON input" says no position).
 */
function isCutShort(text: string, parseError: string): boolean {
  if (text.charCodeAt(0) !== OPEN_BRACE || !scanJsonNesting(text).unclosed) return false;
  const stoppedAt = /at position (\d+)/.exec(parseError);
  return stoppedAt === null || Number(stoppedAt[1]) >= text.length;
}

/** Where a record may start inside a line: ours write `{"ts":`, Python's `json.dumps` `{"ts": `. */
const RECORD_START = '{"ts":';
/** A `"ts"` key nested in a fragment's messages can look like a record start too: a few candidates are tried, each a full parse. */
const MAX_GLUE_CANDIDATES = 4;

/** A complete record glued behind a torn fragment (an append without a newline in front), if there is one. */
function gluedRecord(text: string): { at: number; record: TurnRecord } | undefined {
  if (text.charCodeAt(0) !== OPEN_BRACE) return undefined;
  let at = text.indexOf(RECORD_START, 1);
  for (let tried = 0; at > 0 && tried < MAX_GLUE_CANDIDATES; tried++) {
    const result = parseRecordLine(text.slice(at));
    if (result.ok) return { at, record: result.record };
    at = text.indexOf(RECORD_START, at + 1);
  }
  return undefined;
}

/** The record a line holds as the reader reads it (one glued behind a torn fragment included), or null. */
export function recordOfLine(text: string): TurnRecord | null {
  const result = parseRecordLine(text);
  if (result.ok) return result.record;
  return result.kind === 'json' ? gluedRecord(text)?.record ?? null : null;
}

export type LineParseResult =
  | { ok: true; record: TurnRecord }
  | { ok: false; kind: 'json' | 'schema' | 'too_deep'; message: string };

/** Parses and validates one JSONL line. */
export function parseRecordLine(text: string): LineParseResult {
  if (jsonNestingExceeds(text, MAX_RECORD_DEPTH)) {
    return { ok: false, kind: 'too_deep', message: `JSON nested more than ${MAX_RECORD_DEPTH} levels deep, more than a record may have; skipped` };
  }
  return parseRecordValue(text);
}

/** `parseRecordLine` for text whose nesting is already known to be within bounds. */
function parseRecordValue(text: string): LineParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, kind: 'json', message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const checked = recordOfValue(value);
  return checked.ok ? checked : { ok: false, kind: 'schema', message: checked.message };
}

function withoutBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}
