/** One input through the analyzer: what a worker thread (or the main thread, for small inputs) does per file. */
import type { RecordProblem } from '../reader.js';
import type { TraceTarget } from '../target.js';
import { InsightsAnalyzer, type AnalyzeSettings, type InsightsPartial } from './analyze.js';
import { fileSession, readInputRecords } from './input-files.js';

export async function analyzeFile(
  target: TraceTarget, settings: AnalyzeSettings,
  hooks: { onProblem?: (p: RecordProblem) => void; onProgress?: (bytes: number) => void; stdin?: NodeJS.ReadableStream } = {},
): Promise<InsightsPartial> {
  const analyzer = new InsightsAnalyzer(settings);
  const session = fileSession(target.file);
  let reported = 0;
  const onProblem = (p: RecordProblem) => {
    analyzer.problem();
    hooks.onProblem?.(p);
  };
  // Progress as increments, so inputs read in parallel add up.
  const onProgress = (bytes: number) => {
    if (bytes > reported) hooks.onProgress?.(bytes - reported);
    reported = Math.max(reported, bytes);
  };
  for await (const { record } of readInputRecords(target, onProblem, onProgress, hooks.stdin)) {
    analyzer.add(record, session);
  }
  return analyzer.finish();
}
