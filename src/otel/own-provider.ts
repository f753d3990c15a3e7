/**
 * moa-otel's own tracer provider, for `setupMoaTracing()`.
 *
 * Why not an OpenTelemetry SDK: the package is a guest in apps that run
 * OpenTelemetry JS 2.x (api ≤ 1.9, Node 20) or 3.x (api 1.10, Node ≥ 22.15),
 * or none at all. Any SDK we depended on would either nest a second
 * OpenTelemetry stack into the app or refuse to install next to the other
 * line. What setup needs is small — spans that record, end and reach our own
 * processors — so it lives here, built on `@opentelemetry/api` alone, and is
 * never registered globally: the application's global slots stay its own.
 *
 * Always records (the MoA record is a product feature, not telemetry
 * sampling), but passes a parent's trace flags on: when the application's
 * sampler left the parent out, the spans say so, and OTLP export leaves them
 * out too (`otlp-sampling.ts`) while the JSONL file keeps the turn. A root
 * without a parent is sampled. It honours the SDK's "suppress tracing"
 * context flag as the SDK does (no span at all: that flag marks an exporter's
 * own requests), and never lets an end time fall before the start (the SDK
 * clamps the same way).
 */
import {
  context as otelContext, INVALID_SPAN_CONTEXT, isSpanContextValid, SpanKind, SpanStatusCode, trace, TraceFlags,
  type Attributes, type AttributeValue, type Context, type Exception, type HrTime, type Link, type Span,
  type SpanContext, type SpanOptions, type SpanStatus, type TimeInput, type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import { randomFillSync } from 'node:crypto';
import type { FinishedSpan, SpanEventData, SpanProcessorLike } from '../trace/span-data.js';

/** The context key OpenTelemetry SDKs use to suppress tracing (their own export requests, for instance). */
const SUPPRESS_TRACING = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

export interface OwnProviderOptions {
  resourceAttributes: Attributes;
  processors: readonly SpanProcessorLike[];
}

export class OwnTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, OwnTracer>();
  /** @internal what the tracers share: one object, read for every span (no copy made per span). */
  readonly shared: { readonly resource: { attributes: Attributes }; readonly processors: readonly SpanProcessorLike[]; readonly ids: IdSource; stopped: boolean };

  constructor(private readonly options: OwnProviderOptions) {
    this.shared = { resource: { attributes: { ...options.resourceAttributes } }, processors: options.processors, ids: new IdSource(), stopped: false };
  }

  getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const key = `${name}@${version ?? ''}`;
    let tracer = this.tracers.get(key);
    if (!tracer) {
      tracer = new OwnTracer({ name, version, schemaUrl: options?.schemaUrl }, this);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  /** Every processor is one of ours with nothing to flush. */
  get idle(): boolean {
    return this.options.processors.every((p) => p.idle === true);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.options.processors.map((p) => p.forceFlush().catch(() => undefined)));
  }

  async shutdown(): Promise<void> {
    if (this.shared.stopped) return;
    this.shared.stopped = true;
    await Promise.all(this.options.processors.map((p) => p.shutdown().catch(() => undefined)));
  }
}

type Scope = { name: string; version?: string | undefined; schemaUrl?: string | undefined };

