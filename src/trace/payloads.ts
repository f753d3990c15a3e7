/**
 * What the instrumentation hands to JSONL sinks besides span attributes.
 *
 * Span attributes carry messages in the GenAI schema; the file needs the
 * OpenAI messages exactly as sent. Re-deriving them by parsing the attribute
 * would double the cost of every turn, so the instrumentation serializes the
 * exact messages once at call start and parks the text on the span object the
 * SDK later hands to processors.
 *
 * The keys are `Symbol.for` names, shared process-wide on purpose: a span
 * started by one loaded copy of moa-otel (say the ESM build an app imports)
 * may end in a processor of another copy (a framework's nested install), and
 * both must read the same properties. The `.v1` suffix versions the shape.
 */
import type { Span } from '@opentelemetry/api';
import type { MessageList } from '../content/message-cache.js';

export interface CallPayload {
  /** The configured provider name (the span carries the GenAI provider name, which may differ). */
  provider: string;
  /**
   * The exact request messages as JSON. Computed on first read from
   * `inputMessages` when that is there (kept for sinks of other loaded
   * copies, which read only this).
   */
  readonly inputMessagesJson: string;
  /**
   * The request messages as they read when the call started: each
   * serialized once per session (`message-cache.ts`), or, for a short
   * conversation, once per turn, a piece then holding several messages in a
   * row (`message-texts.ts`; only when no sink asked for messages one by one).
   */
  inputMessages?: MessageList;
  /** The answer text; null when there was none or the call failed. */
  output: string | null;
  /** Why the call failed (the whole reason); null when it did not. */
  error: string | null;
  /** The aggregator's tool calls, serialized when the call ended; null when none. */
  toolCallsJson: string | null;
  finishReason: string | null;
  /**
   * The call's cost as exact decimal text when it was given as a decimal
   * string (a JSON number in the record keeps these digits); null otherwise.
   */
  costUsdText?: string | null;
  /** The policy the texts above went through (a `ContentPolicy`, maybe another copy's: compared by identity only). */
  policy: object;
}

/** The facts of an iteration a sink needs when its root span never ends. */
export interface TurnPayload {
  /** As the caller gave it (a string masked by the instrumentation's policy when it holds a secret). */
  sessionId: string | number | null;
  preset: string;
  fanout: string | null;
  cache: 'miss' | 'hit';
  iteration: number | null;
  /** The policy the session id went through (compared by identity only). */
  policy: object;
}

const CALL_PAYLOAD = Symbol.for('moa-otel.call-payload.v1');
const TURN_PAYLOAD = Symbol.for('moa-otel.turn-payload.v1');
/** Set by a JSONL processor when a span starts: "I will write this call, give me its exact content". */
const WANTS_PAYLOAD = Symbol.for('moa-otel.wants-payload.v1');
/**
 * Set by a sink that needs each message on its own (the compact format
 * stores every message once per file): short conversations are then not
 * serialized as one text.
 */
const WANTS_MESSAGE_PIECES = Symbol.for('moa-otel.wants-message-pieces.v1');
/** The content policy object a span's content went through, for sinks that enforce their own. */
const CONTENT_POLICY = Symbol.for('moa-otel.content-policy.v1');

type Marked = {
  [CALL_PAYLOAD]?: CallPayload;
  [TURN_PAYLOAD]?: TurnPayload;
  [WANTS_PAYLOAD]?: true;
  [WANTS_MESSAGE_PIECES]?: true;
  [CONTENT_POLICY]?: object;
};

// Symbol keys are invisible to Object.keys and JSON.stringify of the span,
// and a property dies with its span (a WeakMap with thousands of live entries
// made every garbage collection walk them).

export function attachPayload(span: object, payload: CallPayload): void {
  (span as Marked)[CALL_PAYLOAD] = payload;
}

export function payloadOf(span: object): CallPayload | undefined {
  return (span as Marked)[CALL_PAYLOAD];
}

export function attachTurnPayload(span: object, payload: TurnPayload): void {
  (span as Marked)[TURN_PAYLOAD] = payload;
}

export function turnPayloadOf(span: object): TurnPayload | undefined {
  return (span as Marked)[TURN_PAYLOAD];
}

export function requestPayload(span: Span | object): void {
  (span as Marked)[WANTS_PAYLOAD] = true;
}

export function payloadRequested(span: Span | object): boolean {
  return (span as Marked)[WANTS_PAYLOAD] === true;
}

export function requestMessagePieces(span: Span | object): void {
  (span as Marked)[WANTS_MESSAGE_PIECES] = true;
}

export function messagePiecesRequested(span: Span | object): boolean {
  return (span as Marked)[WANTS_MESSAGE_PIECES] === true;
}

export function markContentPolicy(span: object, policy: object): void {
  (span as Marked)[CONTENT_POLICY] = policy;
}

export function contentPolicyOf(span: object): object | undefined {
  return (span as Marked)[CONTENT_POLICY];
}
