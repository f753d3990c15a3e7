/**
 * One way in for every offline command: turn records from any mix of trace
 * files, directories (walked) and stdin (`-`), whatever their format —
 * JSONL turn records or OTLP JSON trace lines, plain, gzip or zstd — decided
 * by content (see `trace-format.ts`).
 *
 * Memory is what the line reader needs (the longest line), plus what a
 * format's decoder holds: nothing for JSONL, the spans of unfinished turns
 * (bounded) for OTLP. Problems are reported as the JSONL reader reports them
 * (`onProblem`, file and line); an input in no known format is one problem
 * (`format`, line 0) when it was found by walking a directory and one error
 * (`TraceFileError`) when it was named.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { compactDecoder } from './compact.js';
import { describeFsError, TraceFileError } from './errors.js';
import { openByteSource, STDIN_ARG, STDIN_NAME, TruncatedInputError } from './input-source.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type SplitLine } from './line-splitter.js';
import type { ReadRecord, RecordProblem, SkipContent } from './reader.js';
import type { TraceTarget } from './target.js';
import {
  describeBinary, describeTextLine, detectLineFormat, DETECT_MAX_LINES, EXPECTED_FORMATS, formatByName,
  type TraceFormat,
} from './trace-format.js';

export { STDIN_ARG, STDIN_NAME } from './input-source.js';

export interface InputRecord extends ReadRecord {
  /** Where the record came from: the file path, or `<stdin>`. */
  file: string;
  format: TraceFormat;
  /** Set on a turn rebuilt from spans when some of its spans never arrived (also reported as a `partial` problem). */
  partial?: boolean;
}

export interface InputOptions {
  onProblem?: (problem: RecordProblem) => void;
  /** What `-` reads; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
  /** Raw bytes read so far, over all inputs of the call (a progress bar against their sizes). */
  onProgress?: (doneBytes: number) => void;
  /** See `ReadOptions.maxLineBytes`. */
  maxLineBytes?: number;
  /** See `ReadOptions.skipContent`; OTLP spans drop their input messages under `true`, all but the aggregator's under `'turns'`, none under `'checked'`. */
  skipContent?: SkipContent;
  /** At the end of an input, what its decoder has to say beyond problems (spans of other programs skipped...). */
  onNote?: (note: { file: string; message: string }) => void;
}

/** What a format's decoder is told about its input. */
export interface DecoderContext {
  file: string;
  onProblem?: (problem: RecordProblem) => void;
  /**
   * The command never reads message lists: a decoder may leave them empty
   * (`true`), or leave them empty once it knows they hold no problem a full
   * read would report (`'checked'`).
   */
  skipContent?: SkipContent;
}

/**
 * Turns the lines of one input into turn records. Lines come in order, every
 * line (blank ones too) exactly once; a decoder may hold state across lines
 * (spans of a turn split over several lines) and hand it out at `finish`.
 */
export interface LineDecoder {
  /** One line; returns the records it completes (often one, maybe none). */
  decode(line: SplitLine, unterminated: boolean): readonly InputRecord[];
  /** End of input: records still held, each complete or reported. */
  finish(): readonly InputRecord[];
  /** After `finish`: one line on what was read and skipped, if there is anything to say. */
  note?(): string | null;
}

export type LineDecoderFactory = (context: DecoderContext) => LineDecoder;

/**
 * The decoder of each line format: the one place a new format plugs in.
 * Loaded once an input turns out to be in that format: the OTLP decoder
 * brings the span model and the writer's record builder, which a command
 * reading plain sessions never loads (a third of its start-up).
 */
export const LINE_DECODERS: Record<TraceFormat, () => Promise<LineDecoderFactory>> = {
  // A session file may switch between the original and the compact format (the setting changed): one decoder reads both.
  jsonl: async () => compactDecoder,
  compact: async () => compactDecoder,
  'otlp-json': async () => (await import('./otlp-turns.js')).spanTurnDecoder,
};

/** Display name of an input. */
export function inputName(file: string): string {
  return file === STDIN_ARG ? STDIN_NAME : file;
}

