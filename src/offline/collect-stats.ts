/** Reads trace inputs once and aggregates them (the `stats` command and its bench). */
import { matchesSession, type TraceTarget } from './target.js';
import { readInputBatches, type InputOptions } from './inputs.js';
import type { RecordProblem } from './reader.js';
import { sessionStem } from './session-files.js';
import { StatsAccumulator, type StatsGroup } from './stats.js';

export async function collectStats(
  targets: readonly TraceTarget[], group: StatsGroup, onProblem?: (problem: RecordProblem) => void,
  /** Called with the bytes read so far over all targets (for a progress bar). */
  onProgress?: (doneBytes: number) => void,
  options: Pick<InputOptions, 'stdin'> = {},
): Promise<StatsAccumulator> {
  const stats = new StatsAccumulator(group);
  let before = 0;
  for (const target of targets) {
    const fileSession = sessionStem(target.file);
    let last = 0;
    const progress = onProgress && ((bytes: number) => { last = bytes; onProgress(before + bytes); });
    for await (const batch of readInputBatches(target, { onProblem, onProgress: progress, stdin: options.stdin, skipContent: true })) {
      for (const { record } of batch) if (matchesSession(record.session_id, target)) stats.add(record, fileSession);
    }
    before += last;
  }
  return stats;
}
