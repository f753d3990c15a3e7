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

/** A call payload holding `list`, whose `inputMessagesJson` is made on first read. */
export function payloadWithMessages(fields: Omit<CallPayload, 'inputMessagesJson' | 'inputMessages'>, list: MessageList): CallPayload {
  let json: string | undefined;
  const payload = { ...fields, inputMessages: list } as CallPayload;
  Object.defineProperty(payload, 'inputMessagesJson', {
    enumerable: true,
    get: () => (json ??= list.cache.arrayJson(list)),
  });
  return payload;
}
