/**
 * What every offline command shares: strict argument parsing (unknown flags
 * are a one-line error, exit 2), the trace directory (`--dir` or the
 * configured one) and the mapping of a `<session|file>` argument to a file.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, type CliIo } from '../cli/command.js';
import { resolveConfig } from '../config/load.js';
import { resolveTraceDir, sanitizeSessionId, sessionFilePath } from '../config/paths.js';
import { describeFsError, TraceFileError } from './errors.js';

/** `--dir` and `--json`, which every offline command takes. */
export const COMMON_OPTIONS = {
  dir: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** node:util parseArgs, strict, with its errors turned into one-line CliErrors. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    // strict is parseArgs' default: unknown options and missing values throw.
    return parseArgs(config);
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    throw new CliError(message.replace(/\. To specify a positional argument.*$/, ''));
  }
}

/** The configured trace directory, or `--dir` resolved against the working directory. */
export function traceDirectory(dirOption: string | undefined, io: CliIo): string {
  if (dirOption !== undefined) return path.resolve(io.cwd, dirOption);
  try {
    const config = resolveConfig({}, { env: io.env });
    return resolveTraceDir(config.trace_dir, io.env, config.profile);
  } catch (err) {
    throw new CliError(`configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Fails with one line unless `dir` is an existing directory. */
export function requireDirectory(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new CliError(`trace directory ${dir}: ${describeFsError(err)}`);
  }
  if (!isDir) throw new CliError(`trace directory ${dir}: not a directory`);
}

export interface TraceTarget {
  file: string;
  /** Set when the argument was a raw session id that maps to a shared file name: only its records. */
  sessionId?: string;
}

/**
 * A `<session|file>` argument: an existing file path is used as is; otherwise
 * it is a file name or a session id (raw or sanitized) in the trace directory.
 * Something that can only be a path (`./x`, `/x`, `*.jsonl`) and is missing
 * is reported as an unreadable file, anything else as an unknown session.
 */
export function resolveTarget(arg: string, dirOption: string | undefined, io: CliIo): TraceTarget {
  const asPath = path.resolve(io.cwd, arg);
  if (isFile(asPath)) return { file: asPath };
  const dir = traceDirectory(dirOption, io);
  if (arg.endsWith('.jsonl') && isFile(path.join(dir, path.basename(arg)))) return { file: path.join(dir, path.basename(arg)) };
  const file = sessionFilePath(dir, arg);
  // A raw id that differs from its file stem ("a/b" → a_b.jsonl) may share the
  // file with other ids ("a_b"): keep only its records. The stem itself means the whole file.
  if (isFile(file)) return arg === sanitizeSessionId(arg) ? { file } : { file, sessionId: arg };
  if (arg.endsWith('.jsonl') || arg.startsWith('.') || arg.startsWith(path.sep)) {
    throw new CliError(`cannot read ${asPath}: ${describeStat(asPath)}`);
  }
  requireDirectory(dir);
  throw new CliError(`unknown session "${arg}" (no ${path.basename(file)} in ${dir})`);
}

/** Runs a command body, turning file errors into one-line CliErrors (exit 2). */
export async function withFileErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof TraceFileError) throw new CliError(err.message);
    throw err;
  }
}

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function describeStat(file: string): string {
  try {
    statSync(file);
    return 'not a regular file';
  } catch (err) {
    return describeFsError(err);
  }
}

/** Whether a record belongs to the session the user named. */
export function matchesSession(recordSessionId: string | null, target: TraceTarget): boolean {
  return target.sessionId === undefined || recordSessionId === target.sessionId;
}
