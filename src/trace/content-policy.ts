/**
 * What one pipeline does with content: which secrets it masks, where message
 * content goes on spans (attributes, events, nowhere), which GenAI
 * convention names it speaks, how long a content string may be in a span,
 * and whether the cheap backend-specific attribute sets are added.
 *
 * Setup builds one policy per pipeline and hands the same object to the
 * instrumentation and to every sink. Spans and payloads carry the object
 * that produced them, so a sink recognizes its own pipeline's content by
 * identity and filters anything else (another instrumentation, another
 * loaded copy, the default `startMoaTurn`) through itself. Nothing is looked
 * up by tracer or kept per process, so two pipelines never see each other's
 * policy. The JSONL files are not governed by the capture mode: they keep
 * what they are for, under `save_traces`.
 */
import { diag } from '@opentelemetry/api';
import type { Env } from '../config/paths.js';
import { CONTENT_CAPTURE_VALUES, readContentSwitches, type ContentSwitches } from '../config/settings.js';
import { Redactor, type RedactSetting } from '../content/redact.js';
import type { JsonReplacer } from '../content/safe-json.js';

/** The values of OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
export const CONTENT_CAPTURE_MODES = CONTENT_CAPTURE_VALUES;
export type ContentCapture = (typeof CONTENT_CAPTURE_MODES)[number];

export interface ContentPolicyOptions {
  /** `true`: the built-in secret patterns; a list: those plus the given regular expressions. */
  redact?: RedactSetting;
  /**
   * Where message content (and provider error texts) go. Default `SPAN_ONLY`:
   * recording what every model saw is what moa-otel is for.
   */
  capture?: ContentCapture;
  /** Shorthand: `false` is `NO_CONTENT`, `true` is `SPAN_ONLY` (ignored when `capture` is given). */
  spanContent?: boolean;
  /** Emit the newest (unreleased) GenAI names instead of the released ones backends read today. */
  latestConventions?: boolean;
  /** Cap, in UTF-8 bytes, of each content string on spans (the files keep everything). Default: no cap. */
  maxContentBytes?: number;
  /** Add the cheap attribute sets some backends render from (OpenInference root, Langfuse cost). Default true. */
  backendHints?: boolean;
}

export class ContentPolicy {
  readonly patterns: readonly RegExp[];
  /** Replacer for every serialized message (redaction), or undefined when nothing is masked. */
  readonly replacer: JsonReplacer | undefined;
  readonly capture: ContentCapture;
  /** Content attributes (`gen_ai.input.messages`, `input.value`, ...) and error texts on spans. */
  readonly spanContent: boolean;
  /** Content in a `gen_ai.client.inference.operation.details` span event. */
  readonly eventContent: boolean;
  readonly latestConventions: boolean;
  readonly maxContentBytes: number | undefined;
  readonly backendHints: boolean;

  readonly #redactor: Redactor;

  constructor(options: ContentPolicyOptions = {}) {
    this.#redactor = Redactor.from(options.redact ?? false);
    for (const { index, reason } of this.#redactor.refusedPatterns) {
      diag.error(`moa-otel: redact pattern ${index} refused (${reason}); every text is masked whole until it is fixed`);
    }
    this.patterns = this.#redactor.patterns;
    this.replacer = this.#redactor.replacer;
    this.capture = options.capture ?? (options.spanContent === false ? 'NO_CONTENT' : 'SPAN_ONLY');
    this.spanContent = this.capture === 'SPAN_ONLY' || this.capture === 'SPAN_AND_EVENT';
    this.eventContent = this.capture === 'EVENT_ONLY' || this.capture === 'SPAN_AND_EVENT';
    this.latestConventions = options.latestConventions ?? false;
    this.maxContentBytes = options.maxContentBytes !== undefined && options.maxContentBytes > 0 ? options.maxContentBytes : undefined;
    this.backendHints = options.backendHints ?? true;
  }

  get redacts(): boolean {
    return this.patterns.length > 0;
  }

  /** Whether any content (messages, error texts) leaves through spans at all. */
  get capturesContent(): boolean {
    return this.spanContent || this.eventContent;
  }

  redactText(text: string): string {
    return this.#redactor.active ? this.#redactor.text(text) : text;
  }

  /** The session id to record (and name the file after): masked, with a hash suffix, when it holds a secret. */
  sessionId<T extends string | number | null | undefined>(id: T): T {
    return (this.#redactor.active && typeof id === 'string' ? this.#redactor.sessionId(id) : id) as T;
  }

  /**
   * Whether content produced under `producer` (the policy object a span or
   * payload carries) needs nothing more from this policy: nothing to mask,
   * or produced by this very policy. Any other object — another pipeline's,
   * another loaded copy's — is masked again: identity is the one test two
   * copies cannot get wrong.
   */
  covers(producer: object | undefined): boolean {
    return !this.redacts || producer === this;
  }
}

/**
 * The standard switches, read from an environment:
 * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (an invalid value fails
 * closed: no content, one diagnostic line) and `OTEL_SEMCONV_STABILITY_OPT_IN`
 * containing `gen_ai_latest_experimental`.
 */
export function standardContentSwitches(env: Env): Pick<ContentPolicyOptions, 'capture' | 'latestConventions'> {
  // Read where every setting is read (config/settings.ts); the problem line is this layer's to log.
  return contentSwitchOptions(readContentSwitches(env));
}

/** The policy options of switches already read. */
export function contentSwitchOptions(switches: ContentSwitches): Pick<ContentPolicyOptions, 'capture' | 'latestConventions'> {
  if (switches.problem) diag.warn(switches.problem);
  return {
    ...(switches.capture !== undefined ? { capture: switches.capture } : {}),
    ...(switches.latestConventions ? { latestConventions: true } : {}),
  };
}

/** Captures content, masks nothing, released names: what replay uses to rebuild the spans that were recorded. */
export const CAPTURE_ALL = new ContentPolicy();
