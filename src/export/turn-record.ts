/**
 * Builds one JSONL record from the spans of one MoA iteration
 * (docs/ARCHITECTURE.md, "The JSONL record"). Keys of the original format
 * come first and in order; our extensions follow.
 *
 * Content comes from the call payloads the instrumentation parked on the
 * spans (exact messages) or, for spans without one, from the GenAI content
 * attributes. Either way it passes the sink's own redaction unless it was
 * already masked the same way: the file's policy belongs to the file.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { fromGenAiMessages, type GenAiMessage } from '../content/genai.js';
import { safeStringify, tryParseJson } from '../content/safe-json.js';
import { failedOutput } from '../record/schema.js';
import * as A from '../trace/attributes.js';
import { outputLocation } from '../trace/call-attributes.js';
import type { ContentPolicy } from '../trace/content-policy.js';
import { contentPolicyOf, payloadOf, turnPayloadOf, type CallPayload } from '../trace/payloads.js';
import type { FinishedSpan } from '../trace/span-data.js';
import type { RawSlots } from './json-line.js';
import type { Iteration, PartialReason, SeenSpan } from './turn-assembler.js';

/** The `error` of a call whose span never ended. */
export const NOT_ENDED = 'not ended';

export function isMoaRoot(span: { attributes?: Attributes }): boolean {
  const a = span.attributes;
  return a !== undefined && a[A.GEN_AI_OPERATION_NAME] === A.OPERATION_INVOKE_WORKFLOW && a[A.GEN_AI_WORKFLOW_NAME] === A.WORKFLOW_MOA;
}

export function isMoaCall(span: { attributes?: Attributes }): boolean {
  const role = span.attributes?.[A.MOA_ROLE];
  return role === A.ROLE_REFERENCE || role === A.ROLE_AGGREGATOR;
}

export interface RecordContext {
  /** Placeholders for pre-serialized JSON text, spliced back by `encodeLine`. */
  slots: RawSlots;
  /** The sink's content policy. */
  policy: ContentPolicy;
  /** Set when the root span never ended: the record holds what was known. */
  partial?: PartialReason;
  now?: number;
}

/** A whole iteration (its root ended) or a partial one (`context.partial`). */
export function buildTurnRecord(iteration: Iteration, context: RecordContext): Record<string, unknown> {
  const root = iteration.root;
  const a = root?.attributes ?? {};
  const turn = root ? turnPayloadOf(root) : undefined;
  const calls = iteration.calls;
  // One pass over the calls (this runs for every turn): references, and whether they came in index order already.
  const references: Iteration['calls'] = [];
  let inOrder = true;
  let lastIndex = -Infinity;
  // Several aggregator spans in one iteration would be a caller bug; the last one answered.
  let aggregator: Iteration['calls'][number] | undefined;
  for (const c of calls) {
    const role = attrs(c.span)[A.MOA_ROLE];
    if (role === A.ROLE_AGGREGATOR) {
      aggregator = c;
    } else if (role === A.ROLE_REFERENCE) {
      const index = num(attrs(c.span)[A.MOA_REFERENCE_INDEX], 0);
      if (index < lastIndex) inOrder = false;
      lastIndex = index;
      references.push(c);
    }
  }
  // A stable sort: references of equal index keep the order they were seen in, as when sorted always.
  if (!inOrder) references.sort((x, y) => num(attrs(x.span)[A.MOA_REFERENCE_INDEX], 0) - num(attrs(y.span)[A.MOA_REFERENCE_INDEX], 0));
  const rootEnded = iteration.rootEnded && root !== undefined;
  const record: Record<string, unknown> = {
    ts: (context.now ?? Date.now()) / 1000,
    session_id: context.policy.covers(turn?.policy)
      ? (turn ? turn.sessionId : str(a[A.MOA_SESSION_ID]) ?? conversationOfCalls(calls))
      : context.policy.sessionId(turn ? turn.sessionId : str(a[A.MOA_SESSION_ID]) ?? conversationOfCalls(calls)),
    preset: maskedIdentifier(turn?.preset ?? str(a[A.MOA_PRESET]) ?? '', turn?.policy ?? (root && contentPolicyOf(root)), context.policy),
    references: references.map((c) => callEntry(c.span, c.ended, A.ROLE_REFERENCE, context)),
    aggregator: aggregator ? callEntry(aggregator.span, aggregator.ended, A.ROLE_AGGREGATOR, context) : MISSING_AGGREGATOR,
    trace_id: root?.spanContext().traceId ?? calls[0]?.span.parentSpanContext?.traceId ?? null,
    span_id: root?.spanContext().spanId ?? calls[0]?.span.parentSpanContext?.spanId ?? null,
    started_at: root?.startTime ? epochSeconds(root.startTime) : null,
    duration_ms: rootEnded ? durationMs(root as FinishedSpan) : null,
    cache: turn?.cache ?? str(a[A.MOA_CACHE]) ?? 'miss',
  };
  const fanout = turn ? turn.fanout : str(a[A.MOA_FANOUT]);
  if (fanout !== null) record.fanout = fanout;
  const iterationNumber = turn ? turn.iteration : typeof a[A.MOA_ITERATION] === 'number' ? a[A.MOA_ITERATION] : null;
  if (iterationNumber !== null) record.iteration = iterationNumber;
  if (context.partial) {
    record.partial = true;
    record.partial_reason = context.partial;
  }
  return record;
}

