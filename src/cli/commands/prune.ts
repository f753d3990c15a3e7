/** `moa-otel prune`: delete session files whose last turn is older than a duration. */
import { stat, unlink } from 'node:fs/promises';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, parseCommandArgs, traceDirectory, withFileErrors } from '../args.js';
import { describeFsError } from '../../offline/errors.js';
import { formatBytes, formatEpochSeconds, plural, terminalSafe } from '../../offline/format.js';
import { lastRecordTs, parseDuration } from '../../offline/last-record.js';
import { listSessionFiles } from '../../offline/session-files.js';

const USAGE = `usage: moa-otel prune --older-than DURATION [--dry-run] [--dir DIR] [--json]

Deletes the session files of the trace directory whose last turn is older
than DURATION (30d, 12h, 90m, 45s, 2w). A file without any valid record is
judged by its modification time.

  --older-than DURATION  age limit of the last turn
  --dry-run              only list what would be deleted
  --dir DIR              trace directory (default: the configured trace_dir)
  --json                 one JSON object per deleted (or would-be deleted) file`;

const command: CliCommand = {
  name: 'prune',
  summary: 'delete session files whose last turn is older than a duration',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runPrune(argv, io)),
};
export default command;

async function runPrune(argv: string[], io: CliIo): Promise<number> {
  const now = Date.now();
  const { values } = parseCommandArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  const limitText = values['older-than'];
  if (limitText === undefined) throw new CliError('--older-than DURATION is required (e.g. 30d, 12h, 90m)');
  const limitMs = parseDuration(limitText);
  if (limitMs === null) throw new CliError(`--older-than expects a duration such as 30d, 12h or 90m, got "${limitText}"`);
  const dryRun = values['dry-run'];
  let count = 0;
  let bytes = 0;
  for (const file of await listSessionFiles(traceDirectory(values.dir, io))) {
    const info = await stat(file);
    const ts = await lastRecordTs(file);
    const last = ts ?? info.mtimeMs / 1000;
    if (now - last * 1000 <= limitMs) continue;
    if (!dryRun) {
      try {
        await unlink(file);
      } catch (err) {
        throw new CliError(`cannot delete ${file}: ${describeFsError(err)}`);
      }
    }
    count += 1;
    bytes += info.size;
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ file, last_ts: last, judged_by: ts !== null ? 'last_record' : 'mtime', size_bytes: info.size, deleted: !dryRun })}\n`);
    } else {
      io.stdout.write(`${dryRun ? 'would delete' : 'deleted'} ${terminalSafe(file)} (last turn ${formatEpochSeconds(last)}${ts === null ? ', by modification time' : ''}, ${formatBytes(info.size)})\n`);
    }
  }
  if (!values.json) io.stderr.write(`${dryRun ? 'would delete' : 'deleted'} ${plural(count, 'file')} (${formatBytes(bytes)})\n`);
  return 0;
}
