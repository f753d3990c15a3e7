/** `moa-otel validate`: every problem of the given trace files, with line numbers. */
import type { CliCommand, CliIo } from '../command.js';
import { COMMON_OPTIONS, fileSize, parseCommandArgs, targetsOrAllSessions, withFileErrors } from '../args.js';
import { createProgress } from '../progress.js';
import { inputName, readInputBatches } from '../../offline/inputs.js';
import { checkRecord } from '../../offline/checks.js';
import { plural, terminalSafe } from '../../offline/format.js';
import { formatProblem } from '../problems.js';
import type { RecordProblem } from '../../offline/reader.js';

const USAGE = `usage: moa-otel validate [<file|dir|session|->...] [--dir DIR] [--json]

Checks every line of the given trace inputs (default: every session file of
the trace directory; files of any trace format, plain or compressed,
directories walked, - for stdin) against the record schema of both origins, and the
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
  const targets = (await targetsOrAllSessions(positionals, values.dir, io)).map(({ file, found }) => ({ file, found }));
  const sizes = targets.map((t) => fileSize(t.file));
  const bar = createProgress(io, 'validate', sizes.reduce((a, b) => a + b, 0));
  let before = 0;
  let total = 0;
  for (const [index, target] of targets.entries()) {
    const file = inputName(target.file);
    const problems: RecordProblem[] = [];
    let records = 0;
    let note = '';
    const onNote = ({ message }: { message: string }) => { note = message; };
    const onProgress = (bytes: number) => bar.update(before + bytes);
    // Message lists are checked as JSON, not decoded: every problem is found, at a fraction of the cost.
    const options = { onProblem: (p: RecordProblem) => problems.push(p), stdin: io.stdin, onProgress, onNote, skipContent: 'checked' as const };
    for await (const batch of readInputBatches(target, options)) {
      for (const { record, line } of batch) {
        records += 1;
        for (const message of checkRecord(record)) problems.push({ file, line, kind: 'schema', message });
      }
    }
    before += sizes[index] ?? 0;
    problems.sort((a, b) => a.line - b.line);
    total += problems.length;
    if (values.json) {
      for (const p of problems) io.stdout.write(`${JSON.stringify(p)}\n`);
      io.stdout.write(`${JSON.stringify({ file, records, problems: problems.length, ok: problems.length === 0, ...(note ? { note } : {}) })}\n`);
    } else {
      for (const p of problems) io.stdout.write(`${formatProblem(p)}\n`);
      io.stdout.write(`${terminalSafe(file)}: ${plural(records, 'record')}${note ? ` (${note})` : ''}, ${problems.length === 0 ? 'ok' : plural(problems.length, 'problem')}\n`);
    }
  }
  bar.done();
  return total > 0 ? 1 : 0;
}
