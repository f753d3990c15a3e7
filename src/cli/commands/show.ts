/** `moa-otel show`: each turn of a session as a tree. */
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, matchesSession, parseCommandArgs, resolveTarget, withFileErrors } from '../../offline/cli-support.js';
import { problemsToStderr, wantsColor } from '../../offline/problems.js';
import { readTurnRecords } from '../../offline/reader.js';
import { summarizeTurn } from '../../offline/summary.js';
import { renderTurnTree } from '../../offline/tree.js';

const USAGE = `usage: moa-otel show <session|file> [--turn N] [--full] [--dir DIR] [--json]

Prints each turn as a tree: references (model, duration, tokens, cost,
status, output preview), the aggregator and the turn totals.

  --turn N    only the N-th turn (1-based)
  --full      the exact input messages and complete outputs
  --dir DIR   trace directory (default: the configured trace_dir)
  --json      one JSON object per turn: turn number, line, totals and the record`;

const command: CliCommand = {
  name: 'show',
  summary: 'print the turns of a session as trees',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runShow(argv, io)),
};
export default command;

async function runShow(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, turn: { type: 'string' }, full: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new CliError('expected exactly one <session|file> argument');
  const wanted = values.turn === undefined ? undefined : parseTurnNumber(values.turn);
  const target = resolveTarget(positionals[0] as string, values.dir, io);
  const color = wantsColor(io);
  let turn = 0;
  let shown = 0;
  for await (const { record, line } of readTurnRecords(target.file, { onProblem: problemsToStderr(io) })) {
    if (!matchesSession(record.session_id, target)) continue;
    turn += 1;
    if (wanted !== undefined && turn !== wanted) continue;
    shown += 1;
    if (values.json) {
      const s = summarizeTurn(record);
      const totals = {
        references: s.referenceCount, failed_references: s.referenceFailed, cost_usd: s.costUsd,
        tokens: { input: s.tokens.input, output: s.tokens.output, cache_read: s.tokens.cacheRead, cache_write: s.tokens.cacheWrite, reasoning: s.tokens.reasoning },
      };
      io.stdout.write(`${JSON.stringify({ turn, line, totals, record })}\n`);
    } else {
      io.stdout.write(`${shown > 1 ? '\n' : ''}── turn ${turn} (line ${line}) ──\n${renderTurnTree(record, { full: values.full, color })}`);
    }
    if (wanted !== undefined) break;
  }
  if (wanted !== undefined && shown === 0) throw new CliError(`no turn ${wanted} (the session has ${turn} turn${turn === 1 ? '' : 's'})`);
  if (shown === 0 && !values.json) io.stderr.write('no turns\n');
  return 0;
}

function parseTurnNumber(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`--turn expects a positive integer, got "${text}"`);
  return n;
}
