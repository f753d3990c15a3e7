/**
 * A finished span as a sink's content policy allows it out: content
 * attributes, the content event, exception texts and the status message
 * dropped or masked. Sinks use it for spans that were not produced under
 * their own policy (another instrumentation, another loaded copy, the
 * default `startMoaTurn`), so a sink's `capture_content: false` or `redact`
 * holds whatever produced the span. The span itself is never changed: the
 * result is a view that inherits everything else from it.
 */
import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { safeStringify, tryParseJson } from '../content/safe-json.js';
import * as A from './attributes.js';
import type { ContentPolicy } from './content-policy.js';
import { contentPolicyOf } from './payloads.js';
import type { FinishedSpan, SpanEventData } from './span-data.js';

/** Whether `span` was produced under this very policy (its own pipeline's instrumentation). */
export function producedUnder(span: object, policy: ContentPolicy): boolean {
  return contentPolicyOf(span) === policy;
}

/** `span` through `policy` (itself when nothing had to change). */
export function spanThroughPolicy(span: FinishedSpan, policy: ContentPolicy): FinishedSpan {
  if (producedUnder(span, policy)) return span;
  let changed = false;
  const attributes: Attributes = { ...span.attributes };
  for (const key of A.CONTENT_ATTRIBUTES) {
    const value = attributes[key];
    if (value === undefined) continue;
    changed = true;
    if (!policy.spanContent || typeof value !== 'string') delete attributes[key];
    else attributes[key] = maskedJsonText(value, policy);
  }
  const events: SpanEventData[] = [];
  for (const event of span.events) {
    const through = eventThroughPolicy(event, policy);
    if (through !== event) changed = true;
    if (through) events.push(through);
  }
  // Identifiers can hold a key or an address too: the instrumentation masks them under its own policy only.
  let name = span.name;
  if (policy.redacts) {
    for (const key of IDENTIFIER_ATTRIBUTES) {
      const value = attributes[key];
      if (typeof value !== 'string') continue;
      const masked = SESSION_ATTRIBUTES.has(key) ? policy.sessionId(value) : policy.redactText(value);
      if (masked !== value) {
        attributes[key] = masked;
        changed = true;
      }
    }
    const maskedName = policy.redactText(name);
    if (maskedName !== name) {
      name = maskedName;
      changed = true;
    }
  }
  let status = span.status;
  if (status.code === SpanStatusCode.ERROR && status.message) {
    // A provider error may echo the prompt: its text is content.
    const message = policy.capturesContent ? policy.redactText(status.message) : String(span.attributes[A.ERROR_TYPE] ?? 'error');
    if (message !== status.message) {
      status = { ...status, message };
      changed = true;
    }
  }
  if (!changed) return span;
  return Object.create(span, {
    name: { value: name, enumerable: true },
    attributes: { value: attributes, enumerable: true },
    events: { value: events, enumerable: true },
    status: { value: status, enumerable: true },
  }) as FinishedSpan;
}

const IDENTIFIER_ATTRIBUTES: readonly string[] = [
  A.GEN_AI_REQUEST_MODEL, A.GEN_AI_RESPONSE_MODEL, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_RESPONSE_ID, A.SERVER_ADDRESS,
  A.MOA_PRESET, A.MOA_LABEL, A.MOA_SESSION_ID, A.GEN_AI_CONVERSATION_ID,
];
/** Masked as the instrumentation masks a session id (with a hash, so one id keeps one name). */
const SESSION_ATTRIBUTES = new Set([A.MOA_SESSION_ID, A.GEN_AI_CONVERSATION_ID]);

/** An event as the policy allows it: undefined when it must not leave at all. */
function eventThroughPolicy(event: SpanEventData, policy: ContentPolicy): SpanEventData | undefined {
  if (event.name === A.GEN_AI_INFERENCE_DETAILS_EVENT) {
    if (!policy.eventContent) return undefined;
    const attributes: Attributes = {};
    for (const [key, value] of Object.entries(event.attributes ?? {})) attributes[key] = typeof value === 'string' ? maskedJsonText(value, policy) : value;
    return { ...event, attributes };
  }
  if (event.name !== 'exception' || !event.attributes) return event;
  const { 'exception.message': message, 'exception.stacktrace': stack, ...rest } = event.attributes;
  if (message === undefined && stack === undefined) return event;
  if (!policy.capturesContent) return { ...event, attributes: rest };
  return {
    ...event,
    attributes: {
      ...rest,
      ...(typeof message === 'string' ? { 'exception.message': policy.redactText(message) } : {}),
      ...(typeof stack === 'string' ? { 'exception.stacktrace': policy.redactText(stack) } : {}),
    },
  };
}

/** Content JSON masked value by value: a pattern must never run across JSON string boundaries. */
function maskedJsonText(text: string, policy: ContentPolicy): string {
  if (!policy.redacts) return text;
  const parsed = tryParseJson(text);
  return parsed === undefined ? policy.redactText(text) : safeStringify(parsed, policy.replacer);
}
