/** Reads trace files once and aggregates them (the `stats` command and its bench). */
import path from 'node:path';
import { matchesSession, type TraceTarget } from './target.js';
import { readTurnRecords, type RecordProblem } from './reader.js';
import { SESSION_FILE_SUFFIX } from './session-files.js';
import { StatsAccumulator, type StatsGroup } from './stats.js';

export async function collectStats(
  targets: readonly TraceTarget[], group: StatsGroup, onProblem?: (problem: RecordProblem) => void,
  /** Called with the bytes read so far over all targets (for a progress bar). */
  onProgress?: (doneBytes: number) => void,
): Promise<StatsAccumulator> {
  const stats = new StatsAccumulator(group);
  let before = 0;
  for (const target of targets) {
    const stem = path.basename(target.file, SESSION_FILE_SUFFIX);
    let offset = 0;
    for await (const { record, endOffset } of readTurnRecords(target.file, { onProblem })) {
      offset = endOffset;
      onProgress?.(before + offset);
      if (matchesSession(record.session_id, target)) stats.add(record, stem);
    }
    // Up to the last record: a bad tail is not counted, the bar's end draws the total anyway.
    before += offset;
  }
  return stats;
}
