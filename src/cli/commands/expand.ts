/** `moa-otel expand`: a session file in the original format, byte for byte, from a compact one. */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, parseCommandArgs, resolveTarget, singleArgument, withFileErrors } from '../args.js';
import { expandLines } from '../../offline/compact.js';
import type { RecordProblem } from '../../offline/reader.js';
import { formatProblem } from '../problems.js';

const USAGE = `usage: moa-otel expand <file|session|-> [--out FILE] [--dir DIR]

Writes a session file in the original JSONL format: each record of a compact
file (trace_format: compact) expanded with its messages, byte for byte the
line the default format would have written; lines already in the original
format are copied as they are. Plain, gzip or zstd input; - reads stdin.
Problems (a cut line, a record whose messages are missing) go to stderr as
file:line, and the exit code is 1.

  --out FILE  write there (created owner-only) instead of stdout
  --dir DIR   trace directory for a session name (default: the configured trace_dir)`;

const command: CliCommand = {
  name: 'expand',
  summary: 'write a compact session file in the original JSONL format',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runExpand(argv, io)),
};
export default command;

async function runExpand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv, options: { ...COMMON_OPTIONS, out: { type: 'string' } }, allowPositionals: true,
  });
  const target = resolveTarget(singleArgument(positionals), values.dir, io);
  const problems: RecordProblem[] = [];
  const outPath = typeof values.out === 'string' ? path.resolve(io.cwd, values.out) : undefined;
  const out = outPath ? createWriteStream(outPath, { mode: 0o600, flags: 'w' }) : io.stdout;
  const failed = outPath ? once(out, 'error').then(([err]) => { throw new CliError(`cannot write ${outPath}: ${(err as Error).message}`); }) : undefined;
  failed?.catch(() => {});
  try {
    for await (const chunk of expandLines(target.file, { onProblem: (p) => problems.push(p), ...(io.stdin ? { stdin: io.stdin } : {}) })) {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), ...(failed ? [failed] : [])]);
    }
  } finally {
    if (outPath) {
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
    }
  }
  for (const p of problems) io.stderr.write(`${formatProblem(p)}\n`);
  return problems.length > 0 ? 1 : 0;
}
