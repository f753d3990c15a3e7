/**
 * Where things live on disk: the MoA home, the trace directory and the
 * per-session file name. Resolved at call time, never cached, so a change of
 * MOA_HOME between turns is honoured.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { MoaConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** `MOA_HOME`, else `HERMES_HOME`, else `~/.hermes`; with a profile, `<home>/profiles/<name>`. */
export function resolveHome(env: Env = process.env, profile?: string | null): string {
  const base = nonEmpty(env.MOA_HOME) ?? nonEmpty(env.HERMES_HOME) ?? path.join(currentUserHome(), '.hermes');
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
 * Expands a leading `~` or `~user` and `$VAR` / `${VAR}` references, as the
 * original feature did (Python's `expandvars(expanduser(path))`). A variable
 * that is unset stays as written, like there; so does one set to the empty
 * string (where Python would drop it): expanding it to nothing would turn
 * `$EMPTY/x` into `/x` at the filesystem root and `$EMPTY` into the current
 * directory, while the literal name keeps the traces in a directory that
 * says what is missing. `~user` whose user is unknown also stays as written.
 */
export function expandPath(input: string, env: Env = process.env): string {
  const tilde = /^~([^/]*)(?=\/|$)/.exec(input);
  const home = tilde ? (tilde[1] === '' ? currentUserHome() : homeOfUser(tilde[1] as string)) : undefined;
  // Only the `~` the user wrote is expanded, never one that a variable's value brings in.
  const rest = home !== undefined && tilde ? input.slice(tilde[0].length) : input;
  const expanded = rest.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (written, braced: string | undefined, bare: string | undefined) => {
      const value = env[(braced ?? bare) as string];
      return value === undefined || value === '' ? written : value;
    });
  return home !== undefined ? path.join(home, expanded) : expanded;
}

/**
 * The current user's home: `HOME`, else the password database. Neither is a
 * configuration error with one line, not the `SystemError` Node.js throws.
 */
function currentUserHome(): string {
  try {
    return homedir();
  } catch {
    throw new MoaConfigError('moa config: cannot tell the home directory: HOME is not set and the current user has no entry in the password database; set HOME or MOA_HOME');
  }
}

/**
 * Another user's home from /etc/passwd (Node.js has no getpwnam). Users known
 * only to NSS (LDAP, ...) are not found: their `~user` stays as written.
 */
function homeOfUser(user: string): string | undefined {
  try {
    if (user === userInfo().username) return currentUserHome();
  } catch {
    // No passwd entry for ourselves: look the name up below like any other.
  }
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === user && fields.length >= 7 && fields[5]) return fields[5];
  }
  return undefined;
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
