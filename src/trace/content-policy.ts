/**
 * How message content is serialized for spans and files.
 *
 * - Redaction: patterns applied to every string value before it leaves the
 *   process (span attributes and the JSONL file alike).
 * - Span content: whether `gen_ai.input.messages` / `gen_ai.output.messages`
 *   are set at all. `setupMoaTracing` owns its provider, so it knows when no
 *   processor reads them (JSONL only: the file gets the exact messages through
 *   the payload side channel) and turns them off for its tracer, halving the
 *   serialization work of a turn. Any other tracer gets content on.
 */
import { redactingReplacer, redactionPatterns, type RedactSetting } from '../content/redact.js';
import type { JsonReplacer } from '../content/safe-json.js';

export interface ContentPolicy {
  /** Replacer applied to every serialized message (redaction), if any. */
  replacer: JsonReplacer | undefined;
  patterns: readonly RegExp[];
  /** Set the GenAI content attributes on spans. */
  spanContent: boolean;
}

const DEFAULT_POLICY: ContentPolicy = { replacer: undefined, patterns: [], spanContent: true };
let processDefault: ContentPolicy = DEFAULT_POLICY;
const perTracer = new WeakMap<object, ContentPolicy>();

export function contentPolicyFor(redact: RedactSetting, spanContent = true): ContentPolicy {
  const patterns = redactionPatterns(redact);
  return { replacer: redactingReplacer(patterns), patterns, spanContent };
}

/** The policy for tracers moa-otel did not create (e.g. with `createMoaSpanProcessors`). */
export function setDefaultContentPolicy(policy: ContentPolicy): void {
  processDefault = policy;
}

/** The policy for one tracer created by `setupMoaTracing`. */
export function setTracerContentPolicy(tracer: object, policy: ContentPolicy): void {
  perTracer.set(tracer, policy);
}

export function contentPolicyOf(tracer: object | undefined): ContentPolicy {
  return (tracer && perTracer.get(tracer)) || processDefault;
}
