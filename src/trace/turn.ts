/**
 * The MoA instrumentation: one root span per iteration, one CLIENT span per
 * reference and one for the aggregator (DESIGN §2, §5).
 *
 * Nothing here throws into the caller: every public method is guarded and
 * reports problems once through the OpenTelemetry diagnostic logger. When the
 * root span is not recording (tracing off or sampled out) the turn is a shared
 * no-op object and no content is ever serialized.
 */
import {
  context as otelContext, diag, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Context, type Link, type Span, type SpanContext, type Tracer,
} from '@opentelemetry/api';
import { safeStringify } from '../content/safe-json.js';
import { redactText } from '../content/redact.js';
import * as A from './attributes.js';
import {
  AGGREGATOR_FAILED_STATUS, callEndAttributes, callSpanName, callStartAttributes, costNumber, defaultLabel,
  inputMessagesAttribute, outputLocation, rootEndAttributes, rootStartAttributes,
  type CallRole,
} from './call-attributes.js';
import { contentPolicyOf, type ContentPolicy } from './content-policy.js';
import { attachPayload, type CallPayload } from './payloads.js';
import { failedOutput } from '../record/schema.js';
import { addUsage, sanitizeUsage, ZERO_USAGE } from '../record/usage.js';
import type {
  AggregatorCall, AggregatorEnd, AggregatorStart, CallEnd, CallStart, MoaTurn, ReferenceCall, ReferenceStart,
  TurnOptions, Usage,
} from './types.js';
import { PACKAGE_VERSION } from '../base/version.js';

