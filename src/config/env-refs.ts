/**
 * `${VAR}` references in the shared `config.yaml`, expanded the way the
 * original agent's config loader does, so a file it runs means the same here:
 * every string value of the whole document (never a key) has each
 * `${NAME}` or `${env:NAME}` replaced by the variable's value. A reference to
 * an unset variable, or to another secret source (`${vault:...}`), stays as
 * written, so whoever reads the value can tell it was never resolved. Bare
 * `$NAME` is text, as there.
 */
import type { Env } from './paths.js';

const REFERENCE = /\$\{([^}]+)\}/g;
const OTHER_SOURCE = /^[a-z][a-z0-9_-]*:/;

/** The variable a `${...}` body names, or undefined for another source or an empty `env:`. */
function variableName(body: string): string | undefined {
  const ref = body.trim();
  if (ref.startsWith('env:')) return ref.slice(4).trim() || undefined;
  return OTHER_SOURCE.test(ref) ? undefined : ref;
}

/** Told each expansion made: the reference as written and the value put in its place. */
export type OnExpand = (reference: string, value: string) => void;

export function expandEnvRefsInText(text: string, env: Env, onExpand?: OnExpand): string {
  return text.replace(REFERENCE, (whole, body: string) => {
    const name = variableName(body);
    const value = name === undefined ? undefined : env[name];
    if (value !== undefined) onExpand?.(whole, value);
    return value ?? whole;
  });
}

/** A copy of `value` with every string inside expanded; keys and non-strings are untouched. */
export function expandEnvRefs(value: unknown, env: Env, onExpand?: OnExpand): unknown {
  if (typeof value === 'string') return value.includes('${') ? expandEnvRefsInText(value, env, onExpand) : value;
  if (Array.isArray(value)) return value.map((item) => expandEnvRefs(item, env, onExpand));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expandEnvRefs(v, env, onExpand)]));
  }
  return value;
}

/**
 * Values shorter than this are left in messages: replacing `1` or `true`
 * everywhere would garble them, and a credential is longer.
 */
const SHOWN_AS_REFERENCE_FROM = 8;

/**
 * `text` (a message about the file) with each value a variable expanded to
 * shown as the reference the file wrote (`${OPENAI_API_KEY}`): a variable
 * may hold a key or password, and the file's own words are what its reader
 * needs. `expansions` maps value to reference.
 */
export function withReferences(text: string, expansions: ReadonlyMap<string, string> | undefined): string {
  if (!expansions || expansions.size === 0) return text;
  let out = text;
  // Longest first, so a value inside another is not replaced half-way.
  for (const [value, reference] of [...expansions].sort((a, b) => b[0].length - a[0].length)) {
    if (value.length < SHOWN_AS_REFERENCE_FROM) continue;
    out = out.split(value).join(reference);
    // Also as it reads inside a JSON string (quotes, backslashes, controls escaped).
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) out = out.split(escaped).join(reference);
  }
  return out;
}
