/** `moa-otel report`: one self-contained HTML page for a session. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, fileSize, parseCommandArgs, resolveTarget, singleArgument, withFileErrors } from '../args.js';
import { createProgress } from '../progress.js';
import { describeFsError } from '../../offline/errors.js';
import { plural, terminalSafe } from '../../offline/format.js';
import { problemsToStderr } from '../problems.js';
import { writeReport, type ReportWriter } from '../../offline/report/write-report.js';
import { sessionStem } from '../../offline/session-files.js';
import { inputName, STDIN_ARG } from '../../offline/inputs.js';
import type { TraceTarget } from '../../offline/target.js';

const USAGE = `usage: moa-otel report <session|file|-> [-o FILE] [--dir DIR] [--json]

Writes one self-contained HTML page (no network, opens from file://): per
turn a waterfall of the reference and aggregator calls, the outputs side by
side, the exact input messages (collapsible; each message in full once, a
run shown earlier as one line linking to it); tokens and cost per model as
charts; session totals, the same as ls shows (calls are reference and
aggregator calls; failed calls are those whose record says they failed);
an insights section, the same as \`moa-otel insights\` over the file: which
advisor is worth its cost, with cost-share and straggler charts.

  -o, --output FILE   where to write (default: <session>.html here; "-" for stdout)
  --dir DIR           trace directory (default: the configured trace_dir)
  --json              print {file, turns} as JSON instead of a sentence (not with -o -)`;

const command: CliCommand = {
  name: 'report',
  summary: 'write a self-contained HTML report of a session',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runReport(argv, io)),
};
export default command;

async function runReport(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, output: { type: 'string', short: 'o' } },
    allowPositionals: true,
  });
  const target = resolveTarget(singleArgument(positionals), values.dir, io);
  return report(target, inputName(target.file), values, io);
}

async function report(target: TraceTarget, sourceName: string, values: { output?: string; json: boolean }, io: CliIo): Promise<number> {
  const onProblem = problemsToStderr(io);
  const bar = createProgress(io, 'report', fileSize(target.file));
  const onProgress = (bytes: number) => bar.update(bytes);
  const options = io.stdin ? { stdin: io.stdin } : {};
  if (values.output === '-') {
    const toStdout = async (chunk: string | Buffer) => { io.stdout.write(chunk); };
    await writeReport(target, { write: toStdout, writeBytes: toStdout }, onProblem, sourceName, onProgress, options);
    bar.done();
    return 0;
  }
  const stem = sourceName === inputName(STDIN_ARG) ? 'stdin' : sessionStem(sourceName);
  const file = path.resolve(io.cwd, values.output ?? `${stem}.html`);
  const { writer, close } = await fileWriter(file);
  let turns: number;
  try {
    turns = await writeReport(target, writer, onProblem, sourceName, onProgress, options);
  } finally {
    bar.done();
    await close();
  }
  if (values.json) io.stdout.write(`${JSON.stringify({ file, turns })}\n`);
  else io.stdout.write(`wrote ${terminalSafe(file)} (${plural(turns, 'turn')})\n`);
  return 0;
}

async function fileWriter(file: string): Promise<{ writer: ReportWriter; close: () => Promise<void> }> {
  const stream = createWriteStream(file, { mode: 0o600 });
  let failure: Error | undefined;
  stream.on('error', (err) => { failure = err; });
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${describeFsError(err)}`);
  }
  const check = () => {
    if (failure) throw new CliError(`cannot write ${file}: ${describeFsError(failure)}`);
  };
  return {
    writer: {
      async write(chunk) {
        check();
        if (!stream.write(chunk)) await once(stream, 'drain');
        check();
      },
      async writeBytes(chunk) {
        check();
        if (!stream.write(chunk)) await once(stream, 'drain');
        check();
      },
    },
    close: async () => {
      stream.end();
      if (!failure) await once(stream, 'finish').catch(() => undefined);
      check();
    },
  };
}
