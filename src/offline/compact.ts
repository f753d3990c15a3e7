/**
 * Reading compact session files (`trace_format: compact`,
 * docs/compact-format.md): each record comes back in the original format,
 * byte for byte, from the message table held so far (one per file).
 *
 * - `compactDecoder`: the line decoder `inputs.ts` uses for compact files,
 *   and for JSONL files too (a file may switch formats between lines when
 *   the setting changes). A line of the original format costs one byte test.
 * - `expandLines`: the lines of any trace file in the original format, for
 *   `moa-otel expand`.
 */
import { CompactExpander } from '../record/compact-format.js';
import { openByteSource, TruncatedInputError } from './input-source.js';
import type { DecoderContext, LineDecoder } from './inputs.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type SplitLine } from './line-splitter.js';
import { RecordLineParser, type RecordProblem } from './reader.js';

/** `{"moa_`: the first bytes of every compact line, and of no original record (they start with `{"ts"`). */
const COMPACT_START = Buffer.from('{"moa_');

export function isCompactLine(bytes: Uint8Array): boolean {
  return bytes.length >= COMPACT_START.length && COMPACT_START.every((b, i) => bytes[i] === b);
}

export function compactDecoder(context: DecoderContext): LineDecoder {
  const parser = new RecordLineParser(context.file, context.onProblem, 0, context.skipContent);
  const expander = new CompactExpander();
  const blank: SplitLine = { bytes: Buffer.alloc(0), endOffset: 0 };
  return {
    decode(line, unterminated) {
      if (line.tooLongBytes !== undefined || !isCompactLine(line.bytes)) {
        const read = parser.parse(line, unterminated);
        return read ? [{ record: read.record, line: read.line, endOffset: read.endOffset, file: context.file, format: 'jsonl' }] : [];
      }
      const result = expander.line(line.bytes.toString('utf8'));
      if (result.kind === 'record') {
        const read = parser.parse({ bytes: Buffer.from(result.text, 'utf8'), endOffset: line.endOffset }, unterminated);
        return read ? [{ ...read, file: context.file, format: 'compact' }] : [];
      }
      // Message lines are table entries, not records: they only count as lines.
      parser.parse({ ...blank, endOffset: line.endOffset }, false);
      if (result.kind === 'broken') {
        context.onProblem?.({ file: context.file, line: parser.lineNumber, kind: result.problem === 'torn' ? 'torn' : 'schema', message: result.reason });
      }
      return [];
    },
    finish: () => [],
  };
}

export interface ExpandOptions {
  onProblem?: (problem: RecordProblem) => void;
  stdin?: NodeJS.ReadableStream;
}

/**
 * The lines of a trace file in the original format: compact records
 * expanded, message lines dropped, other lines as they are (bytes, with
 * their newline; an unterminated last line stays unterminated).
 */
export async function* expandLines(file: string, options: ExpandOptions = {}): AsyncGenerator<Buffer> {
  const source = await openByteSource(file, options.stdin);
  const splitter = new LineSplitter(0, DEFAULT_MAX_LINE_BYTES);
  const expander = new CompactExpander();
  let lineNumber = 0;
  const newline = Buffer.from('\n');
  const out = (line: SplitLine, terminated: boolean): Buffer[] => {
    lineNumber += 1;
    if (line.tooLongBytes !== undefined) {
      options.onProblem?.({ file, line: lineNumber, kind: 'too_long', message: `line of ${line.tooLongBytes} bytes is longer than a reader can hold; skipped` });
      return [];
    }
    if (!isCompactLine(line.bytes)) return terminated ? [Buffer.from(line.bytes), newline] : [Buffer.from(line.bytes)];
    const result = expander.line(line.bytes.toString('utf8'));
    if (result.kind === 'record') return [Buffer.from(result.text, 'utf8'), newline];
    if (result.kind === 'broken') options.onProblem?.({ file, line: lineNumber, kind: result.problem === 'torn' ? 'torn' : 'schema', message: result.reason });
    return [];
  };
  try {
    try {
      for await (const chunk of source.chunks) {
        const lines: Buffer[] = [];
        splitter.push(chunk, (line) => lines.push(...out(line, true)));
        yield* lines;
      }
    } catch (err) {
      if (!(err instanceof TruncatedInputError)) throw err;
      options.onProblem?.({ file, line: 0, kind: 'torn', message: err.message });
    }
    const tail = splitter.finish();
    if (tail) yield* out(tail, false);
  } finally {
    await source.close();
  }
}
