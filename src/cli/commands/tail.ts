/** `moa-otel tail`: the last turns of a session, and with -f every turn appended after. */

import { CliError, type CliCommand, type CliIo } from '../command.js';
import { sessionFilePath } from '../../config/paths.js';
import {
  COMMON_OPTIONS, isFile, matchesSession, parseCommandArgs, requireDirectory, resolveTarget, traceDirectory, withFileErrors,
  type TraceTarget,
} from '../../offline/cli-support.js';
import { followFile, readAppended } from '../../offline/follow.js';
import { problemsToStderr, wantsColor } from '../../offline/problems.js';
import type { ReadRecord } from '../../offline/reader.js';
import { renderTurnTree } from '../../offline/tree.js';

const USAGE = `usage: moa-otel tail <session|file> [-f] [-n N] [--full] [--dir DIR] [--json]

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
  if (positionals.length !== 1) throw new CliError('expected exactly one <session|file> argument');
  const count = Number(values.turns);
  if (!Number.isSafeInteger(count) || count < 0) throw new CliError(`--turns expects a whole number, got "${values.turns}"`);
  const arg = positionals[0] as string;
  const target = values.follow ? followTarget(arg, values.dir, io) : resolveTarget(arg, values.dir, io);
  const color = wantsColor(io);
  const print = ({ record }: ReadRecord) => {
    if (!matchesSession(record.session_id, target)) return;
    io.stdout.write(values.json ? `${JSON.stringify(record)}\n` : `${renderTurnTree(record, { full: values.full, color })}\n`);
  };
  const onProblem = problemsToStderr(io);

  // The last N complete turns, then the position to follow from.
  const last: ReadRecord[] = [];
  let position = { offset: 0, lines: 0 };
  if (isFile(target.file)) {
    position = await readAppended(target.file, position, (r) => {
      if (!matchesSession(r.record.session_id, target) || count === 0) return;
      last.push(r);
      if (last.length > count) last.shift();
    }, onProblem);
  }
  last.forEach(print);
  if (!values.follow) return 0;

  if (!isFile(target.file)) io.stderr.write(`waiting for ${target.file}\n`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await followFile(target.file, { signal: controller.signal, from: position, onRecord: print, onProblem });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

/** Like resolveTarget, but a session that has no file yet is fine: -f waits for it. */
function followTarget(arg: string, dirOption: string | undefined, io: CliIo): TraceTarget {
  try {
    return resolveTarget(arg, dirOption, io);
  } catch (err) {
    if (!(err instanceof CliError) || !err.message.startsWith('unknown session')) throw err;
    const dir = traceDirectory(dirOption, io);
    requireDirectory(dir);
    return { file: sessionFilePath(dir, arg), sessionId: arg };
  }
}

