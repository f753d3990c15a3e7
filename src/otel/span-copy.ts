/**
 * Building finished spans without an SDK: the offline replay makes them from
 * records, and the size guard exports changed copies (the SDK hands the same
 * span object to every processor, so a span is never mutated). Both go
 * through `finishedSpan`, so a hand-made span always has every field an
 * exporter reads.
 */
import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { FinishedSpan, SpanEventData } from '../trace/span-data.js';

export interface FinishedSpanParts {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parent?: SpanContext | undefined;
  startTime: HrTime;
  endTime: HrTime;
  /** Defaults to endTime − startTime. */
  duration?: HrTime;
  status: SpanStatus;
  attributes: Attributes;
  links?: Link[];
  events?: SpanEventData[];
  resource: FinishedSpan['resource'];
  instrumentationScope: FinishedSpan['instrumentationScope'];
  droppedAttributesCount?: number;
  droppedEventsCount?: number;
  droppedLinksCount?: number;
}

const NANOS_PER_SECOND = 1_000_000_000;

function hrDifference(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += NANOS_PER_SECOND;
  }
  return [seconds, nanos];
}

export function finishedSpan(parts: FinishedSpanParts): FinishedSpan {
  const context = parts.context;
  return {
    name: parts.name,
    kind: parts.kind,
    spanContext: () => context,
    ...(parts.parent ? { parentSpanContext: parts.parent } : {}),
    startTime: parts.startTime,
    endTime: parts.endTime,
    duration: parts.duration ?? hrDifference(parts.startTime, parts.endTime),
    status: parts.status,
    attributes: parts.attributes,
    links: parts.links ?? [],
    events: parts.events ?? [],
    ended: true,
    resource: parts.resource,
    instrumentationScope: parts.instrumentationScope,
    droppedAttributesCount: parts.droppedAttributesCount ?? 0,
    droppedEventsCount: parts.droppedEventsCount ?? 0,
    droppedLinksCount: parts.droppedLinksCount ?? 0,
  };
}

/** A copy of `span` that differs only in its attributes; the original stays untouched. */
export function withAttributes(span: FinishedSpan, attributes: Attributes): FinishedSpan {
  return finishedSpan({
    name: span.name,
    kind: span.kind,
    // The SDK's spanContext() reads private state: call it on the original, as a method.
    context: span.spanContext(),
    parent: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    status: span.status,
    attributes,
    links: span.links,
    events: span.events,
    // The same resource object: encoders group spans by resource identity.
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  });
}
