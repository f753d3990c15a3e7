/**
 * What one instrumentation (or one sink) does with message content: which
 * secrets it masks and whether GenAI content attributes go on spans.
 *
 * A policy is a plain value owned by the object that applies it — an
 * instrumentation, a JSONL exporter, an OTLP processor. Nothing is looked up
 * by tracer or kept per process, so two pipelines with different settings
 * never see each other's policy.
 */
import { redactingReplacer, redactionPatterns, redactText, type RedactSetting } from '../content/redact.js';
import type { JsonReplacer } from '../content/safe-json.js';

export interface ContentPolicyOptions {
  /** `true`: the built-in secret patterns; a list: those plus the given regular expressions. */
  redact?: RedactSetting;
  /** Put `gen_ai.input.messages` / `gen_ai.output.messages` (and error texts) on spans. Default true. */
  spanContent?: boolean;
}

export class ContentPolicy {
  readonly patterns: readonly RegExp[];
  /** Replacer for every serialized message (redaction), or undefined when nothing is masked. */
  readonly replacer: JsonReplacer | undefined;
  readonly spanContent: boolean;
  /**
   * Identifies the redaction this policy applies. Content carries it, so a
   * sink can tell whether what it receives was already masked its way (two
   * loaded copies of moa-otel agree on it: it is built from pattern text).
   */
  readonly redaction: string;

  constructor(options: ContentPolicyOptions = {}) {
    this.patterns = redactionPatterns(options.redact ?? false);
    this.replacer = redactingReplacer(this.patterns);
    this.spanContent = options.spanContent ?? true;
    this.redaction = redactionFingerprint(this.patterns);
  }

  get redacts(): boolean {
    return this.patterns.length > 0;
  }

  redactText(text: string): string {
    return this.patterns.length > 0 ? redactText(text, this.patterns) : text;
  }

  /** Whether content masked under `redaction` needs nothing more from this policy. */
  covers(redaction: string | undefined): boolean {
    return !this.redacts || redaction === this.redaction;
  }
}

/** The same patterns always give the same text; no patterns give "". */
export function redactionFingerprint(patterns: readonly RegExp[]): string {
  return patterns.map((p) => `/${p.source}/${p.flags}`).join('\n');
}

/** Captures content, masks nothing: what a plain `startMoaTurn` uses. */
export const CAPTURE_ALL = new ContentPolicy();
