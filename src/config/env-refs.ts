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

export function expandEnvRefsInText(text: string, env: Env): string {
  return text.replace(REFERENCE, (whole, body: string) => {
    const name = variableName(body);
    const value = name === undefined ? undefined : env[name];
    return value ?? whole;
  });
}

/** A copy of `value` with every string inside expanded; keys and non-strings are untouched. */
export function expandEnvRefs(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return value.includes('${') ? expandEnvRefsInText(value, env) : value;
  if (Array.isArray(value)) return value.map((item) => expandEnvRefs(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expandEnvRefs(v, env)]));
  }
  return value;
}

/** Whether some `${...}` reference in `text` is still unresolved. */
export function hasUnresolvedRef(text: string): boolean {
  return /\$\{[^}]+\}/.test(text);
}
