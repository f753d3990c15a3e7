/** `moa-otel tail`: the last turns of a session, and with -f every turn appended after. */

import { CliError, type CliCommand, type CliIo } from '../command.js';
import { readInput, STDIN_ARG } from '../../offline/inputs.js';
import { isPlainJsonl, readLinesAt, scanLines, type LineSpan } from '../../offline/line-scan.js';
import type { RecordProblem } from '../../offline/reader.js';
import { COMMON_OPTIONS, countOption, isFile, parseCommandArgs, resolveTarget, singleArgument, withFileErrors } from '../args.js';
import { matchesSession } from '../../offline/target.js';
import { followFile, readAppended } from '../../offline/follow.js';
import { wantsColor } from '../color.js';
import { problemsToStderr } from '../problems.js';
import type { ReadPosition, ReadRecord } from '../../offline/reader.js';
import { renderTurnTree } from '../../offline/tree.js';
import { terminalSafeJson } from '../../offline/format.js';

const USAGE = `usage: moa-otel tail <session|file|-> [-f] [-n N] [--full] [--dir DIR] [--json]

Prints the last N turns of a session (default 5) as trees; with -f keeps
printing each turn as it is appended, until interrupted. With -f a session
that does not exist yet is waited for.

  -f, --follow  keep printing appended turns
  -n, --turns N how many existing turns to print first (0: none)
  --full        the exact input messages and complete outputs
  --dir DIR     trace directory (default: the configured trace_dir)
  --json        print each record as one JSON line instead of a tree`;

const command: CliCommand = {
  name: 'tail',
  summary: 'print the last turns of a session; -f follows appends',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runTail(argv, io)),
};
export default command;

async function runTail(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: {
      ...COMMON_OPTIONS,
      follow: { type: 'boolean', short: 'f', default: false },
      turns: { type: 'string', short: 'n', default: '5' },
      full: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const arg = singleArgument(positionals);
  const count = countOption('--turns', values.turns, 0);
  const target = resolveTarget(arg, values.dir, io, { allowMissingSession: values.follow });
  const color = wantsColor(io);
  const print = ({ record }: ReadRecord) => {
    io.stdout.write(values.json ? `${terminalSafeJson(record)}\n` : `${renderTurnTree(record, { full: values.full, color })}\n`);
  };
  const ofSession = (onRecord: (r: ReadRecord) => void) => (r: ReadRecord) => {
    if (matchesSession(r.record.session_id, target)) onRecord(r);
  };
  const onProblem = problemsToStderr(io);

  // The last N complete turns, then the position to follow from.
  const last: ReadRecord[] = [];
  let position: ReadPosition = { offset: 0, lines: 0 };
  const keep = ofSession((r) => {
    last.push(r);
    if (last.length > count) last.shift();
  });
  if (target.file === STDIN_ARG) {
    if (values.follow) throw new CliError('-f follows a file, not stdin');
    for await (const r of readInput(target, { onProblem, stdin: io.stdin })) keep(r);
  } else if (isFile(target.file) && await isPlainJsonl(target.file)) {
    const fast = await lastTurns(target.file, count, (r) => matchesSession(r.record.session_id, target), onProblem);
    if (fast) {
      last.push(...fast.records);
      position = fast.position;
    } else {
      position = await readAppended(target.file, position, keep, onProblem);
    }
  } else if (isFile(target.file)) {
    // Compressed or OTLP JSON: read through (and -f cannot follow it).
    if (values.follow) throw new CliError(`-f follows a plain JSONL session file; ${target.file} is compressed or not JSONL`);
    for await (const r of readInput(target, { onProblem })) keep(r);
  }
  last.forEach(print);
  if (!values.follow) return 0;

  if (!isFile(target.file)) io.stderr.write(`waiting for ${target.file}\n`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await followFile(target.file, { signal: controller.signal, from: position, onRecord: ofSession(print), onProblem });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

/**
 * The last `count` turns of a plain session: the file is scanned for
 * newlines, only the last lines are parsed. Undefined when those lines hold
 * too few turns of the session (other sessions' or bad lines among them):
 * then the whole file is read.
 */
async function lastTurns(
  file: string, count: number, wanted: (r: ReadRecord) => boolean, onProblem: (p: RecordProblem) => void,
): Promise<{ records: ReadRecord[]; position: ReadPosition } | undefined> {
  const keep = count * 2 + 8;
  const spans: LineSpan[] = [];
  let dropped = false;
  const position = await scanLines(file, (span) => {
    spans.push(span);
    if (spans.length > keep) {
      spans.shift();
      dropped = true;
    }
  });
  if (count === 0) return { records: [], position };
  // Problems are held back: if the whole file has to be read, that read reports them.
  const problems: RecordProblem[] = [];
  const reads = await readLinesAt(file, spans, (p) => problems.push(p));
  const records = reads.filter((r): r is ReadRecord => r !== null && wanted(r)).slice(-count);
  if (records.length < count && dropped) return undefined;
  problems.forEach(onProblem);
  return { records, position };
}
