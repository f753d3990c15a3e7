/**
 * Redaction of secrets from content before it reaches a span or a file.
 * Applied to string values (never to raw JSON text), so it cannot break
 * escaping. Off by default: it costs a replacer pass over every message.
 */
import type { JsonReplacer } from './safe-json.js';

export const REDACTED = '[REDACTED]';

/** Common credential shapes. Deliberately conservative: prefixes with long random tails. */
export const BUILTIN_SECRET_PATTERNS: readonly RegExp[] = [
  /\bsk-(?:proj-|ant-|or-)?[A-Za-z0-9_-]{20,}/g, // OpenAI / Anthropic / OpenRouter keys
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{20,}=*/g, // bearer tokens in pasted headers
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

export type RedactSetting = boolean | readonly RegExp[];

/** The patterns in force: none, the built-ins, or the built-ins plus the user's. */
export function redactionPatterns(setting: RedactSetting): readonly RegExp[] {
  if (setting === false) return [];
  if (setting === true) return BUILTIN_SECRET_PATTERNS;
  return [...BUILTIN_SECRET_PATTERNS, ...setting];
}

export function redactText(text: string, patterns: readonly RegExp[]): string {
  let out = text;
  for (const pattern of patterns) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, REDACTED);
  }
  return out;
}

/** A JSON.stringify replacer that redacts every string value, or undefined when nothing is to be redacted. */
export function redactingReplacer(patterns: readonly RegExp[]): JsonReplacer | undefined {
  if (patterns.length === 0) return undefined;
  return (_key, value) => (typeof value === 'string' ? redactText(value, patterns) : value);
}
