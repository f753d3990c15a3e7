/**
 * The inputs of `insights`, through the one reader of every offline command
 * (`../inputs.ts`: files, walked directories, `-`; JSONL or OTLP JSON, plain,
 * gzip or zstd). This module adds what the analysis needs on top: sizes, to
 * split work between threads and draw progress.
 */
import { stat } from 'node:fs/promises';
import { expandInputPaths, readInput, STDIN_ARG, type InputRecord } from '../inputs.js';
import type { RecordProblem } from '../reader.js';
import { sessionStem } from '../session-files.js';
import type { TraceTarget } from '../target.js';

export const STDIN = STDIN_ARG;

export interface InputFile {
  target: TraceTarget;
  /** Bytes on disk (0 for stdin). */
  sizeBytes: number;
}

/** Expands paths into the inputs to read (directories recursively), with their sizes. */
export async function expandInputs(paths: readonly string[]): Promise<InputFile[]> {
  const targets = await expandInputPaths(paths);
  return Promise.all(targets.map(async (target) => ({
    target,
    sizeBytes: target.file === STDIN ? 0 : await stat(target.file).then((s) => s.size, () => 0),
  })));
}

/** The session name of records without an id: the file stem. */
export function fileSession(file: string): string {
  return sessionStem(file);
}

/** Records of one input, in order; `onProgress` gets the raw bytes read so far of this input. */
export function readInputRecords(
  target: TraceTarget, onProblem: (p: RecordProblem) => void, onProgress?: (bytes: number) => void,
  stdin?: NodeJS.ReadableStream,
): AsyncGenerator<InputRecord> {
  return readInput(target, { onProblem, ...(onProgress ? { onProgress } : {}), ...(stdin ? { stdin } : {}) });
}