/** Turn records of several inputs, one after the other, with progress summed over them. */
export async function* readInputs(targets: readonly TraceTarget[], options: InputOptions = {}): AsyncGenerator<InputRecord & { target: TraceTarget }> {
  let before = 0;
  for (const target of targets) {
    let last = 0;
    const onProgress = options.onProgress && ((bytes: number) => { last = bytes; options.onProgress?.(before + bytes); });
    for await (const item of readInput(target, { ...options, onProgress })) yield { ...item, target };
    before += last;
  }
}

/** How many lines of an undecided input are held (at most) while its format is looked for. */
const SNIFF_TEXT = 256;
const DESCRIBE_TEXT = 4096;
const BOM = '\uFEFF';

/** Turn records of one input (a file path or `-`). */
export async function* readInput(target: TraceTarget, options: InputOptions = {}): AsyncGenerator<InputRecord> {
  // Line by line: a consumer that stops early (show --turn) has the lines after its record neither read nor reported.
  for await (const batch of readRecordBatches(target, options, 'line')) yield* batch;
}

/**
 * Turn records of one input, those of each chunk read (about 1 MiB) in one
 * array: the readers of whole files (`stats`, `ls`, `validate`) take them so,
 * without one hop through the async machinery per record.
 */
export function readInputBatches(target: TraceTarget, options: InputOptions = {}): AsyncGenerator<InputRecord[]> {
  return readRecordBatches(target, options, 'chunk');
}

