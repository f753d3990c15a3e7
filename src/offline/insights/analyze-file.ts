/** One input through the analyzer: what a worker thread (or the main thread, for small inputs) does per file. */
import type { RecordProblem } from '../reader.js';
import { InsightsAnalyzer, type AnalyzeSettings, type InsightsPartial } from './analyze.js';
import { fileSession, readInput } from './input-files.js';

/** Progress is reported about every this many bytes. */
const PROGRESS_STEP = 4 * 1024 * 1024;

export async function analyzeFile(
  file: string, settings: AnalyzeSettings,
  hooks: { onProblem?: (p: RecordProblem) => void; onProgress?: (bytes: number) => void; stdin?: AsyncIterable<Uint8Array> } = {},
): Promise<InsightsPartial> {
  const analyzer = new InsightsAnalyzer(settings);
  const session = fileSession(file);
  let reported = 0;
  let offset = 0;
  const onProblem = (p: RecordProblem) => {
    analyzer.problem();
    hooks.onProblem?.(p);
  };
  for await (const { record, endOffset } of readInput(file, onProblem, hooks.stdin)) {
    analyzer.add(record, session);
    offset = endOffset;
    if (offset - reported >= PROGRESS_STEP) {
      hooks.onProgress?.(offset - reported);
      reported = offset;
    }
  }
  if (offset > reported) hooks.onProgress?.(offset - reported);
  return analyzer.finish();
}