class OwnTracer implements Tracer {
  constructor(private readonly scope: Scope, private readonly provider: OwnTracerProvider) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = otelContext.active()): Span {
    const shared = this.provider.shared;
    if (shared.stopped || ctx.getValue(SUPPRESS_TRACING) === true) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parent = options.root ? undefined : parentSpanContext(ctx);
    const spanContext: SpanContext = {
      traceId: parent?.traceId ?? shared.ids.traceId(),
      spanId: shared.ids.spanId(),
      traceFlags: parent ? parent.traceFlags : TraceFlags.SAMPLED,
    };
    if (parent?.traceState) spanContext.traceState = parent.traceState;
    const span = new OwnSpan({
      name, kind: options.kind ?? SpanKind.INTERNAL, spanContext, parentSpanContext: parent,
      startTime: toHrTime(options.startTime), links: options.links ? [...options.links] : [],
      resource: shared.resource, scope: this.scope, processors: shared.processors,
    });
    if (options.attributes) span.setAttributes(options.attributes);
    for (const processor of shared.processors) {
      try {
        processor.onStart(span, ctx);
      } catch {
        // A processor's failure never reaches the code that started the span.
      }
    }
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.pop() as F;
    const [options, ctx] = rest as [SpanOptions | undefined, Context | undefined];
    const parent = ctx ?? otelContext.active();
    const span = this.startSpan(name, options, parent);
    return otelContext.with(trace.setSpan(parent, span), () => fn(span) as ReturnType<F>);
  }
}

/**
 * The valid span context of the span in `ctx`, if any. One of our own spans
 * has a valid context by construction (its ids come from `IdSource`): only
 * another provider's is checked (two regular expressions, for every span).
 */
function parentSpanContext(ctx: Context): SpanContext | undefined {
  const span = trace.getSpan(ctx);
  if (span === undefined) return undefined;
  if (span instanceof OwnSpan) return span.spanContext();
  const context = span.spanContext();
  return isSpanContextValid(context) ? context : undefined;
}

interface OwnSpanInit {
  name: string;
  kind: SpanKind;
  spanContext: SpanContext;
  parentSpanContext: SpanContext | undefined;
  startTime: HrTime;
  links: Link[];
  resource: { attributes: Attributes };
  scope: Scope;
  processors: readonly SpanProcessorLike[];
}

