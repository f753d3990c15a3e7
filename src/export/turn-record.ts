/**
 * Builds one JSONL record from the spans of one MoA iteration (DESIGN §3).
 * Keys of the original format come first and in order; our extensions follow.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { fromGenAiMessages, type GenAiMessage } from '../content/genai.js';
import { safeStringify, tryParseJson } from '../content/safe-json.js';
import * as A from '../trace/attributes.js';
import { outputLocation } from '../trace/call-attributes.js';
import { payloadOf, type CallPayload } from '../trace/payloads.js';
import type { RawSlots } from './json-line.js';
import { failedOutput } from '../record/schema.js';

export function isMoaRoot(span: ReadableSpan): boolean {
  const a = span.attributes;
  return a[A.GEN_AI_OPERATION_NAME] === A.OPERATION_INVOKE_WORKFLOW && a[A.GEN_AI_WORKFLOW_NAME] === A.WORKFLOW_MOA;
}

export function isMoaCall(span: ReadableSpan): boolean {
  const role = span.attributes[A.MOA_ROLE];
  return role === A.ROLE_REFERENCE || role === A.ROLE_AGGREGATOR;
}

/**
 * The record, with pre-serialized message arrays held in `slots` (placeholders
 * in the record, spliced back by `serializeLine`).
 */
export function buildTurnRecord(root: ReadableSpan, calls: readonly ReadableSpan[], slots: RawSlots, now = Date.now()): Record<string, unknown> {
  const a = root.attributes;
  const references = calls
    .filter((s) => s.attributes[A.MOA_ROLE] === A.ROLE_REFERENCE)
    .sort((x, y) => num(x.attributes[A.MOA_REFERENCE_INDEX], 0) - num(y.attributes[A.MOA_REFERENCE_INDEX], 0));
  // Several aggregator spans in one iteration would be a caller bug; the last one answered.
  const aggregatorSpan = calls.filter((s) => s.attributes[A.MOA_ROLE] === A.ROLE_AGGREGATOR).at(-1);
  const record: Record<string, unknown> = {
    ts: now / 1000,
    session_id: str(a[A.MOA_SESSION_ID]),
    preset: str(a[A.MOA_PRESET]) ?? '',
    references: references.map((span) => referenceEntry(span, slots)),
    aggregator: aggregatorSpan ? aggregatorEntry(aggregatorSpan, slots) : MISSING_AGGREGATOR,
    trace_id: root.spanContext().traceId,
    span_id: root.spanContext().spanId,
    started_at: epochSeconds(root.startTime),
    duration_ms: durationMs(root),
    cache: str(a[A.MOA_CACHE]) ?? 'miss',
  };
  if (a[A.MOA_FANOUT] !== undefined) record.fanout = str(a[A.MOA_FANOUT]);
  if (a[A.MOA_ITERATION] !== undefined) record.iteration = num(a[A.MOA_ITERATION], 0);
  return record;
}

/** An iteration whose aggregator never started still gets a valid, honest line. */
const MISSING_AGGREGATOR = Object.freeze({
  label: '', model: null, provider: null, temperature: null, input_messages: [], output: null,
  streamed: false, output_location: 'inline', error: 'aggregator was not called',
});

function referenceEntry(span: ReadableSpan, slots: RawSlots): Record<string, unknown> {
  const a = span.attributes;
  const payload = payloadOf(span);
  // Literal objects in key order (no spreads): this runs for every call of every turn.
  return {
    label: label(a, payload),
    model: str(a[A.GEN_AI_REQUEST_MODEL]),
    provider: provider(a, payload),
    temperature: temperature(a),
    input_messages: inputMessages(a, payload, slots),
    output: callOutput(span, payload),
    usage: recordUsage(a),
    cost_usd: a[A.MOA_COST_USD] ?? null,
    cost_status: str(a[A.MOA_COST_STATUS]),
    cost_source: str(a[A.MOA_COST_SOURCE]),
    started_at: epochSeconds(span.startTime),
    ended_at: epochSeconds(span.endTime),
    duration_ms: durationMs(span),
    span_id: span.spanContext().spanId,
    error: callError(span, payload),
  };
}