async function* readRecordBatches(target: TraceTarget, options: InputOptions, per: 'line' | 'chunk'): AsyncGenerator<InputRecord[]> {
  const name = inputName(target.file);
  const source = await openByteSource(target.file, options.stdin);
  const splitter = new LineSplitter(0, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const context: DecoderContext = { file: name, onProblem: options.onProblem, skipContent: options.skipContent };
  const state: { format: TraceFormat | null; decoder: LineDecoder | null } = { format: null, decoder: null };
  /** The decoder once the format is known (loading it the first time). */
  const decoderOnceDecided = async (): Promise<LineDecoder | null> => {
    if (state.decoder === null && state.format !== null) state.decoder = (await LINE_DECODERS[state.format]())(context);
    return state.decoder;
  };
  /** Lines read before the format was known (copies: the chunk buffer is reused). */
  const held: SplitLine[] = [];
  let nonBlank = 0;
  let first = true;
  /** Decides the format from the held lines once it can; true when reading should go on. */
  const decide = (atEnd: boolean): boolean => {
    let verdict: TraceFormat | null = null;
    for (const line of held) {
      if (line.tooLongBytes !== undefined) continue;
      const start = lineStart(line.bytes, SNIFF_TEXT);
      if (start === '') continue;
      const found = detectLineFormat(start);
      if (found !== 'undecided') { verdict = found; break; }
    }
    if (verdict === null && !atEnd && nonBlank < DETECT_MAX_LINES) return true;
    if (verdict === null) verdict = formatByName(name) ?? (nonBlank === 0 ? 'jsonl' : null);
    if (verdict === null) {
      const sample = held.find((l) => l.tooLongBytes === undefined && lineStart(l.bytes, SNIFF_TEXT) !== '');
      unknownFormat(target, name, sample ? describeTextLine(lineStart(sample.bytes, DESCRIBE_TEXT)) : 'lines too long to be records', options);
      return false;
    }
    state.format = verdict;
    return true;
  };
  try {
    try {
      for await (const chunk of source.chunks) {
        if (first) {
          first = false;
          const binary = describeBinary(chunk);
          if (binary !== null) {
            unknownFormat(target, name, binary, options);
            return;
          }
        }
        const lines: SplitLine[] = [];
        splitter.push(chunk, (line) => lines.push(line));
        // The lines point into the chunk, which the next read may overwrite: each is decoded (or copied) before that.
        let batch: InputRecord[] = [];
        for (const line of lines) {
          if (per === 'line' && batch.length > 0) {
            yield batch;
            batch = [];
          }
          if (state.decoder !== null) {
            append(batch, state.decoder.decode(line, false));
            continue;
          }
          held.push(line.tooLongBytes === undefined ? { ...line, bytes: Buffer.from(line.bytes) } : line);
          if (line.tooLongBytes !== undefined || lineStart(line.bytes, 16) !== '') nonBlank += 1;
          if (!decide(false)) {
            if (batch.length > 0) yield batch;
            return;
          }
          const decoder = await decoderOnceDecided();
          if (decoder !== null) {
            for (const records of drainHeld(decoder, held)) {
              if (per === 'line' && batch.length > 0) {
                yield batch;
                batch = [];
              }
              append(batch, records);
            }
          }
        }
        if (batch.length > 0) yield batch;
        options.onProgress?.(source.rawBytes);
      }
    } catch (err) {
      if (!(err instanceof TruncatedInputError)) throw err;
      options.onProblem?.({ file: name, line: 0, kind: 'torn', message: err.message });
    }
    const tail = splitter.finish();
    if (state.decoder === null) {
      if (tail) {
        held.push(tail);
        nonBlank += 1;
      }
      if (!decide(true)) return;
    }
    const decoder = await decoderOnceDecided();
    if (decoder === null) return;
    const last = tail && held.length > 0 ? held.pop() : tail;
    const batch: InputRecord[] = [];
    for (const records of drainHeld(decoder, held)) {
      if (per === 'line' && batch.length > 0) yield batch.splice(0);
      append(batch, records);
    }
    if (per === 'line' && batch.length > 0) yield batch.splice(0);
    if (last) append(batch, decoder.decode(last, true));
    if (per === 'line' && batch.length > 0) yield batch.splice(0);
    append(batch, decoder.finish());
    if (batch.length > 0) yield batch;
    options.onProgress?.(source.rawBytes);
    const note = decoder.note?.();
    if (note) options.onNote?.({ file: name, message: note });
  } finally {
    await source.close();
  }
}

/** The records of each held line, one line at a time (a line-by-line reader stays lazy). */
function* drainHeld(decoder: LineDecoder, held: SplitLine[]): Generator<readonly InputRecord[]> {
  for (const line of held.splice(0)) yield decoder.decode(line, false);
}

function append(to: InputRecord[], records: readonly InputRecord[]): void {
  for (const record of records) to.push(record);
}

/** The start of a line as text, BOM and leading blanks removed ('' for a blank line). */
function lineStart(bytes: Buffer, maxBytes: number): string {
  let text = bytes.subarray(0, maxBytes).toString('utf8');
  if (text.startsWith(BOM)) text = text.slice(1);
  return text.trimStart();
}

function unknownFormat(target: TraceTarget, name: string, description: string, options: InputOptions): void {
  const message = `not a trace file: ${description}; ${EXPECTED_FORMATS}`;
  if (!target.found) throw new TraceFileError(`${name}: ${message}`);
  options.onProblem?.({ file: name, line: 0, kind: 'format', message });
}

/** Names a directory walk picks up: JSON lines, plain or compressed, rotated ones included. */
const TRACE_FILE_NAME = /\.(?:jsonl|ndjson|json)(?:[.-][0-9][\w-]*)?(?:\.gz|\.zst)?$/i;

/**
 * Paths to inputs: `-` is stdin (once), a directory is walked recursively
 * (files with trace-like names, hidden ones and symlinked directories
 * skipped, sorted), a file is read whatever its name.
 */
export async function expandInputPaths(paths: readonly string[], cwd = process.cwd()): Promise<TraceTarget[]> {
  const targets: TraceTarget[] = [];
  let stdinSeen = false;
  for (const arg of paths) {
    if (arg === STDIN_ARG) {
      if (stdinSeen) throw new TraceFileError('stdin (-) can be read only once');
      stdinSeen = true;
      targets.push({ file: STDIN_ARG });
      continue;
    }
    const full = path.resolve(cwd, arg);
    let info;
    try {
      info = await stat(full);
    } catch (err) {
      throw new TraceFileError(`cannot read ${full}: ${describeFsError(err)}`);
    }
    if (info.isDirectory()) {
      const found = await walkTraceFiles(full);
      if (found.length === 0) throw new TraceFileError(`cannot read ${full}: a directory without trace files (*.jsonl, *.json, *.ndjson, compressed or not)`);
      for (const file of found) targets.push({ file, found: true });
    } else {
      targets.push({ file: full });
    }
  }
  return targets;
}

export async function walkTraceFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new TraceFileError(`cannot read directory ${dir}: ${describeFsError(err)}`);
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...await walkTraceFiles(full));
    else if (TRACE_FILE_NAME.test(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && await isRegularFile(full)))) files.push(full);
  }
  return files;
}

async function isRegularFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
