/**
 * Replays one JSONL record as the span tree the live instrumentation would
 * have produced (docs/ARCHITECTURE.md, "Span tree"): an INTERNAL root
 * `invoke_workflow moa`, one CLIENT span per reference and one for the
 * aggregator (linked to the references). Names and attributes come from the same pure helpers the live
 * path uses, so a replayed trace and a live one look alike in a backend.
 */
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Link, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import { finishedSpan } from '../otel/span-copy.js';
import type { AggregatorRecord, ReferenceRecord, TurnRecord } from '../record/schema.js';
import * as A from '../trace/attributes.js';
import {
  answerText,
  AGGREGATOR_FAILED_STATUS, callEndAttributes, callSpanName, callStartAttributes, inputMessagesAttribute, referenceFailureEvents,
  referenceLink, referenceOutcomesAttributes, rootEndAttributes, rootSpanName, rootStartAttributes, type ReferenceState,
} from '../trace/call-attributes.js';
import { CAPTURE_ALL } from '../trace/content-policy.js';
import { turnQuestion } from '../content/genai.js';
import { firstLine } from '../base/errors.js';
import type { FinishedSpan, SpanEventData } from '../trace/span-data.js';
import type { Cost, CostStatus } from '../trace/types.js';
import { derivedId, recordFingerprint, validSpanId, validTraceId } from './replay-ids.js';
import { toHrTime, turnTimes, type Interval } from './replay-times.js';
import { summarizeTurn, type CallSummary } from './summary.js';

export interface ReplayContext {
  resource: FinishedSpan['resource'];
  scope: FinishedSpan['instrumentationScope'];
}

/** Replay is an exact copy of what was recorded: the file already holds whatever redaction applied. */
const AS_RECORDED = CAPTURE_ALL;
const COST_STATUSES: ReadonlySet<string> = new Set<CostStatus>(['actual', 'estimated', 'included', 'unknown']);
/** The record keeps a failure's reason but not its exception class. */
const UNKNOWN_ERROR_TYPE = '_OTHER';
const SYNTHETIC_TIMING = 'synthetic';

/** The user's question of a recorded turn, found as the live instrumentation finds it. */
function recordedQuestion(record: TurnRecord): string | null {
  const aggregatorInput = record.aggregator.model === null && record.aggregator.input_messages.length === 0 ? undefined : record.aggregator.input_messages;
  return turnQuestion(aggregatorInput, record.references[0]?.input_messages, record.references.length > 0) ?? null;
}

export function replayRecord(record: TurnRecord, context: ReplayContext): FinishedSpan[] {
  // Hash the record (possibly megabytes) only when an id has to be derived: our own records carry them all.
  let fingerprint: string | undefined;
  const fingerprintOf = () => (fingerprint ??= recordFingerprint(JSON.stringify(record)));
  const traceId = validTraceId(record.trace_id) ? record.trace_id : derivedId(32, 'moa-otel replay trace', fingerprintOf());
  const spanIdFor = (own: unknown, ...path: string[]) => (validSpanId(own) ? own : derivedId(16, 'moa-otel replay span', traceId, fingerprintOf(), ...path));
  const rootContext = spanContext(traceId, spanIdFor(record.span_id, 'root'));
  const times = turnTimes(record);
  const summary = summarizeTurn(record);
  // summarizeTurn lists the references in order, then the aggregator.
  const aggregatorCall = summary.calls[summary.calls.length - 1] as CallSummary;

  const references = summary.calls.slice(0, -1).map((call, index) => callSpan(
    call, spanContext(traceId, spanIdFor(call.call.span_id, 'reference', String(index))), rootContext,
    times.references[index] as Interval, [], context, record.session_id, times.synthetic.references[index] === true,
  ));
  const referenceStates: ReferenceState[] = references.map((span, index) => {
    const call = summary.calls[index];
    return {
      context: span.spanContext(), index, state: call?.failed ? 'failed' : 'ok',
      ...(call ? { label: call.label } : {}),
      // The record keeps a failure's reason, not its type.
      ...(call?.failed ? { errorType: UNKNOWN_ERROR_TYPE } : {}),
    };
  });
  const aggregator = callSpan(
    aggregatorCall, spanContext(traceId, spanIdFor(aggregatorCall.call.span_id, 'aggregator')), rootContext, times.aggregator,
    // As live: each link says which reference it is and how it went; the outcomes again where Jaeger shows them.
    referenceStates.map(referenceLink),
    context, record.session_id, times.synthetic.aggregator,
    {
      attributes: referenceOutcomesAttributes(referenceStates),
      events: referenceFailureEvents(referenceStates).map((event) => ({ ...event, time: toHrTime(times.aggregator.start) })),
    },
  );
  const answered = summary.calls.filter((call) => !call.failed);
  const unpricedCalls = answered.filter((call) => costOf(call.call)?.usd == null).length;

  const question = recordedQuestion(record);
  const rootAttributes: Attributes = {
    ...rootStartAttributes({
      sessionId: record.session_id, preset: record.preset, fanout: record.fanout, cache: record.cache, iteration: record.iteration,
    }, AS_RECORDED),
    ...rootEndAttributes({
      referenceCount: summary.referenceCount, referenceFailed: summary.referenceFailed, usage: summary.tokens,
      costUsd: summary.cost.count === 0 ? null : summary.cost.toNumber(),
      ...(answered.length > 0 ? { unpricedCalls } : {}),
      input: question,
      output: aggregatorCall.failed ? null : answerText(aggregatorCall.output, Array.isArray(record.aggregator.tool_calls) ? record.aggregator.tool_calls : null),
    }, AS_RECORDED),
  };
  // As live: a failed reference leaves the turn OK, a failed aggregator fails the turn.
  if (aggregatorCall.failed) rootAttributes[A.ERROR_TYPE] = UNKNOWN_ERROR_TYPE;
  // A record without timings (the original feature's) gets placeholder times: say so, so nobody reads them as latency.
  if (times.synthetic.root) rootAttributes[A.MOA_TIMING] = SYNTHETIC_TIMING;
  const root = readableSpan({
    name: rootSpanName(record.preset, question, AS_RECORDED), kind: SpanKind.INTERNAL, context: rootContext, interval: times.root,
    attributes: rootAttributes, links: [], events: [],
    status: aggregatorCall.failed ? { code: SpanStatusCode.ERROR, message: AGGREGATOR_FAILED_STATUS } : { code: SpanStatusCode.UNSET },
  }, context);
  return [root, ...references, aggregator];
}

