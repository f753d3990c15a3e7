/** Reads trace inputs once and aggregates them (the `stats` command and its bench). */
import { matchesSession, type TraceTarget } from './target.js';
import { readInputs, type InputOptions } from './inputs.js';
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
  for await (const { record, target } of readInputs(targets, { onProblem, onProgress, stdin: options.stdin, skipContent: true })) {
    if (matchesSession(record.session_id, target)) stats.add(record, sessionStem(target.file));
  }
  return stats;
}
