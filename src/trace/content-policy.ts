/**
 * How message content is serialized for spans and files: redaction patterns.
 * Set once by `setupMoaTracing` / `createMoaSpanProcessors` (process-wide,
 * like the global tracer provider), overridable per turn.
 */
import { redactingReplacer, redactionPatterns, type RedactSetting } from '../content/redact.js';
import type { JsonReplacer } from '../content/safe-json.js';

export interface ContentPolicy {
  /** Replacer applied to every serialized message (redaction), if any. */
  replacer: JsonReplacer | undefined;
  patterns: readonly RegExp[];
}

const NO_REDACTION: ContentPolicy = { replacer: undefined, patterns: [] };
let current: ContentPolicy = NO_REDACTION;

export function contentPolicyFor(redact: RedactSetting): ContentPolicy {
  const patterns = redactionPatterns(redact);
  return patterns.length === 0 ? NO_REDACTION : { replacer: redactingReplacer(patterns), patterns };
}

export function setContentPolicy(redact: RedactSetting): void {
  current = contentPolicyFor(redact);
}

export function getContentPolicy(): ContentPolicy {
  return current;
}
