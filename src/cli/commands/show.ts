/** `moa-otel show`: each turn of a session as a tree. */
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, countOption, parseCommandArgs, resolveTarget, singleArgument, withFileErrors } from '../args.js';
import { matchesSession } from '../../offline/target.js';
import { plural, terminalSafeJson } from '../../offline/format.js';
import { wantsColor } from '../color.js';
import { problemsToStderr } from '../problems.js';
import { readInput, STDIN_ARG } from '../../offline/inputs.js';
import { isPlainJsonl, readLinesAt, scanLines, type LineSpan } from '../../offline/line-scan.js';
import type { TurnRecord } from '../../record/schema.js';
import { summarizeTurn, usageJson } from '../../offline/summary.js';
import { renderTurnTree } from '../../offline/tree.js';

const USAGE = `usage: moa-otel show <session|file|-> [--turn N] [--full] [--dir DIR] [--json]

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
  const arg = singleArgument(positionals);
  const wanted = values.turn === undefined ? undefined : countOption('--turn', values.turn, 1);
  const target = resolveTarget(arg, values.dir, io);
  const color = wantsColor(io);
  const print = (turn: number, record: TurnRecord, line: number, first: boolean) => {
    if (values.json) {
      const s = summarizeTurn(record);
      const totals = {
        references: s.referenceCount, failed_references: s.referenceFailed, cost_usd: s.cost.toNullableString(),
        tokens: usageJson(s.tokens),
      };
      io.stdout.write(`${terminalSafeJson({ turn, line, totals, record })}\n`);
    } else {
      io.stdout.write(`${first ? '' : '\n'}── turn ${turn} (line ${line}) ──\n${renderTurnTree(record, { full: values.full, color })}`);
    }
  };
  // One turn of a plain session: found by scanning for newlines, only its line parsed.
  if (wanted !== undefined && target.sessionId === undefined && target.file !== STDIN_ARG && await isPlainJsonl(target.file)) {
    const found = await findTurnLine(target.file, wanted);
    const [read] = found ? await readLinesAt(target.file, [found], problemsToStderr(io)) : [];
    if (read) {
      print(wanted, read.record, read.line, true);
      return 0;
    }
  }
  let turn = 0;
  let shown = 0;
  for await (const { record, line } of readInput(target, { onProblem: problemsToStderr(io), stdin: io.stdin })) {
    if (!matchesSession(record.session_id, target)) continue;
    turn += 1;
    if (wanted !== undefined && turn !== wanted) continue;
    shown += 1;
    print(turn, record, line, shown === 1);
    if (wanted !== undefined) break;
  }
  if (wanted !== undefined && shown === 0) throw new CliError(`no turn ${wanted} (the session has ${plural(turn, 'turn')})`);
  if (shown === 0 && !values.json) io.stderr.write('no turns\n');
  return 0;
}

/**
 * The line of the `wanted`-th turn, when every line before it is shaped like
 * a record (else undefined: the full reader counts only valid records and
 * reports the bad ones).
 */
async function findTurnLine(file: string, wanted: number): Promise<LineSpan | undefined> {
  let seen = 0;
  let found: LineSpan | undefined;
  let clean = true;
  await scanLines(file, (span) => {
    seen += 1;
    if (seen === wanted) {
      found = span;
      return false;
    }
    if (!span.shaped) {
      clean = false;
      return false;
    }
    return true;
  }, { includeUnterminated: true });
  return clean ? found : undefined;
}
