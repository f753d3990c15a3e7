/** `moa-otel stats`: calls, tokens and exact cost by model, provider, session or day. */
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, fileSize, parseCommandArgs, targetsOrAllSessions, withFileErrors } from '../args.js';
import { formatCost, formatInt, table, terminalSafe, terminalSafeJson } from '../../offline/format.js';
import { problemsToStderr } from '../problems.js';
import { createProgress } from '../progress.js';
import { collectStats } from '../../offline/collect-stats.js';
import { usageJson } from '../../offline/summary.js';
import { STATS_GROUPS, type StatsGroup, type StatsRow } from '../../offline/stats.js';

const USAGE = `usage: moa-otel stats [<session|file|dir|->...] [--by model|provider|session|day] [--dir DIR] [--json]

Calls, tokens (uncached input, cache read, cache write, output, reasoning)
and cost, summed exactly, over every session file of the trace directory
(or only the inputs given: sessions, files of any trace format, plain or
compressed, directories walked, - for stdin).

  --by KEY    group by model (default), provider, session or day (UTC)
  --dir DIR   trace directory (default: the configured trace_dir)
  --json      one JSON object per group, then the total`;

const command: CliCommand = {
  name: 'stats',
  summary: 'usage and exact cost by model, provider, session or day',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runStats(argv, io)),
};
export default command;

async function runStats(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, by: { type: 'string', default: 'model' } },
    allowPositionals: true,
  });
  const group = values.by as StatsGroup;
  if (!STATS_GROUPS.includes(group)) throw new CliError(`--by expects one of ${STATS_GROUPS.join(', ')}, got "${values.by}"`);
  const targets = await targetsOrAllSessions(positionals, values.dir, io);
  const bar = createProgress(io, 'stats', targets.reduce((bytes, target) => bytes + fileSize(target.file), 0));
  const stats = await collectStats(targets, group, problemsToStderr(io), (done) => bar.update(done), { stdin: io.stdin });
  bar.done();
  if (values.json) {
    for (const row of stats.rows()) io.stdout.write(`${terminalSafeJson(rowJson(group, row))}\n`);
    io.stdout.write(`${terminalSafeJson({ ...rowJson(group, stats.totals()), total: true })}\n`);
    return 0;
  }
  const header = [group.toUpperCase(), 'TURNS', 'CALLS', 'FAILED', 'INPUT', 'CACHE READ', 'CACHE WRITE', 'OUTPUT', 'REASONING', 'COST'];
  const line = (r: StatsRow) => [
    terminalSafe(r.key), String(r.turns), String(r.calls), String(r.failedCalls), formatInt(r.tokens.inputTokens), formatInt(r.tokens.cacheReadTokens),
    formatInt(r.tokens.cacheWriteTokens), formatInt(r.tokens.outputTokens), formatInt(r.tokens.reasoningTokens),
    formatCost(r.costUsd) + (r.unknownCostCalls > 0 ? ` (+${r.unknownCostCalls} unknown)` : ''),
  ];
  const rows = [...stats.rows().map(line), line(stats.totals())];
  io.stdout.write(`${table(header, rows, new Set([1, 2, 3, 4, 5, 6, 7, 8]))}\n`);
  return 0;
}

function rowJson(group: StatsGroup, r: StatsRow) {
  return {
    [group]: r.key, turns: r.turns, calls: r.calls, failed_calls: r.failedCalls,
    tokens: usageJson(r.tokens),
    cost_usd: r.costUsd, unknown_cost_calls: r.unknownCostCalls,
  };
}
