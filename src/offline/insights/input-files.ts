/**
 * The inputs of `insights`: files, directories (walked recursively for
 * `*.jsonl`) and `-` (stdin), read through the offline reader.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError, TraceFileError } from '../errors.js';
import { parseRecordLine, readTurnRecords, type ReadRecord, type RecordProblem } from '../reader.js';
import { LineSplitter } from '../line-splitter.js';
import { SESSION_FILE_SUFFIX } from '../session-files.js';

export const STDIN = '-';

export interface InputFile {
  /** A path, or "-" for stdin. */
  file: string;
  sizeBytes: number;
}

/** Expands paths into the files to read (directories recursively, sorted), each once. */
export async function expandInputs(paths: readonly string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (p === STDIN) {
      if (!seen.has(STDIN)) out.push({ file: STDIN, sizeBytes: 0 });
      seen.add(STDIN);
      continue;
    }
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw new TraceFileError(`cannot read ${p}: ${describeFsError(err)}`);
    }
    const files = info.isDirectory() ? await walk(p) : [{ file: p, sizeBytes: info.size }];
    for (const f of files) {
      const key = path.resolve(f.file);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
  }
  return out;
}

async function walk(dir: string): Promise<InputFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new TraceFileError(`cannot read ${dir}: ${describeFsError(err)}`);
  }
  const out: InputFile[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await walk(full));
    else if (entry.isFile() && entry.name.endsWith(SESSION_FILE_SUFFIX)) out.push({ file: full, sizeBytes: (await stat(full)).size });
  }
  return out;
}

/** The session name of records without an id: the file stem ("stdin" for "-"). */
export function fileSession(file: string): string {
  return file === STDIN ? 'stdin' : path.basename(file, SESSION_FILE_SUFFIX);
}

/** Reads records of a file or of stdin (`stream`) in order. */
export async function* readInput(
  file: string, onProblem: (p: RecordProblem) => void, stream?: AsyncIterable<Uint8Array>,
): AsyncGenerator<ReadRecord> {
  if (file !== STDIN) {
    yield* readTurnRecords(file, { onProblem });
    return;
  }
  if (!stream) throw new TraceFileError('cannot read stdin here');
  const splitter = new LineSplitter();
  let line = 0;
  const parse = (bytes: Buffer, endOffset: number): ReadRecord | null => {
    line += 1;
    const text = bytes.toString('utf8');
    if (text.trim() === '') return null;
    const result = parseRecordLine(text);
    if (result.ok) return { record: result.record, line, endOffset };
    onProblem({ file: STDIN, line, kind: result.kind, message: result.message.slice(0, 240) });
    return null;
  };
  for await (const chunk of stream) {
    const items: ReadRecord[] = [];
    splitter.push(Buffer.from(chunk), (l) => {
      const item = l.tooLongBytes === undefined ? parse(l.bytes, l.endOffset) : null;
      if (item) items.push(item);
    });
    yield* items;
  }
  const tail = splitter.finish();
  if (tail && tail.tooLongBytes === undefined) {
    const item = parse(tail.bytes, tail.endOffset);
    if (item) yield item;
  }
}
