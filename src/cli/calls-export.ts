/**
 * `moa-otel export --format calls`: the calls table of any inputs as CSV,
 * JSON Lines or Parquet (docs/calls-table.md), to a file (owner-only) or,
 * for the text forms, to stdout.
 */
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CliError, type CliIo } from './command.js';
import { fileSize, targetsOrAllSessions } from './args.js';
import { problemsToStderr } from './problems.js';
import { createProgress } from './progress.js';
import { exportCalls } from '../offline/export-calls.js';
import { openTableWriter, TABLE_FORMATS, tableFormatOfName, type ByteSink, type TableFormat } from '../offline/calls-writers.js';
import { describeFsError } from '../offline/errors.js';
import { loadHyparquetWriter } from '../offline/parquet-library.js';
import { plural, terminalSafe } from '../offline/format.js';

export interface CallsExportOptions {
  out?: string;
  table?: string;
  dir?: string;
  json: boolean;
}

export async function runCallsExport(inputs: readonly string[], options: CallsExportOptions, io: CliIo): Promise<number> {
  if (options.out === undefined) throw new CliError('--format calls writes to --out FILE (or --out - for stdout)');
  const toStdout = options.out === '-';
  const format = tableFormat(options, toStdout);
  if (toStdout && format === 'parquet') throw new CliError('Parquet is written to a file: give --out FILE.parquet');
  const targets = await targetsOrAllSessions(inputs, options.dir, io);
  // A missing optional library is said before any file is created.
  if (format === 'parquet') await loadHyparquetWriter();
  const file = toStdout ? null : path.resolve(io.cwd, options.out);
  const handle = file === null ? null : await openOutput(file);
  const sink: ByteSink = handle === null
    ? { write: async (chunk) => { io.stdout.write(chunk); } }
    : { write: async (chunk) => { await handle.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk); } };
  const bar = createProgress(io, 'export', targets.reduce((sum, t) => sum + fileSize(t.file), 0));
  try {
    const writer = await openTableWriter(format, sink);
    const summary = await exportCalls(targets, writer, { onProblem: problemsToStderr(io), onProgress: (done) => bar.update(done), stdin: io.stdin });
    bar.done();
    if (summary.roundedCosts > 0) {
      io.stderr.write(`${plural(summary.roundedCosts, 'cost')} with more than 18 decimal places rounded to fit the DECIMAL(38, 18) column\n`);
    }
    if (toStdout) return 0;
    if (options.json) io.stdout.write(`${JSON.stringify({ file, format, turns: summary.turns, rows: summary.rows })}\n`);
    else io.stdout.write(`wrote ${plural(summary.rows, 'call')} of ${plural(summary.turns, 'turn')} to ${terminalSafe(file as string)} (${format})\n`);
    return 0;
  } finally {
    bar.done();
    await handle?.close().catch(() => undefined);
  }
}

function tableFormat(options: CallsExportOptions, toStdout: boolean): TableFormat {
  if (options.table !== undefined) {
    if (!(TABLE_FORMATS as readonly string[]).includes(options.table)) throw new CliError(`--table expects one of ${TABLE_FORMATS.join(', ')}, got "${options.table}"`);
    return options.table as TableFormat;
  }
  const byName = toStdout ? 'csv' : tableFormatOfName(options.out as string);
  if (byName === null) throw new CliError(`cannot tell the table format from "${options.out}": name it .csv, .jsonl or .parquet, or give --table csv|jsonl|parquet`);
  return byName;
}

/** Owner-only, like every file made from traces. */
async function openOutput(file: string): Promise<FileHandle> {
  try {
    const handle = await open(file, 'w', 0o600);
    await handle.chmod(0o600);
    return handle;
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${describeFsError(err)}`);
  }
}
