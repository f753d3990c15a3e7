/** `moa-otel ls`: one row per session file of the trace directory. */
import type { CliCommand, CliIo } from '../command.js';
import { COMMON_OPTIONS, parseCommandArgs, traceDirectory, withFileErrors } from '../args.js';
import { formatBytes, formatCost, formatEpochSeconds, formatInt, table, terminalSafe } from '../../offline/format.js';
import { listSessionFiles, overviewSession, type SessionOverview } from '../../offline/session-files.js';
import { usageJson } from '../../offline/summary.js';
import { totalTokens } from '../../record/usage.js';

const USAGE = `usage: moa-otel ls [--dir DIR] [--json]

One row per session file: session id, turns, calls, failed calls, tokens,
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
  const { values } = parseCommandArgs({ args: argv, options: COMMON_OPTIONS, allowPositionals: false });
  const dir = traceDirectory(values.dir, io);
  const rows: SessionOverview[] = [];
  for (const file of await listSessionFiles(dir)) rows.push(await overviewSession(file));
  if (values.json) {
    for (const row of rows) io.stdout.write(`${JSON.stringify(lsJson(row))}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.stderr.write(`no session files in ${dir}\n`);
    return 0;
  }
  const header = ['SESSION', 'TURNS', 'CALLS', 'FAILED', 'TOKENS', 'COST', 'FIRST', 'LAST', 'SIZE'];
  const body = rows.map((r) => [
    terminalSafe(sessionLabel(r)), String(r.turns), String(r.calls), String(r.failedCalls),
    formatInt(totalTokens(r.tokens)), formatCost(r.costUsd), formatEpochSeconds(r.firstTs), formatEpochSeconds(r.lastTs),
    formatBytes(r.sizeBytes),
  ]);
  io.stdout.write(`${table(header, body, new Set([1, 2, 3, 4, 5, 8]))}\n`);
  const problems = rows.reduce((n, r) => n + r.problems, 0);
  if (problems > 0) io.stderr.write(`${problems} unreadable line(s) skipped; run moa-otel validate for details\n`);
  return 0;
}

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
    first_ts: r.firstTs,
    last_ts: r.lastTs,
    size_bytes: r.sizeBytes,
    problems: r.problems,
  };
}
