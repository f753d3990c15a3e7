/** `moa-otel ls`: one row per session file of the trace directory. */
import type { CliCommand, CliIo } from '../command.js';
import { COMMON_OPTIONS, fileSize, parseCommandArgs, targetsOrAllSessions, traceDirectory, withFileErrors } from '../args.js';
import { problemsToStderr } from '../problems.js';
import { createProgress } from '../progress.js';
import { DEFAULT_FILE_CONCURRENCY, mapConcurrent } from '../../offline/parallel.js';
import { formatBytes, formatCost, formatEpochSeconds, formatInt, table, terminalSafe, terminalSafeJson } from '../../offline/format.js';
import { overviewSession, type SessionOverview } from '../../offline/session-files.js';
import { formatByName } from '../../offline/trace-format.js';
import { usageJson } from '../../offline/summary.js';
import { totalTokens } from '../../record/usage.js';

const USAGE = `usage: moa-otel ls [<file|dir|session|->...] [--dir DIR] [--json]

One row per session file of the trace directory (or per input given: files
of any trace format, plain or compressed, directories walked, - for stdin):
session id, turns, calls, failed calls, tokens,
total cost, first and last turn time, file size. Calls are the reference
and aggregator calls; a call failed when its record says so (an error, or an
output "[failed: ...]"). These are the totals report shows for a session.

  --dir DIR   trace directory (default: the configured trace_dir)
  --json      one JSON object per session file, one per line`;

const command: CliCommand = {
  name: 'ls',
  summary: 'list the session files of the trace directory',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runLs(argv, io)),
};
export default command;

async function runLs(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args: argv, options: COMMON_OPTIONS, allowPositionals: true });
  const targets = await targetsOrAllSessions(positionals, values.dir, io);
  const sizes = targets.map((t) => fileSize(t.file));
  const bar = createProgress(io, 'ls', sizes.reduce((a, b) => a + b, 0));
  let done = 0;
  const onProblem = problemsToStderr(io);
  const rows: SessionOverview[] = await mapConcurrent(targets, fileConcurrency(targets), async (target, index) => {
    const row = await overviewSession(target, { stdin: io.stdin, onProblem });
    done += sizes[index] ?? 0;
    bar.update(done);
    return row;
  });
  bar.done();
  if (values.json) {
    for (const row of rows) io.stdout.write(`${terminalSafeJson(lsJson(row))}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.stderr.write(positionals.length > 0 ? 'no trace files\n' : `no session files in ${traceDirectory(values.dir, io)}\n`);
    return 0;
  }
  const header = ['SESSION', 'TURNS', 'CALLS', 'FAILED', 'TOKENS', 'COST', 'FIRST', 'LAST', 'SIZE'];
  const body = rows.map((r) => [
    terminalSafe(sessionLabel(r)), String(r.turns), String(r.calls), String(r.failedCalls),
    formatInt(totalTokens(r.tokens)), formatCost(r.costUsd) + (r.unrecordedIterations > 0 ? ' (incomplete)' : ''),
    formatEpochSeconds(r.firstTs), formatEpochSeconds(r.lastTs),
    formatBytes(r.sizeBytes),
  ]);
  io.stdout.write(`${table(header, body, new Set([1, 2, 3, 4, 5, 8]))}\n`);
  // A total that misses spend says so (tool loops whose cache-HIT iterations were not written).
  for (const r of rows) if (r.costNote) io.stdout.write(`! ${terminalSafe(sessionLabel(r))}: ${r.costNote}\n`);
  const problems = rows.reduce((n, r) => n + r.problems, 0);
  if (problems > 0) io.stderr.write(`${problems} unreadable line(s) skipped; run moa-otel validate for details\n`);
  return 0;
}

/**
 * Files read at once. Session files by name (small records) and compressed
 * files (decompressed off the main thread) gain wall time from overlapping
 * their reads; other inputs, OTLP JSON files above all, are main-thread
 * parsing of long lines, where several at once only hold more lines and open
 * turns in memory and cost more CPU (OTLP: about 6 % more CPU and 50 MB more
 * RSS at four).
 */
function fileConcurrency(targets: readonly { file: string }[]): number {
  return targets.every((t) => formatByName(t.file) === 'jsonl' || COMPRESSED_NAME.test(t.file)) ? DEFAULT_FILE_CONCURRENCY : 1;
}
const COMPRESSED_NAME = /\.(?:gz|zst)$/i;

/** The raw id when the file holds exactly one, else the file stem (with a count when several share it). */
function sessionLabel(r: SessionOverview): string {
  const [only] = r.sessionIds;
  if (r.sessionIds.length === 1 && typeof only === 'string') return only;
  return r.sessionIds.length > 1 ? `${r.session} (${r.sessionIds.length} sessions)` : r.session;
}

function lsJson(r: SessionOverview) {
  return {
    session: r.session,
    session_ids: r.sessionIds,
    file: r.file,
    turns: r.turns,
    calls: r.calls,
    failed_calls: r.failedCalls,
    tokens: { ...usageJson(r.tokens), total: totalTokens(r.tokens) },
    cost_usd: r.costUsd,
    unrecorded_iterations: r.unrecordedIterations,
    cost_note: r.costNote,
    first_ts: r.firstTs,
    last_ts: r.lastTs,
    size_bytes: r.sizeBytes,
    problems: r.problems,
  };
}
