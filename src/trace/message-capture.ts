/**
 * The exact messages of a call, captured for JSONL sinks when the call
 * starts: a snapshot of each message (cheap: structure, not text) from the
 * session's message cache, serialized later by the sink, once per session
 * (`src/content/message-cache.ts`).
 */
import { SessionMessageCaches, type MessageList } from '../content/message-cache.js';
import type { ContentPolicy } from './content-policy.js';
import type { CallPayload } from './payloads.js';

/** One set of session caches per policy (its redaction decides the bytes); dies with the policy. */
const cachesByPolicy = new WeakMap<ContentPolicy, SessionMessageCaches>();

export function captureMessages(policy: ContentPolicy, sessionId: string | null, messages: readonly unknown[]): MessageList {
  let caches = cachesByPolicy.get(policy);
  if (!caches) {
    caches = new SessionMessageCaches(policy.replacer);
    cachesByPolicy.set(policy, caches);
  }
  return caches.forSession(sessionId).list(messages);
}

/**
 * A call payload holding `list`, whose `inputMessagesJson` is made on first
 * read. A class (the getter on its prototype), not a property defined per
 * object: every call of every turn makes one.
 */
class CapturedCallPayload implements CallPayload {
  provider: string;
  output: string | null;
  error: string | null;
  toolCallsJson: string | null;
  finishReason: string | null;
  costUsdText?: string | null;
  policy: object;
  private json: string | undefined;

  constructor(fields: Omit<CallPayload, 'inputMessagesJson' | 'inputMessages'>, readonly inputMessages: MessageList) {
    this.provider = fields.provider;
    this.output = fields.output;
    this.error = fields.error;
    this.toolCallsJson = fields.toolCallsJson;
    this.finishReason = fields.finishReason;
    this.costUsdText = fields.costUsdText ?? null;
    this.policy = fields.policy;
  }

  get inputMessagesJson(): string {
    this.json ??= this.inputMessages.cache.arrayJson(this.inputMessages);
    return this.json;
  }
}

export function payloadWithMessages(fields: Omit<CallPayload, 'inputMessagesJson' | 'inputMessages'>, list: MessageList): CallPayload {
  return new CapturedCallPayload(fields, list);
}