function aggregatorEntry(span: ReadableSpan, slots: RawSlots): Record<string, unknown> {
  const a = span.attributes;
  const payload = payloadOf(span);
  const streamed = a[A.MOA_AGGREGATOR_STREAMED] === true || a[A.GEN_AI_REQUEST_STREAM] === true;
  const failed = span.status.code === SpanStatusCode.ERROR;
  // A failed aggregator has no answer in the record: "[failed: …]" is a reference convention.
  const output = failed ? null : callOutput(span, payload);
  const toolCalls = payload ? payload.toolCallsJson : toolCallsFromAttribute(a);
  return {
    label: label(a, payload),
    model: str(a[A.GEN_AI_REQUEST_MODEL]),
    provider: provider(a, payload),
    temperature: temperature(a),
    input_messages: inputMessages(a, payload, slots),
    output,
    streamed,
    output_location: str(a[A.MOA_AGGREGATOR_OUTPUT_LOCATION]) ?? outputLocation(streamed, output),
    usage: recordUsage(a),
    cost_usd: a[A.MOA_COST_USD] ?? null,
    cost_status: str(a[A.MOA_COST_STATUS]),
    cost_source: str(a[A.MOA_COST_SOURCE]),
    tool_calls: toolCalls === null ? null : slots.hold(toolCalls),
    finish_reason: payload ? payload.finishReason : firstFinishReason(a),
    started_at: epochSeconds(span.startTime),
    ended_at: epochSeconds(span.endTime),
    duration_ms: durationMs(span),
    span_id: span.spanContext().spanId,
    error: callError(span, payload),
  };
}

function label(a: Attributes, payload: CallPayload | undefined): string {
  return str(a[A.MOA_LABEL]) ?? `${provider(a, payload) ?? ''}:${str(a[A.GEN_AI_REQUEST_MODEL]) ?? ''}`;
}

function provider(a: Attributes, payload: CallPayload | undefined): string | null {
  return payload?.provider ?? str(a[A.GEN_AI_PROVIDER_NAME]);
}

function temperature(a: Attributes): number | null {
  const t = a[A.GEN_AI_REQUEST_TEMPERATURE];
  return typeof t === 'number' ? t : null;
}

function inputMessages(a: Attributes, payload: CallPayload | undefined, slots: RawSlots): unknown {
  return payload ? slots.hold(payload.inputMessagesJson) : messagesFromAttribute(a[A.GEN_AI_INPUT_MESSAGES]);
}

function callError(span: ReadableSpan, payload: CallPayload | undefined): string | null {
  return payload?.error ?? (span.status.code === SpanStatusCode.ERROR ? span.status.message ?? 'error' : null);
}

function callOutput(span: ReadableSpan, payload: CallPayload | undefined): string | null {
  if (payload) return payload.output;
  if (span.status.code === SpanStatusCode.ERROR) return failedOutput(span.status.message ?? 'error');
  const messages = tryParseJson(String(span.attributes[A.GEN_AI_OUTPUT_MESSAGES] ?? ''));
  if (!Array.isArray(messages)) return null;
  const text = (messages as GenAiMessage[])
    .flatMap((m) => m.parts ?? [])
    .filter((p) => p.type === 'text' && typeof p.content === 'string')
    .map((p) => p.content as string)
    .join('');
  return text === '' ? null : text;
}

/** JSONL convention: `input_tokens` is the UNCACHED part (spans carry the GenAI total). */
function recordUsage(a: Attributes): Record<string, number> {
  const cacheRead = num(a[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS], 0);
  const cacheWrite = num(a[A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS], 0);
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

/** Tool calls as JSON text, recovered from the output messages of a span that has no payload. */
function toolCallsFromAttribute(a: Attributes): string | null {
  const parsed = tryParseJson(String(a[A.GEN_AI_OUTPUT_MESSAGES] ?? ''));
  if (!Array.isArray(parsed)) return null;
  const [message] = fromGenAiMessages(parsed as GenAiMessage[]);
  const calls = message?.tool_calls;
  return Array.isArray(calls) && calls.length > 0 ? safeStringify(calls) : null;
}

function firstFinishReason(a: Attributes): string | null {
  const reasons = a[A.GEN_AI_RESPONSE_FINISH_REASONS];
  return Array.isArray(reasons) && typeof reasons[0] === 'string' ? reasons[0] : null;
}

export function epochSeconds(t: HrTime): number {
  return t[0] + t[1] / 1e9;
}

function durationMs(span: ReadableSpan): number {
  return Math.round((span.duration[0] * 1e3 + span.duration[1] / 1e6) * 1000) / 1000;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