/** An iteration whose aggregator never started still gets a valid, honest line. */
const MISSING_AGGREGATOR = Object.freeze({
  label: '', model: null, provider: null, temperature: null, input_messages: [], output: null,
  streamed: false, output_location: 'inline', error: 'aggregator was not called',
});

function callEntry(span: SeenSpan, ended: boolean, role: string, context: RecordContext): Record<string, unknown> {
  const a = attrs(span);
  const payload = payloadOf(span);
  const failed = ended && span.status?.code === SpanStatusCode.ERROR;
  const error = ended ? callError(span as FinishedSpan, payload, context.policy) : NOT_ENDED;
  // A failed aggregator keeps what had arrived before it failed (a stream cut short), beside its `error`.
  const hasOutput = ended && (!failed || role === A.ROLE_AGGREGATOR);
  // Without a payload the output text and the aggregator's tool calls both come from the output messages: parsed once here.
  const outputMessages = hasOutput && !payload ? parsedOutputMessages(a) : undefined;
  let output = hasOutput ? callOutput(outputMessages, payload, context.policy) : null;
  // A failed reference reads "[failed: <reason>]", as the original wrote it.
  if (role === A.ROLE_REFERENCE && error !== null) output = failedOutput(error);
  const startedAt = span.startTime ? epochSeconds(span.startTime) : null;
  const endedAt = ended && span.endTime ? epochSeconds(span.endTime) : null;
  const duration = ended ? durationMs(span as FinishedSpan) : null;
  // Identifiers are masked like content: the instrumentation masked them under its policy, which may not be the file's.
  const producer = payload?.policy ?? contentPolicyOf(span);
  const model = maskedIdentifier(str(a[A.GEN_AI_REQUEST_MODEL]), producer, context.policy);
  const providerName = maskedIdentifier(provider(a, payload), producer, context.policy);
  const givenLabel = maskedIdentifier(str(a[A.MOA_LABEL]), producer, context.policy);
  const callLabel = givenLabel ?? `${providerName ?? ''}:${model ?? ''}`;
  // Literal objects in key order (no spreads): this runs for every call of every turn.
  if (role === A.ROLE_REFERENCE) {
    return {
      label: callLabel,
      model,
      provider: providerName,
      temperature: temperature(a),
      input_messages: inputMessages(a, payload, context),
      output,
      usage: recordUsage(a),
      cost_usd: costUsd(a, payload, context),
      cost_status: str(a[A.MOA_COST_STATUS]),
      cost_source: str(a[A.MOA_COST_SOURCE]),
      started_at: startedAt,
      ended_at: endedAt,
      duration_ms: duration,
      span_id: span.spanContext().spanId,
      error,
    };
  }
  const streamed = a[A.MOA_AGGREGATOR_STREAMED] === true || a[A.GEN_AI_REQUEST_STREAM] === true;
  const toolCalls = ended ? toolCallsText(outputMessages, payload, context.policy) : null;
  return {
    label: callLabel,
    model,
    provider: providerName,
    temperature: temperature(a),
    input_messages: inputMessages(a, payload, context),
    output,
    streamed,
    output_location: str(a[A.MOA_AGGREGATOR_OUTPUT_LOCATION]) ?? outputLocation(streamed, output),
    usage: recordUsage(a),
    cost_usd: costUsd(a, payload, context),
    cost_status: str(a[A.MOA_COST_STATUS]),
    cost_source: str(a[A.MOA_COST_SOURCE]),
    tool_calls: toolCalls === null ? null : context.slots.hold(toolCalls),
    finish_reason: payload ? payload.finishReason : firstFinishReason(a),
    started_at: startedAt,
    ended_at: endedAt,
    duration_ms: duration,
    span_id: span.spanContext().spanId,
    error,
  };
}

function attrs(span: SeenSpan): Attributes {
  return span.attributes ?? {};
}

function provider(a: Attributes, payload: CallPayload | undefined): string | null {
  return payload?.provider ?? str(a[A.GEN_AI_PROVIDER_NAME]);
}

function temperature(a: Attributes): number | null {
  const t = a[A.GEN_AI_REQUEST_TEMPERATURE];
  return typeof t === 'number' ? t : null;
}

function inputMessages(a: Attributes, payload: CallPayload | undefined, context: RecordContext): unknown {
  if (payload) {
    // Each message's bytes come from the session's cache when the file masks as the instrumentation did.
    if (payload.inputMessages && context.policy.covers(payload.policy)) return context.slots.holdMessages(payload.inputMessages);
    return context.slots.hold(maskedJson(payload.inputMessagesJson, payload.policy, context.policy));
  }
  return context.slots.hold(safeStringify(messagesFromAttribute(a[A.GEN_AI_INPUT_MESSAGES]), context.policy.replacer));
}