/** A span that records until it ends, then is handed to the processors as it is (it is its own ReadableSpan). */
class OwnSpan implements Span, FinishedSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [0, 0];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly attributes: Attributes = {};
  readonly links: Link[];
  readonly events: SpanEventData[] = [];
  ended = false;
  readonly resource: { attributes: Attributes };
  readonly instrumentationScope: Scope;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly context: SpanContext;
  private readonly processors: readonly SpanProcessorLike[];

  constructor(init: OwnSpanInit) {
    this.name = init.name;
    this.kind = init.kind;
    this.context = init.spanContext;
    this.parentSpanContext = init.parentSpanContext;
    this.startTime = init.startTime;
    this.links = init.links;
    this.resource = init.resource;
    this.instrumentationScope = init.scope;
    this.processors = init.processors;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (!this.ended && key !== '' && isAttributeValue(value)) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    // for-in, not Object.entries: no array of pairs per call (a turn sets attributes a dozen times).
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      const value = attributes[key];
      if (value !== undefined) this.setAttribute(key, value);
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const isTime = Array.isArray(attributesOrTime) || typeof attributesOrTime === 'number' || attributesOrTime instanceof Date;
    const attributes = !isTime && attributesOrTime ? validAttributes(attributesOrTime as Attributes) : {};
    this.events.push({ name, attributes, time: toHrTime(isTime ? attributesOrTime as TimeInput : time), droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (!this.ended) this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (!this.ended && status.code !== SpanStatusCode.UNSET) this.status = { ...status };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    const end = toHrTime(endTime);
    this.endTime = hrLater(end, this.startTime);
    this.duration = hrDiff(this.endTime, this.startTime);
    this.ended = true;
    for (const processor of this.processors) {
      try {
        processor.onEnd(this);
      } catch {
        // A processor's failure never reaches the code that ended the span.
      }
    }
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception) {
      const type = exception.name ?? (exception.code !== undefined ? String(exception.code) : undefined);
      if (type) attributes['exception.type'] = type;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    this.addEvent('exception', attributes, time);
  }
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** The two hex digits of each byte value, as character codes: byte `b` at `2b` and `2b + 1`. */
const HEX_CODES = (() => {
  const codes = new Uint16Array(512);
  for (let b = 0; b < 256; b++) {
    const digits = b.toString(16).padStart(2, '0');
    codes[2 * b] = digits.charCodeAt(0);
    codes[2 * b + 1] = digits.charCodeAt(1);
  }
  return codes;
})();

/**
 * Random ids from a pooled buffer: one syscall per 256 spans, not one per id.
 * Each id is its own hex text: a slice of one hex text of the whole pool
 * would cost less, but every id an application keeps would keep that whole
 * text alive. The text is made by `String.fromCharCode` from a table, not by
 * `Buffer#toString('hex')`: a call into the runtime per id cost 2.5 times as
 * much (a turn makes five span ids).
 */
class IdSource {
  private readonly pool = Buffer.alloc(4096);
  private offset = this.pool.length;

  traceId(): string {
    for (;;) {
      const at = this.take(16);
      // One per turn: the runtime's hex (two halves joined would be a string of two parts, not one).
      const id = this.pool.toString('hex', at, at + 16);
      if (id !== ZERO_TRACE_ID) return id; // all-zero ids are invalid
    }
  }

  spanId(): string {
    for (;;) {
      const id = hexOf8(this.pool, this.take(8));
      if (id !== ZERO_SPAN_ID) return id;
    }
  }

  /** Where the next `bytes` random bytes are in the pool. */
  private take(bytes: number): number {
    if (this.offset + bytes > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset += bytes;
    return at;
  }
}

/** Eight bytes from `at` as 16 hex digits (one flat string). */
function hexOf8(pool: Buffer, at: number): string {
  const c = HEX_CODES;
  const b0 = 2 * (pool[at] as number);
  const b1 = 2 * (pool[at + 1] as number);
  const b2 = 2 * (pool[at + 2] as number);
  const b3 = 2 * (pool[at + 3] as number);
  const b4 = 2 * (pool[at + 4] as number);
  const b5 = 2 * (pool[at + 5] as number);
  const b6 = 2 * (pool[at + 6] as number);
  const b7 = 2 * (pool[at + 7] as number);
  return String.fromCharCode(
    c[b0] as number, c[b0 + 1] as number, c[b1] as number, c[b1 + 1] as number, c[b2] as number, c[b2 + 1] as number, c[b3] as number, c[b3 + 1] as number,
    c[b4] as number, c[b4 + 1] as number, c[b5] as number, c[b5 + 1] as number, c[b6] as number, c[b6 + 1] as number, c[b7] as number, c[b7 + 1] as number,
  );
}

function isAttributeValue(value: unknown): value is AttributeValue {
  if (value === null || value === undefined) return false;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return true;
  if (!Array.isArray(value)) return false;
  let kind: string | undefined;
  for (const item of value) {
    if (item === null || item === undefined) continue;
    const k = typeof item;
    if (k !== 'string' && k !== 'number' && k !== 'boolean') return false;
    if (kind === undefined) kind = k;
    else if (kind !== k) return false;
  }
  return true;
}

function validAttributes(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (isAttributeValue(value)) out[key] = value;
  return out;
}

/** Read once: it never changes, and reading it costs more than the clock itself. */
const TIME_ORIGIN = performance.timeOrigin;

/** Now, or the given time, as [seconds, nanoseconds] since the epoch. */
export function toHrTime(time?: TimeInput): HrTime {
  if (Array.isArray(time)) return [time[0], time[1]];
  let ms: number;
  if (time instanceof Date) ms = time.getTime();
  else if (typeof time === 'number') ms = time < TIME_ORIGIN ? TIME_ORIGIN + time : time;
  else ms = TIME_ORIGIN + performance.now();
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

function hrDiff(end: HrTime, start: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return [seconds, nanos];
}

/** An end time never before the start (clock adjustments, a caller's odd endTime). */
function hrLater(end: HrTime, start: HrTime): HrTime {
  return end[0] < start[0] || (end[0] === start[0] && end[1] < start[1]) ? start : end;
}
