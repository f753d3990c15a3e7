/**
 * Where things live on disk: the MoA home, the trace directory and the
 * per-session file name. Resolved at call time, never cached, so a change of
 * MOA_HOME between turns is honoured.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

/** `MOA_HOME`, else `HERMES_HOME`, else `~/.hermes`; with a profile, `<home>/profiles/<name>`. */
export function resolveHome(env: Env = process.env, profile?: string | null): string {
  const base = nonEmpty(env.MOA_HOME) ?? nonEmpty(env.HERMES_HOME) ?? path.join(homedir(), '.hermes');
  const home = expandPath(base, env);
  const chosen = profile ?? nonEmpty(env.MOA_PROFILE);
  return chosen ? path.join(home, 'profiles', chosen) : home;
}

/** The configured trace dir (expanded) or `<home>/moa-traces`. */
export function resolveTraceDir(traceDir: string | null | undefined, env: Env = process.env, profile?: string | null): string {
  if (traceDir && traceDir.trim() !== '') return path.resolve(expandPath(traceDir, env));
  return path.join(resolveHome(env, profile), 'moa-traces');
}

/**
 * Expands a leading `~` and `$VAR` / `${VAR}` references. An unset variable
 * expands to the empty string, as in a POSIX shell.
 */
export function expandPath(input: string, env: Env = process.env): string {
  let out = input.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, bare: string | undefined) => env[(braced ?? bare) as string] ?? '');
  if (out === '~' || out.startsWith('~/')) out = path.join(homedir(), out.slice(1));
  return out;
}

const MAX_FILE_NAME_BYTES = 200;
const UNSAFE_CHAR = /[^\p{L}\p{N}\-_.]/gu;

/**
 * Maps a session id to a safe file stem: Unicode letters, digits and `-_.`
 * survive, everything else becomes `_`. Empty or absent ids share
 * `unknown-session`. Names that would not fit 200 bytes (with `.jsonl`) are
 * cut on a character boundary and suffixed with a hash of the full id, so two
 * long ids with a common prefix never share a file.
 */
export function sanitizeSessionId(sessionId: string | null | undefined): string {
  if (sessionId == null || sessionId === '') return 'unknown-session';
  let stem = sessionId.replace(UNSAFE_CHAR, '_');
  // "." and ".." alone would name directories.
  if (/^\.+$/.test(stem)) stem = stem.replace(/\./g, '_');
  const budget = MAX_FILE_NAME_BYTES - '.jsonl'.length;
  if (Buffer.byteLength(stem) <= budget) return stem;
  const hash = createHash('sha256').update(sessionId).digest('hex').slice(0, 12);
  const keep = budget - hash.length - 1;
  let cut = '';
  for (const ch of stem) {
    if (Buffer.byteLength(cut + ch) > keep) break;
    cut += ch;
  }
  return `${cut}-${hash}`;
}

export function sessionFilePath(traceDir: string, sessionId: string | null | undefined): string {
  return path.join(traceDir, `${sanitizeSessionId(sessionId)}.jsonl`);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}
