/**
 * Replays one JSONL record as the span tree the live instrumentation would
 * have produced (DESIGN §2): an INTERNAL root `invoke_workflow moa`, one
 * CLIENT span per reference and one for the aggregator (linked to the
 * references). Names and attributes come from the same pure helpers the live
 * path uses, so a replayed trace and a live one look alike in a backend.
 */
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Link, type SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { AggregatorRecord, ReferenceRecord, TurnRecord } from '../export/record.js';
import * as A from '../trace/attributes.js';
import {
  callEndAttributes, callSpanName, callStartAttributes, inputMessagesAttribute, sanitizeUsage, outputLocation,
  rootEndAttributes, rootStartAttributes, type CallRole,
} from '../trace/call-attributes.js';
import { contentPolicyFor } from '../trace/content-policy.js';
import type { Cost, CostStatus, Usage } from '../trace/types.js';
import { derivedId, recordFingerprint, validSpanId, validTraceId } from './replay-ids.js';
import { hrDuration, toHrTime, turnTimes, type Interval } from './replay-times.js';
import { failureReason, isFailedCall, summarizeTurn } from './summary.js';

export interface ReplayContext {
  resource: Resource;
  scope: InstrumentationScope;
}

/** Replay is an exact copy of what was recorded: the file already holds whatever redaction applied. */
const AS_RECORDED = contentPolicyFor(false);
const COST_STATUSES: ReadonlySet<string> = new Set<CostStatus>(['actual', 'estimated', 'included', 'unknown']);

export function replayRecord(record: TurnRecord, context: ReplayContext): ReadableSpan[] {
  const fingerprint = recordFingerprint(JSON.stringify(record));
  const traceId = validTraceId(record.trace_id) ? record.trace_id : derivedId(32, 'moa-otel replay trace', fingerprint);
  const spanIdFor = (own: unknown, ...path: string[]) => (validSpanId(own) ? own : derivedId(16, 'moa-otel replay span', traceId, fingerprint, ...path));
  const rootContext = spanContext(traceId, spanIdFor(record.span_id, 'root'));
  const times = turnTimes(record);
  const summary = summarizeTurn(record);

  const references = record.references.map((ref, index) => {
    const ctx = spanContext(traceId, spanIdFor(ref.span_id, 'reference', String(index)));
    return callSpan(A.ROLE_REFERENCE, ref, index, ctx, rootContext, times.references[index] as Interval, [], context);
  });
  const aggregator = callSpan(
    A.ROLE_AGGREGATOR, record.aggregator, undefined,
    spanContext(traceId, spanIdFor(record.aggregator.span_id, 'aggregator')), rootContext, times.aggregator,
    references.map((span) => ({ context: span.spanContext() })), context,
  );

  const usage: Usage = {
    inputTokens: summary.tokens.input, outputTokens: summary.tokens.output, cacheReadTokens: summary.tokens.cacheRead,
    cacheWriteTokens: summary.tokens.cacheWrite, reasoningTokens: summary.tokens.reasoning,
  };
  const rootAttributes: Attributes = {
    ...rootStartAttributes({
      sessionId: record.session_id, preset: record.preset, fanout: record.fanout, cache: record.cache, iteration: record.iteration,
    }),
    ...rootEndAttributes({
      referenceCount: summary.referenceCount, referenceFailed: summary.referenceFailed, usage,
      costUsd: summary.costUsd === null ? null : Number(summary.costUsd),
    }),
  };
  const root = readableSpan({
    name: A.ROOT_SPAN_NAME, kind: SpanKind.INTERNAL, context: rootContext, interval: times.root,
    attributes: rootAttributes, links: [], events: [], status: { code: SpanStatusCode.UNSET },
  }, context);
  return [root, ...references, aggregator];
}

function callSpan(
  role: CallRole, call: ReferenceRecord | AggregatorRecord, index: number | undefined, ctx: SpanContext, parent: SpanContext,
  interval: Interval, links: Link[], context: ReplayContext,
): ReadableSpan {
  const agg = role === A.ROLE_AGGREGATOR ? (call as AggregatorRecord) : undefined;
  const model = call.model ?? call.label;
  const attributes: Attributes = callStartAttributes({
    role, label: call.label, model, provider: call.provider ?? 'unknown', temperature: call.temperature ?? null,
    ...(index !== undefined ? { index } : {}), stream: agg?.streamed ?? false,
  }, inputMessagesAttribute(call.input_messages, AS_RECORDED));

  const failure = failureOf(call);
  if (failure === null) {
    const toolCalls = Array.isArray(agg?.tool_calls) ? agg.tool_calls : null;
    Object.assign(attributes, callEndAttributes({
      output: call.output, toolCalls, finishReason: agg?.finish_reason ?? null,
      usage: call.usage ? usageOf(call.usage) : null,
      cost: costOf(call),
      ...(agg ? { streamed: agg.streamed, outputLocation: agg.output_location ?? outputLocation(agg.streamed, agg.output) } : {}),
    }, AS_RECORDED));
  } else {
    attributes[A.ERROR_TYPE] = '_OTHER';
    if (agg) {
      attributes[A.MOA_AGGREGATOR_STREAMED] = agg.streamed;
      attributes[A.MOA_AGGREGATOR_OUTPUT_LOCATION] = agg.output_location;
    }
  }
  const events: TimedEvent[] = failure === null ? [] : [{
    name: 'exception',
    time: toHrTime(interval.end),
    attributes: { 'exception.type': '_OTHER', 'exception.message': failure },
  }];
  return readableSpan({
    name: callSpanName(model), kind: SpanKind.CLIENT, context: ctx, parent, interval, attributes, links, events,
    status: failure === null ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: failure },
  }, context);
}

/** The failure reason of a call, or null when it did not fail. */
function failureOf(call: ReferenceRecord | AggregatorRecord): string | null {
  return isFailedCall(call) ? failureReason(call) : null;
}

function usageOf(usage: NonNullable<ReferenceRecord['usage']>): Usage {
  return sanitizeUsage({
    inputTokens: usage.input_tokens ?? 0, outputTokens: usage.output_tokens ?? 0, cacheReadTokens: usage.cache_read_tokens ?? 0,
    cacheWriteTokens: usage.cache_write_tokens ?? 0, reasoningTokens: usage.reasoning_tokens ?? 0,
  });
}

function costOf(call: ReferenceRecord | AggregatorRecord): Cost | null {
  const usd = call.cost_usd ?? null;
  const status = call.cost_status ?? null;
  if (usd === null && status === null) return null;
  return {
    usd,
    status: status !== null && COST_STATUSES.has(status) ? (status as CostStatus) : 'unknown',
    source: call.cost_source ?? null,
  };
}

function spanContext(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
}

interface SpanParts {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parent?: SpanContext;
  interval: Interval;
  attributes: Attributes;
  links: Link[];
  events: TimedEvent[];
  status: ReadableSpan['status'];
}

function readableSpan(parts: SpanParts, context: ReplayContext): ReadableSpan {
  const startTime = toHrTime(parts.interval.start);
  const endTime = toHrTime(parts.interval.end);
  return {
    name: parts.name,
    kind: parts.kind,
    spanContext: () => parts.context,
    ...(parts.parent ? { parentSpanContext: parts.parent } : {}),
    startTime,
    endTime,
    duration: hrDuration(startTime, endTime),
    status: parts.status,
    attributes: parts.attributes,
    links: parts.links,
    events: parts.events,
    ended: true,
    resource: context.resource,
    instrumentationScope: context.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
