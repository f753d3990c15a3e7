/** Reads trace files once and aggregates them (the `stats` command and its bench). */
import path from 'node:path';
import { matchesSession, type TraceTarget } from './cli-support.js';
import { readTurnRecords, type RecordProblem } from './reader.js';
import { SESSION_FILE_SUFFIX } from './session-files.js';
import { StatsAccumulator, type StatsGroup } from './stats.js';

export async function collectStats(
  targets: readonly TraceTarget[], group: StatsGroup, onProblem?: (problem: RecordProblem) => void,
): Promise<StatsAccumulator> {
  const stats = new StatsAccumulator(group);
  for (const target of targets) {
    const stem = path.basename(target.file, SESSION_FILE_SUFFIX);
    for await (const { record } of readTurnRecords(target.file, { onProblem })) {
      if (matchesSession(record.session_id, target)) stats.add(record, stem);
    }
  }
  return stats;
}
