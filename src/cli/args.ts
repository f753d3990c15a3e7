/**
 * What every offline command shares: strict argument parsing (unknown flags
 * are a one-line error, exit 2), the trace directory (`--dir` or the
 * configured one) and the mapping of `<session|file>` arguments to files.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorLine } from '../base/errors.js';
import { CliError, type CliIo } from './command.js';
import { resolveConfig } from '../config/load.js';
import { resolveTraceDir, sanitizeSessionId, sessionFilePath } from '../config/paths.js';
import { resolveOtlpProtocol, type OtlpProtocol } from '../config/otlp-protocol.js';
import { describeFsError, TraceFileError } from '../offline/errors.js';
import { expandInputPaths, STDIN_ARG } from '../offline/inputs.js';
import { formatByName } from '../offline/trace-format.js';
import { listSessionFiles } from '../offline/session-files.js';
import type { TraceTarget } from '../offline/target.js';

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
    throw new CliError(errorLine(err).replace(/\. To specify a positional argument.*$/, ''));
  }
}

/** The one `<session|file>` argument of a command that takes exactly one. */
export function singleArgument(positionals: readonly string[]): string {
  const [only] = positionals;
  if (only === undefined || positionals.length > 1) throw new CliError('expected exactly one <session|file> argument');
  return only;
}

/** A whole-number option value of at least `min` (0 or 1). */
export function countOption(name: string, text: string, min: 0 | 1): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new CliError(`${name} expects ${min === 1 ? 'a positive integer' : 'a whole number'}, got "${text}"`);
  }
  return n;
}

/** The configured trace directory, or `--dir` resolved against the working directory. */
export function traceDirectory(dirOption: string | undefined, io: CliIo): string {
  if (dirOption !== undefined) return path.resolve(io.cwd, dirOption);
  try {
    // Reading traces never depends on presets or providers: only the trace settings are resolved.
    const config = resolveConfig({}, { env: io.env, scope: 'traces' });
    return resolveTraceDir(config.trace_dir, io.env, config.profile);
  } catch (err) {
    throw new CliError(`configuration: ${errorLine(err)}`);
  }
}

/** The OTLP encoding the environment asks for; one that cannot be spoken (`grpc`) is a one-line error naming the variable. */
export function otlpProtocolOption(io: CliIo): OtlpProtocol {
  try {
    return resolveOtlpProtocol(io.env);
  } catch (err) {
    throw new CliError(errorLine(err));
  }
}

/** Fails with one line unless `dir` is an existing directory. */
function requireDirectory(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new CliError(`trace directory ${dir}: ${describeFsError(err)}`);
  }
  if (!isDir) throw new CliError(`trace directory ${dir}: not a directory`);
}

export interface ResolveOptions {
  /** A session without a file yet resolves to the file it will have (`tail -f` waits for it). */
  allowMissingSession?: boolean;
}

/**
 * A `<session|file>` argument: an existing file path is used as is; otherwise
 * it is a file name or a session id (raw or sanitized) in the trace directory.
 * Something that can only be a path (`./x`, `/x`, `*.jsonl`) and is missing
 * is reported as an unreadable file, anything else as an unknown session.
 */
export function resolveTarget(arg: string, dirOption: string | undefined, io: CliIo, options: ResolveOptions = {}): TraceTarget {
  if (arg === STDIN_ARG) return { file: STDIN_ARG };
  const asPath = path.resolve(io.cwd, arg);
  if (isFile(asPath)) return { file: asPath };
  const dir = traceDirectory(dirOption, io);
  const namedFile = formatByName(arg) !== null;
  if (namedFile && isFile(path.join(dir, path.basename(arg)))) return { file: path.join(dir, path.basename(arg)) };
  const file = sessionFilePath(dir, arg);
  // A raw id that differs from its file stem ("a/b" → a_b.jsonl) may share the
  // file with other ids ("a_b"): keep only its records. The stem itself means the whole file.
  const session: TraceTarget = arg === sanitizeSessionId(arg) ? { file } : { file, sessionId: arg };
  if (isFile(file)) return session;
  if (namedFile || arg.startsWith('.') || arg.startsWith(path.sep)) {
    throw new CliError(`cannot read ${asPath}: ${describeStat(asPath)}`);
  }
  requireDirectory(dir);
  if (options.allowMissingSession) return session;
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

/** The file's size for a progress bar; 0 when it cannot be read (reading it will say why) or is stdin. */
export function fileSize(file: string): number {
  if (file === STDIN_ARG) return 0;
  try {
    return statSync(file).size;
  } catch {
    return 0;
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

/**
 * Input arguments: `-` (stdin, once), directories (walked), files (any
 * format) and session ids of the trace directory, mixed; none means every
 * session file of the trace directory.
 */
export async function targetsOrAllSessions(args: readonly string[], dirOption: string | undefined, io: CliIo): Promise<TraceTarget[]> {
  if (args.length === 0) return (await listSessionFiles(traceDirectory(dirOption, io))).map((file) => ({ file }));
  const targets: TraceTarget[] = [];
  let stdin = false;
  for (const arg of args) {
    if (arg === STDIN_ARG) {
      if (stdin) throw new CliError('stdin (-) can be read only once');
      stdin = true;
    }
    if (arg !== STDIN_ARG && isDirectory(path.resolve(io.cwd, arg))) targets.push(...await expandInputPaths([arg], io.cwd));
    else targets.push(resolveTarget(arg, dirOption, io));
  }
  return targets;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
