/**
 * The exact messages of a call, captured for JSONL sinks when the call
 * starts. Two ways, for what each costs:
 * - a short conversation (`SMALL_MESSAGES_CHARS`) is serialized at once:
 *   native `JSON.stringify` of a few kilobytes costs less than the cache's
 *   bookkeeping, and is too short to block the caller. What the calls
 *   share (the conversation under each call's own system prompt, within a
 *   turn and from turn to turn) is serialized once
 *   (`content/message-texts.ts`);
 * - a longer one gets a snapshot of each message (cheap: structure, not
 *   text) from the session's message cache, serialized later by the sink,
 *   once per session (`src/content/message-cache.ts`).
 * Either way the record holds the messages as they read when the call
 * started.
 */
import { jsonCharsWithin } from '../content/json-size.js';
import { MessageCache, SessionMessageCaches, type MessageList } from '../content/message-cache.js';
import { MessageTexts } from '../content/message-texts.js';
import { nativeStringify, safeStringify } from '../content/safe-json.js';
import type { ContentPolicy } from './content-policy.js';
import type { CallPayload } from './payloads.js';

/**
 * Messages of about this many characters at most are serialized when the
 * call starts instead of going through the message cache. Measured with
 * bench/jsonl-path.ts (four arrays of equal messages per turn): at 1.4 Ki
 * characters an array serializing at once wins; at 4.4 Ki the two ways cost
 * the same; at 15 Ki the cache, which serializes the shared messages once,
 * costs a fifth less.
 */
export const SMALL_MESSAGES_CHARS = 4 * 1024;

type PayloadFields = Omit<CallPayload, 'inputMessagesJson' | 'inputMessages'>;

/**
 * The payload of a call with its messages captured. `pieces`: a sink needs
 * each message on its own (the compact format stores messages once per
 * file), so even short conversations go through the cache. `texts`: the
 * session's short conversations serialized so far, which a short
 * conversation of plain data takes its messages' text from
 * (`message-texts.ts`).
 */
export function capturePayload(
  fields: PayloadFields, sessionId: string | null, messages: readonly unknown[], pieces: boolean, texts?: MessageTexts,
): CallPayload {
  const policy = fields.policy as ContentPolicy;
  if (pieces) return new CapturedCallPayload(fields, captureMessages(policy, sessionId, messages));
  const shared = texts?.list(messages, SMALL_MESSAGES_CHARS);
  if (shared !== undefined) return new CapturedCallPayload(fields, shared);
  if (jsonCharsWithin(messages, SMALL_MESSAGES_CHARS) !== undefined) {
    // Small and shallow (the walk saw every level), so only a throw needs the careful serializer: no length or depth check.
    const text = nativeStringify(messages, policy.replacer);
    return new CapturedCallPayload(fields, typeof text === 'string' ? text : safeStringify(messages, policy.replacer));
  }
  return new CapturedCallPayload(fields, captureMessages(policy, sessionId, messages));
}

/** Each session's short conversations (`message-texts.ts`), kept beside its message cache, whose replacer they share. */
const textsBySession = new WeakMap<MessageCache, MessageTexts>();

/**
 * The short conversations of a session, what its calls share serialized
 * once: within a turn (every reference and the aggregator) and from turn to
 * turn (a conversation that grows by appending). Let go with the session's
 * message cache (idle, or over the budget of all sessions).
 */
export function sessionMessageTexts(policy: ContentPolicy, sessionId: string | null): MessageTexts {
  const cache = sessionCaches(policy).forSession(sessionId);
  let texts = textsBySession.get(cache);
  if (!texts) {
    texts = new MessageTexts(cache);
    textsBySession.set(cache, texts);
  }
  return texts;
}

/** One set of session caches per policy (its redaction decides the bytes); dies with the policy. */
const cachesByPolicy = new WeakMap<ContentPolicy, SessionMessageCaches>();

function sessionCaches(policy: ContentPolicy): SessionMessageCaches {
  let caches = cachesByPolicy.get(policy);
  if (!caches) {
    caches = new SessionMessageCaches(policy.replacer);
    cachesByPolicy.set(policy, caches);
  }
  return caches;
}

export function captureMessages(policy: ContentPolicy, sessionId: string | null, messages: readonly unknown[]): MessageList {
  return sessionCaches(policy).forSession(sessionId).list(messages);
}

/**
 * A call payload with its messages either serialized already (short ones)
 * or as the cache's pieces, whose `inputMessagesJson` is then made on first
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
  readonly inputMessages?: MessageList;
  private json: string | undefined;

  constructor(fields: PayloadFields, messages: MessageList | string) {
    this.provider = fields.provider;
    this.output = fields.output;
    this.error = fields.error;
    this.toolCallsJson = fields.toolCallsJson;
    this.finishReason = fields.finishReason;
    this.costUsdText = fields.costUsdText ?? null;
    this.policy = fields.policy;
    if (typeof messages === 'string') this.json = messages;
    else this.inputMessages = messages;
  }

  get inputMessagesJson(): string {
    this.json ??= (this.inputMessages as MessageList).cache.arrayJson(this.inputMessages as MessageList);
    return this.json;
  }
}