export function startMoaTurn(options: TurnOptions): MoaTurn {
  try {
    const tracer = options.tracer ?? trace.getTracer(A.INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
    const root = tracer.startSpan(A.ROOT_SPAN_NAME, {
      kind: SpanKind.INTERNAL,
      attributes: rootStartAttributes({
        sessionId: options.sessionId ?? null,
        preset: options.preset,
        fanout: options.fanout,
        cache: options.cache,
        iteration: options.iteration,
      }),
    });
    if (!root.isRecording()) {
      root.end();
      return noopTurn(root.spanContext());
    }
    return new RecordingTurn(tracer, root, contentPolicyOf(tracer));
  } catch (err) {
    reportOnce('startMoaTurn', err);
    return noopTurn(INVALID_SPAN_CONTEXT);
  }
}

class RecordingTurn implements MoaTurn {
  readonly recording = true;
  readonly spanContext: SpanContext;
  private readonly parent: Context;
  private readonly referenceContexts: SpanContext[] = [];
  private openCalls = 0;
  private endRequested = false;
  private finished = false;
  private referenceFailed = 0;
  private usage: Usage = ZERO_USAGE;
  private costUsd: number | null = null;

  constructor(private readonly tracer: Tracer, private readonly root: Span, private readonly policy: ContentPolicy) {
    this.spanContext = root.spanContext();
    // Explicit parent: reference calls started inside Promise.all (or any
    // other async context) still hang under this root.
    this.parent = trace.setSpan(otelContext.active(), root);
  }

  startReference(start: ReferenceStart): ReferenceCall {
    return guarded('startReference', () => {
      const call = this.startCall(A.ROLE_REFERENCE, start, { index: start.index });
      this.referenceContexts.push(call.spanContext);
      return call;
    }, () => NOOP_CALL);
  }

  startAggregator(start: AggregatorStart): AggregatorCall {
    return guarded('startAggregator', () => this.startCall(A.ROLE_AGGREGATOR, start, { stream: start.stream ?? false }), () => NOOP_CALL);
  }

  end(): void {
    guarded('turn.end', () => {
      this.endRequested = true;
      this.maybeFinish();
    }, () => undefined);
  }

  private startCall(role: CallRole, start: CallStart, extra: { index?: number; stream?: boolean }): RecordingCall {
    const label = start.label ?? defaultLabel(start.provider, start.model);
    // A caller bug (no array) must not cost the call its span: record what was given.
    const messages: readonly unknown[] = Array.isArray(start.messages) ? start.messages : start.messages == null ? [] : [start.messages];
    const links: Link[] = role === A.ROLE_AGGREGATOR ? this.referenceContexts.map((context) => ({ context })) : [];
    const span = this.tracer.startSpan(callSpanName(start.model), {
      kind: SpanKind.CLIENT,
      links,
      attributes: callStartAttributes({
        role, label, model: start.model, provider: start.provider, genAiProvider: start.genAiProvider,
        temperature: start.temperature, index: extra.index, stream: extra.stream,
        serverAddress: start.serverAddress, serverPort: start.serverPort,
      }, this.policy.spanContent ? inputMessagesAttribute(messages, this.policy) : undefined),
    }, this.parent);
    const payload: CallPayload = {
      provider: start.provider,
      inputMessagesJson: safeStringify(messages, this.policy.replacer),
      output: null, error: null, toolCallsJson: null, finishReason: null,
    };
    attachPayload(span, payload);
    this.openCalls += 1;
    return new RecordingCall(span, role, extra.stream ?? false, payload, this.policy, (outcome) => this.callEnded(role, outcome));
  }

  private callEnded(role: CallRole, outcome: { failed: boolean; usage: Usage; costUsd: number | null; errorType?: string }): void {
    this.openCalls -= 1;
    if (outcome.failed && role === A.ROLE_REFERENCE) this.referenceFailed += 1;
    // References may fail and the turn goes on; without an aggregator answer the turn itself failed.
    if (outcome.failed && role === A.ROLE_AGGREGATOR) {
      this.root.setStatus({ code: SpanStatusCode.ERROR, message: AGGREGATOR_FAILED_STATUS });
      if (outcome.errorType) this.root.setAttribute(A.ERROR_TYPE, outcome.errorType);
    }
    this.usage = addUsage(this.usage, outcome.usage);
    if (outcome.costUsd !== null) this.costUsd = (this.costUsd ?? 0) + outcome.costUsd;
    this.maybeFinish();
  }

  /** The root ends once the caller said so and every call has ended (a stream may outlive turn.end()). */
  private maybeFinish(): void {
    if (this.finished || !this.endRequested || this.openCalls > 0) return;
    this.finished = true;
    this.root.setAttributes(rootEndAttributes({
      referenceCount: this.referenceContexts.length,
      referenceFailed: this.referenceFailed,
      usage: this.usage,
      costUsd: this.costUsd,
    }));
    this.root.end();
  }
}

class RecordingCall implements ReferenceCall, AggregatorCall {
  readonly spanContext: SpanContext;
  private done = false;
  private readonly startedAt = performance.now();
  private firstChunkAt: number | undefined;

  constructor(
    private readonly span: Span,
    private readonly role: CallRole,
    private readonly streamed: boolean,
    private readonly payload: CallPayload,
    private readonly policy: ContentPolicy,
    private readonly onEnded: (outcome: { failed: boolean; usage: Usage; costUsd: number | null; errorType?: string }) => void,
  ) {
    this.spanContext = span.spanContext();
  }

  firstChunk(): void {
    if (this.firstChunkAt === undefined) this.firstChunkAt = performance.now();
  }

  end(result: CallEnd | AggregatorEnd = {}): void {
    guarded('call.end', () => {
      if (this.done) return;
      this.done = true;
      const usage = sanitizeUsage(result.usage);
      const agg = result as AggregatorEnd;
      const output = typeof result.output === 'string' ? this.redact(result.output) : null;
      const toolCalls = agg.toolCalls && agg.toolCalls.length > 0 ? agg.toolCalls : null;
      const finishReason = agg.finishReason ?? result.response?.finishReasons?.[0] ?? null;
      this.payload.output = output;
      this.payload.toolCallsJson = toolCalls ? safeStringify(toolCalls, this.policy.replacer) : null;
      this.payload.finishReason = finishReason;
      const ttfc = result.response?.timeToFirstChunk
        ?? (this.firstChunkAt !== undefined ? (this.firstChunkAt - this.startedAt) / 1000 : null);
      this.span.setAttributes(callEndAttributes({
        output, toolCalls, finishReason, usage: result.usage ? usage : null, cost: result.cost ?? null,
        responseId: result.response?.id ?? null,
        responseModel: result.response?.model ?? null,
        finishReasons: result.response?.finishReasons,
        timeToFirstChunkSeconds: this.streamed ? ttfc : null,
        ...(this.role === A.ROLE_AGGREGATOR
          ? { streamed: this.streamed, outputLocation: outputLocation(this.streamed, output) }
          : {}),
      }, this.policy));
      this.span.end();
      this.onEnded({ failed: false, usage, costUsd: costNumber(result.cost?.usd) });
    }, () => undefined);
  }

  fail(error: unknown): void {
    guarded('call.fail', () => {
      if (this.done) return;
      this.done = true;
      const reason = this.redact(describeFailure(error));
      const type = errorType(error);
      this.payload.error = reason;
      this.payload.output = failedOutput(reason);
      this.span.setAttributes({
        [A.ERROR_TYPE]: type,
        ...(this.role === A.ROLE_AGGREGATOR
          ? callEndAttributes({ streamed: this.streamed, outputLocation: outputLocation(this.streamed, null) }, this.policy)
          : {}),
      });
      // Through the same redaction as everything else: a provider error may echo a secret.
      this.span.recordException({
        name: error instanceof Error ? error.name : type,
        message: reason,
        ...(error instanceof Error && error.stack ? { stack: this.redact(error.stack) } : {}),
      });
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
      this.span.end();
      this.onEnded({ failed: true, usage: ZERO_USAGE, costUsd: null, errorType: type });
    }, () => undefined);
  }

  private redact(text: string): string {
    return this.policy.patterns.length > 0 ? redactText(text, this.policy.patterns) : text;
  }
}

/** A short, single-line reason: the error's first message line, with the HTTP status when it has one. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    const message = (error.message || error.name).split('\n')[0]?.trim() ?? error.name;
    return typeof status === 'number' && !message.includes(String(status)) ? `HTTP ${status}: ${message}` : message;
  }
  return String(error).split('\n')[0] ?? 'unknown error';
}

function errorType(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number') return String(status);
    return error.name || error.constructor.name || 'Error';
  }
  return '_OTHER';
}

const NOOP_CALL: ReferenceCall & AggregatorCall = Object.freeze({
  spanContext: INVALID_SPAN_CONTEXT,
  firstChunk() {},
  end() {},
  fail() {},
});

function noopTurn(spanContext: SpanContext): MoaTurn {
  return {
    recording: false,
    spanContext,
    startReference: () => NOOP_CALL,
    startAggregator: () => NOOP_CALL,
    end() {},
  };
}

const reported = new Set<string>();
function reportOnce(where: string, err: unknown): void {
  const key = `${where}:${err instanceof Error ? err.name : typeof err}`;
  if (reported.has(key)) return;
  reported.add(key);
  diag.warn(`moa-otel: ${where} failed and was skipped (tracing never breaks a turn): ${describeFailure(err)}`);
}

function guarded<T>(where: string, body: () => T, fallback: () => T): T {
  try {
    return body();
  } catch (err) {
    reportOnce(where, err);
    return fallback();
  }
}
