/**
 * `analyzeInsights(paths, options)`: the library function behind
 * `moa-otel insights` (also exported from `moa-otel/offline`). Reads every
 * input once, streamed, in worker threads when the input is large enough to
 * pay for them, and returns the `--json` document.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_NGRAM_SIZE } from '../../content/text-overlap.js';
import type { RecordProblem } from '../reader.js';
import { emptyPartial, mergePartial, type AnalyzeSettings } from './analyze.js';
import { analyzeFile } from './analyze-file.js';
import { buildDocument } from './build-document.js';
import type { InsightsDocument, InsightsGroupBy, InsightsThresholds } from './document.js';
import { expandInputs, STDIN } from './input-files.js';
import { analyzeInWorkers, WORKERS_AVAILABLE } from './pool.js';
import { resolveThresholds } from './thresholds.js';

export interface InsightsOptions {
  /** Rows of `references`: per reference slot (default), model, preset or UTC day. */
  groupBy?: InsightsGroupBy;
  /** Only records written at or after / at or before these epoch seconds. */
  since?: number | null;
  until?: number | null;
  /** Only these presets / sessions (raw session id or file stem). */
  presets?: readonly string[];
  sessions?: readonly string[];
  thresholds?: Partial<InsightsThresholds>;
  /** Words per n-gram of the text measures (default 3). */
  ngram?: number;
  /**
   * Worker threads. Default: one per core (at most the number of files) when
   * the files add up to WORKER_MIN_BYTES or more, else 0 (the main thread:
   * starting workers costs more than small inputs take).
   */
  workers?: number;
  /** What `-` reads; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
  onProblem?: (problem: RecordProblem) => void;
  /** Called with the bytes read so far and the total of the files (stdin not counted). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export const WORKER_MIN_BYTES = 256 * 1024 * 1024;

/** The analysis settings the options name (plain data: they cross to worker threads). */
export function analyzeSettings(options: InsightsOptions): AnalyzeSettings {
  return {
    groupBy: options.groupBy ?? 'slot',
    since: options.since ?? null,
    until: options.until ?? null,
    presets: [...(options.presets ?? [])],
    sessions: [...(options.sessions ?? [])],
    ngram: options.ngram ?? DEFAULT_NGRAM_SIZE,
  };
}

export async function analyzeInsights(paths: readonly string[], options: InsightsOptions = {}): Promise<InsightsDocument> {
  const settings = analyzeSettings(options);
  const thresholds = resolveThresholds(options.thresholds);
  const files = await expandInputs(paths);
  const totalBytes = files.reduce((sum, f) => sum + f.sizeBytes, 0);
  let done = 0;
  const onProgress = (bytes: number) => {
    done += bytes;
    options.onProgress?.(done, totalBytes);
  };
  const merged = emptyPartial();
  const onFiles = files.filter((f) => f.target.file !== STDIN);
  const threads = options.workers ?? (totalBytes >= WORKER_MIN_BYTES ? availableParallelism() : 0);
  if (WORKERS_AVAILABLE && threads >= 1 && onFiles.length > 0) {
    await analyzeInWorkers(onFiles, settings, threads, (partial) => mergePartial(merged, partial), { onProblem: options.onProblem, onProgress });
  } else {
    for (const f of onFiles) mergePartial(merged, await analyzeFile(f.target, settings, { onProblem: options.onProblem, onProgress }));
  }
  const stdin = files.find((f) => f.target.file === STDIN);
  if (stdin) mergePartial(merged, await analyzeFile(stdin.target, settings, { onProblem: options.onProblem, onProgress, stdin: options.stdin }));
  return buildDocument(merged, settings, thresholds);
}