function callSpan(
  call: CallSummary, ctx: SpanContext, parent: SpanContext, interval: Interval, links: Link[], context: ReplayContext,
  sessionId: string | null, syntheticTiming: boolean, extra: { attributes?: Attributes; events?: SpanEventData[] } = {},
): FinishedSpan {
  const agg = call.role === 'aggregator' ? call.call : undefined;
  const model = call.model ?? call.label;
  const attributes: Attributes = callStartAttributes({
    role: call.role, label: call.label, model, provider: call.provider ?? 'unknown', temperature: call.call.temperature ?? null,
    ...(call.role === 'reference' ? { index: call.index } : {}), stream: agg?.streamed ?? false,
    conversationId: sessionId,
  }, { inputMessages: inputMessagesAttribute(call.call.input_messages, AS_RECORDED) });
  const aggregatorFacts = agg ? { streamed: agg.streamed, outputLocation: agg.output_location } : {};
  if (syntheticTiming) attributes[A.MOA_TIMING] = SYNTHETIC_TIMING;
  Object.assign(attributes, extra.attributes);

  const failure = call.failed ? call.error ?? 'failed' : null;
  if (failure === null) {
    Object.assign(attributes, callEndAttributes({
      output: call.output, toolCalls: Array.isArray(agg?.tool_calls) ? agg.tool_calls : null, finishReason: agg?.finish_reason ?? null,
      usage: call.tokens, cost: costOf(call.call), ...aggregatorFacts,
    }, AS_RECORDED));
  } else {
    // What the live fail() sets.
    Object.assign(attributes, { [A.ERROR_TYPE]: UNKNOWN_ERROR_TYPE }, callEndAttributes(aggregatorFacts, AS_RECORDED));
  }
  const events: SpanEventData[] = [...(extra.events ?? [])];
  if (failure !== null) events.push({
    name: 'exception',
    time: toHrTime(interval.end),
    attributes: { 'exception.type': UNKNOWN_ERROR_TYPE, 'exception.message': failure },
  });
  return readableSpan({
    name: callSpanName(model), kind: SpanKind.CLIENT, context: ctx, parent, interval, attributes, links, events,
    status: failure === null ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: firstLine(failure) },
  }, context);
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
  events: SpanEventData[];
  status: SpanStatus;
}

function readableSpan(parts: SpanParts, context: ReplayContext): FinishedSpan {
  return finishedSpan({
    name: parts.name,
    kind: parts.kind,
    context: parts.context,
    parent: parts.parent,
    startTime: toHrTime(parts.interval.start),
    endTime: toHrTime(parts.interval.end),
    status: parts.status,
    attributes: parts.attributes,
    links: parts.links,
    events: parts.events,
    resource: context.resource,
    instrumentationScope: context.scope,
  });
}