/** JSON text from a payload, masked again unless the sink's own policy produced it. */
function maskedJson(text: string, producer: object, policy: ContentPolicy): string {
  if (policy.covers(producer)) return text;
  return safeStringify(tryParseJson(text), policy.replacer);
}

function maskedIdentifier<T extends string | null>(text: T, producer: object | undefined, policy: ContentPolicy): T {
  return text === null || policy.covers(producer) ? text : (policy.redactText(text) as T);
}

function maskedText(text: string | null, payload: CallPayload | undefined, policy: ContentPolicy): string | null {
  if (text === null || (payload && policy.covers(payload.policy))) return text;
  return policy.redactText(text);
}

function callError(span: FinishedSpan, payload: CallPayload | undefined, policy: ContentPolicy): string | null {
  if (payload) return maskedText(payload.error, payload, policy);
  return span.status.code === SpanStatusCode.ERROR ? policy.redactText(span.status.message ?? 'error') : null;
}

/** The output messages attribute of a span without a payload, parsed; undefined when it is no JSON array. */
function parsedOutputMessages(a: Attributes): GenAiMessage[] | undefined {
  const value = a[A.GEN_AI_OUTPUT_MESSAGES];
  if (value === undefined) return undefined;
  const parsed = tryParseJson(String(value));
  return Array.isArray(parsed) ? (parsed as GenAiMessage[]) : undefined;
}

function callOutput(messages: GenAiMessage[] | undefined, payload: CallPayload | undefined, policy: ContentPolicy): string | null {
  if (payload) return maskedText(payload.output, payload, policy);
  if (messages === undefined) return null;
  // Loops, not flatMap/filter/map: this runs for every call of every turn a reader rebuilds from spans.
  let text = '';
  for (const message of messages) {
    const parts: unknown = message?.parts ?? NO_PARTS;
    // A `parts` that is no array counts as one part, as flattening the messages' parts would take it.
    if (Array.isArray(parts)) for (const part of parts) text += textOfPart(part);
    else text += textOfPart(parts);
  }
  return text === '' ? null : policy.redactText(text);
}

const NO_PARTS: readonly unknown[] = [];

function textOfPart(part: unknown): string {
  const { type, content } = (part ?? {}) as { type?: unknown; content?: unknown };
  return type === 'text' && typeof content === 'string' ? content : '';
}

function toolCallsText(messages: GenAiMessage[] | undefined, payload: CallPayload | undefined, policy: ContentPolicy): string | null {
  if (payload) return payload.toolCallsJson === null ? null : maskedJson(payload.toolCallsJson, payload.policy, policy);
  // Recovered from the output messages of a span that has no payload.
  if (messages === undefined) return null;
  const [message] = fromGenAiMessages(messages);
  const calls = message?.tool_calls;
  return Array.isArray(calls) && calls.length > 0 ? safeStringify(calls, policy.replacer) : null;
}

/**
 * A cost given as decimal text is written as a JSON number with exactly those
 * digits (JSON numbers are arbitrary-precision text; the span only holds the
 * nearest float). The text was validated as a canonical decimal by the
 * instrumentation, so splicing it keeps the line valid JSON.
 */
function costUsd(a: Attributes, payload: CallPayload | undefined, context: RecordContext): unknown {
  const exact = payload?.costUsdText;
  if (typeof exact === 'string' && CANONICAL_DECIMAL.test(exact)) return context.slots.hold(exact);
  return a[A.MOA_COST_USD] ?? null;
}
const CANONICAL_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

/** JSONL convention: `input_tokens` is the UNCACHED part (spans carry the GenAI total). */
function recordUsage(a: Attributes): Record<string, number> {
  const cacheRead = num(a[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS], 0);
  // Either convention's name for cache writes (released `cache_creation`, newest `cache_write`).
  const cacheWrite = num(a[A.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] ?? a[A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS], 0);
  return {
    input_tokens: Math.max(0, num(a[A.GEN_AI_USAGE_INPUT_TOKENS], 0) - cacheRead - cacheWrite),
    output_tokens: num(a[A.GEN_AI_USAGE_OUTPUT_TOKENS], 0),
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    reasoning_tokens: num(a[A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS], 0),
  };
}

function messagesFromAttribute(value: unknown): unknown {
  const parsed = typeof value === 'string' ? tryParseJson(value) : undefined;
  return Array.isArray(parsed) ? fromGenAiMessages(parsed as GenAiMessage[]) : [];
}

/** A root that was never seen still has calls that name their conversation. */
function conversationOfCalls(calls: Iteration['calls']): string | null {
  for (const c of calls) {
    const id = str(attrs(c.span)[A.GEN_AI_CONVERSATION_ID]);
    if (id !== null) return id;
  }
  return null;
}

function firstFinishReason(a: Attributes): string | null {
  const reasons = a[A.GEN_AI_RESPONSE_FINISH_REASONS];
  return Array.isArray(reasons) && typeof reasons[0] === 'string' ? reasons[0] : null;
}

export function epochSeconds(t: HrTime): number {
  return t[0] + t[1] / 1e9;
}

function durationMs(span: FinishedSpan): number {
  return Math.round((span.duration[0] * 1e3 + span.duration[1] / 1e6) * 1000) / 1000;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
