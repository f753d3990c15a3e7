/** `moa-otel validate`: every problem of the given trace files, with line numbers. */
import type { CliCommand, CliIo } from '../command.js';
import { COMMON_OPTIONS, parseCommandArgs, targetsOrAllSessions, withFileErrors } from '../args.js';
import { checkRecord } from '../../offline/checks.js';
import { plural, terminalSafe } from '../../offline/format.js';
import { formatProblem } from '../problems.js';
import { readTurnRecords, type RecordProblem } from '../../offline/reader.js';

const USAGE = `usage: moa-otel validate [<file|session>...] [--dir DIR] [--json]

Checks every line of the given trace files (default: every session file of
the trace directory) against the record schema of both origins, and the
values a replay needs (ids, times, token counts), and reports each problem
as file:line. Exit code 1 when any problem was found.

  --dir DIR   trace directory (default: the configured trace_dir)
  --json      one JSON object per problem, then one per file`;

const command: CliCommand = {
  name: 'validate',
  summary: 'check trace files line by line (exit 1 on problems)',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runValidate(argv, io)),
};
export default command;

async function runValidate(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args: argv, options: COMMON_OPTIONS, allowPositionals: true });
  // Whole files: a line's problems do not depend on whose session it is.
  const files = (await targetsOrAllSessions(positionals, values.dir, io)).map((target) => target.file);
  let total = 0;
  for (const file of files) {
    const problems: RecordProblem[] = [];
    let records = 0;
    for await (const { record, line } of readTurnRecords(file, { onProblem: (p) => problems.push(p) })) {
      records += 1;
      for (const message of checkRecord(record)) problems.push({ file, line, kind: 'schema', message });
    }
    problems.sort((a, b) => a.line - b.line);
    total += problems.length;
    if (values.json) {
      for (const p of problems) io.stdout.write(`${JSON.stringify(p)}\n`);
      io.stdout.write(`${JSON.stringify({ file, records, problems: problems.length, ok: problems.length === 0 })}\n`);
    } else {
      for (const p of problems) io.stdout.write(`${formatProblem(p)}\n`);
      io.stdout.write(`${terminalSafe(file)}: ${plural(records, 'record')}, ${problems.length === 0 ? 'ok' : plural(problems.length, 'problem')}\n`);
    }
  }
  return total > 0 ? 1 : 0;
}
