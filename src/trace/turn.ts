/**
 * One MoA iteration as spans: a root `invoke_workflow moa` and one CLIENT
 * span per reference and for the aggregator (docs/ARCHITECTURE.md, "Span tree").
 *
 * Nothing here throws into the caller, whatever it is handed: hostile errors,
 * results whose getters throw, `null`, unbound methods. Every handle method is
 * an own bound function, so `promise.catch(ref.fail)` works. A call ends
 * exactly once and only after its span has ended; problems are reported once
 * per cause through the OpenTelemetry diagnostic logger.
 */
import {
  context as otelContext, diag, INVALID_SPAN_CONTEXT, isSpanContextValid, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type SpanContext, type Tracer,
} from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { describeFailure, errorText, firstLine, httpStatusOf } from '../base/errors.js';
import { turnQuestion } from '../content/genai.js';
import type { MessageTexts } from '../content/message-texts.js';
import { checkedText, NATIVE_FAILED, nativeStringify, safeStringify } from '../content/safe-json.js';
import { DecimalSum, formatDecimal, parseDecimal, type ScaledDecimal } from '../record/decimal.js';
import { addUsage, sanitizeUsage, ZERO_USAGE, type Usage } from '../record/usage.js';
import * as A from './attributes.js';
import {
  AGGREGATOR_FAILED_STATUS, answerText, callEndAttributes, callSpanName, callStartAttributes, contentJson,
  defaultLabel, inputMessagesAttribute, outputLocation, outputMessagesAttribute, referenceFailureEvents, referenceLink,
  referenceOutcomesAttributes, rootEndAttributes, rootSpanName, rootStartAttributes,
  type CallOutcome as CallOutcomeAttributes, type CallRole, type CutFlag, type ReferenceState,
} from './call-attributes.js';
import type { ContentPolicy } from './content-policy.js';
import { callMetricAttributes, type MoaMetrics } from './metrics.js';
import { capturePayload, sessionMessageTexts } from './message-capture.js';
import { liveInsightAttributes, liveInsights, type LiveReference } from './live-insights.js';
import { attachPayload, attachTurnPayload, markContentPolicy, messagePiecesRequested, payloadRequested, type CallPayload } from './payloads.js';
import type {
  AggregatorCall, AggregatorEnd, AggregatorStart, CallEnd, CallStart, Cost, MoaTurn, ReferenceCall, ReferenceStart,
  ResponseInfo, ReusedReference, ToolCall, TurnOptions,
} from './types.js';

/** What a turn is started with: all of it belongs to the instrumentation that starts it. */
export interface TurnEnvironment {
  tracer: Tracer;
  policy: ContentPolicy;
  /**
   * Problems inside the instrumentation are the library's bugs or the caller's
   * mistakes; either way they are reported, once per kind, and the turn goes on.
   */
  problems: CauseReporter;
  /** Where call and turn measurements go (the instrumentation's meter). */
  metrics: MoaMetrics;
  /** Live insights (`insights_live`): reference agreement and unique contribution on the aggregator span. */
  insightsLive?: boolean;
  /**
   * Only moa-otel's own JSONL sink reads these spans (setup's own provider
   * with no OTLP export): what only other readers use — the root's totals
   * (`rootEndAttributes`), the aggregator's links, `moa.references.outcomes`
   * and failure events — is not made. The file is written from the rest.
   */
  spansReadByFilesOnly?: boolean;
  /**
   * Told about every root as it starts: whether the provider records it, and
   * whether a JSONL processor (of any loaded copy) asked for its payload, so
   * the instrumentation can say when nothing will record a turn.
   */
  observeRoot?: (recording: boolean, jsonlSinkSawIt: boolean) => void;
  /** Counts a caller value replaced by a marker (or by the active context) so that the turn could be recorded. */
  onArgumentReplaced?: () => void;
}

/** A reporter of instrumentation problems through the OpenTelemetry diagnostic logger. */
export function diagProblemReporter(): CauseReporter {
  return new CauseReporter((message) => diag.warn(message));
}

/** Starts an iteration; a no-op turn when the root is not recording. */
export function startTurn(env: TurnEnvironment, options: TurnOptions): MoaTurn {
  const { tracer, policy, problems } = env;
  try {
    const replaced = argumentReporter(env);
    const facts = turnFacts(options, policy, replaced);
    let parent = parentContext(read(options, 'context'), replaced);
    const attributes = rootStartAttributes({ ...facts, sessionId: facts.sessionText }, policy);
    const input = read(options, 'input');
    const question = typeof input === 'string' ? input : undefined;
    // Named for the trace list; the question may only be known once a call starts, so it is named again at the end.
    const name = rootSpanName(facts.preset, question, policy);
    let root: Span;
    try {
      root = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    } catch (err) {
      // A context that looked like one but broke when asked for its span: the turn goes on in the active one.
      replaced('context', `could not be read (${firstLine(errorText(err))}): the turn is recorded in the active context`);
      parent = otelContext.active();
      root = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    }
    const recording = root.isRecording();
    env.observeRoot?.(recording, recording && payloadRequested(root));
    if (!recording) {
      root.end();
      return noopTurn(root.spanContext(), parent);
    }
    markContentPolicy(root, policy);
    if (payloadRequested(root)) {
      attachTurnPayload(root, {
        sessionId: facts.sessionId, preset: facts.preset, fanout: facts.fanout ?? null,
        cache: facts.cache, iteration: facts.iteration ?? null, policy,
      });
    }
    return new RecordingTurn(env, root, parent, facts, question, reusedStates(read(options, 'reusedReferences')));
  } catch (err) {
    reportProblem(problems, 'startMoaTurn', err);
    return noopTurn(INVALID_SPAN_CONTEXT, otelContext.active());
  }
}

/**
 * Says that a caller value could not be used as given and what stands in its
 * place: counted every time, reported once per field and kind of problem (a
 * bad preset and a bad model are two different mistakes to fix).
 */
type ArgumentReporter = (field: string, what: string) => void;

function argumentReporter(env: TurnEnvironment): ArgumentReporter {
  return (field, what) => {
    try {
      env.onArgumentReplaced?.();
    } catch {
      // Counting must not cost the turn.
    }
    env.problems.fail(`argument:${field}:${what}`, () => `moa-otel: \`${field}\` ${what}; later ones are counted in instrumentation.stats.argumentsReplaced`);
  };
}

/** The parent context of a turn: the one given, the active one when it is none, the span's when a Span was given. */
function parentContext(given: unknown, replaced: ArgumentReporter): Context {
  if (given === undefined || given === null) return otelContext.active();
  if (isContext(given)) return given;
  if (isSpan(given)) {
    replaced('context', 'is a Span, not a Context: the turn is recorded under that span (pass trace.setSpan(context.active(), span))');
    return trace.setSpan(otelContext.active(), given);
  }
  replaced('context', 'is not a Context: the turn is recorded in the active context');
  return otelContext.active();
}

function isContext(value: unknown): value is Context {
  try {
    const candidate = value as Partial<Context>;
    return typeof value === 'object' && typeof candidate.getValue === 'function'
      && typeof candidate.setValue === 'function' && typeof candidate.deleteValue === 'function';
  } catch {
    return false;
  }
}

function isSpan(value: unknown): value is Span {
  try {
    const candidate = value as Partial<Span>;
    return typeof value === 'object' && typeof candidate.spanContext === 'function' && typeof candidate.isRecording === 'function'
      && typeof candidate.spanContext().traceId === 'string';
  } catch {
    return false;
  }
}

/**
 * A name-like caller value as text: strings as they are, numbers and the
 * like by their text, nothing as ''; an object whose text cannot be had (no
 * prototype, a throwing `toString`, a hostile Proxy) becomes a marker.
 */
function textOf(value: unknown, field: string, replaced: ArgumentReporter): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  try {
    const text = String(value);
    if (typeof text === 'string') return text;
  } catch {
    // below
  }
  replaced(field, 'could not be read as text: recorded as a marker');
  return unreadableMarker(field);
}

function unreadableMarker(field: string): string {
  return `[moa-otel: unreadable ${field}]`;
}

/** An unreadable message stands as this in the record, where the message was. */
const UNREADABLE_MESSAGE = Object.freeze({ role: 'unknown', content: '[moa-otel: this message could not be read]' });
/** An unreadable tool call stands as this, so that `tool_calls` stays a list of calls. */
const UNREADABLE_TOOL_CALL = Object.freeze({ type: 'function', function: Object.freeze({ name: '[moa-otel: unreadable tool call]', arguments: '' }) });

/**
 * The items of a caller's array, each read once on its own: an element
 * whose getter throws becomes `marker`, the rest is kept as given. Reading
 * them here, once, means no later step (serializing, finding the question)
 * can fail on them after the call's span has started.
 */
function readItems(given: readonly unknown[], field: string, marker: unknown, replaced: ArgumentReporter): unknown[] {
  let length: number;
  try {
    length = given.length;
  } catch {
    replaced(field, 'could not be read: recorded as empty');
    return [];
  }
  const items = new Array<unknown>(length);
  let unreadable = 0;
  for (let i = 0; i < length; i++) {
    try {
      items[i] = given[i];
    } catch {
      items[i] = marker;
      unreadable += 1;
    }
  }
  if (unreadable > 0) replaced(field, `had ${unreadable === 1 ? 'an element' : `${unreadable} elements`} that could not be read: recorded as a marker`);
  return items;
}

/** A caller's cost as it will be recorded, and its amount parsed once (null when unknown or dropped). */
interface CheckedCost {
  cost: Cost | null;
  amount: ScaledDecimal | null;
  /** That amount as exact decimal text (null with it). */
  text: string | null;
}

/**
 * Number costs parsed lately, with their exact text: a call's price repeats
 * from call to call, and parsing and printing an exact decimal was a fair
 * part of ending a call. The amounts are only read, never changed.
 */
const NUMBER_COSTS = new Map<number, { amount: ScaledDecimal; text: string }>();
const NUMBER_COSTS_KEPT = 256;

function parsedCost(usd: number | string): { amount: ScaledDecimal; text: string } | null {
  if (typeof usd === 'number') {
    const known = NUMBER_COSTS.get(usd);
    if (known) return known;
  }
  const amount = parseDecimal(usd);
  if (amount === null) return null;
  const parsed = { amount, text: formatDecimal(amount) };
  if (typeof usd === 'number') {
    if (NUMBER_COSTS.size >= NUMBER_COSTS_KEPT) NUMBER_COSTS.clear();
    NUMBER_COSTS.set(usd, parsed);
  }
  return parsed;
}

/**
 * A cost whose amount is not a finite number (`"1e400"`, `Infinity`) would
 * write a number no reader takes: the amount is dropped (null, unknown
 * status) and the source says why. The amount parsed here is the one the
 * record, the payload and the turn's sum use: a cost is parsed once per call.
 */
function finiteCost(cost: Cost | null, replaced: ArgumentReporter): CheckedCost {
  if (cost === null || cost.usd === null) return { cost, amount: null, text: null };
  const asNumber = typeof cost.usd === 'number' ? cost.usd : Number(cost.usd);
  const parsed = Number.isFinite(asNumber) ? parsedCost(cost.usd) : null;
  if (parsed !== null) return { cost, amount: parsed.amount, text: parsed.text };
  replaced('cost.usd', 'is not a finite number: recorded as an unknown cost');
  const shown = String(cost.usd).slice(0, 40);
  return { cost: { usd: null, status: 'unknown', source: `[moa-otel: cost ${shown} is not a finite number]${cost.source ? ` ${cost.source}` : ''}` }, amount: null, text: null };
}

function turnFacts(options: TurnOptions, policy: ContentPolicy, replaced: ArgumentReporter) {
  // A session id can itself be a secret (an e-mail, a key): spans, record and file name get the masked one.
  const sessionId = policy.sessionId(read(options, 'sessionId'));
  const preset = read(options, 'preset');
  const fanout = read(options, 'fanout');
  const iteration = read(options, 'iteration');
  // The record keeps the id as given (a number stays a number); spans carry its text.
  const raw = typeof sessionId === 'string' || (typeof sessionId === 'number' && Number.isFinite(sessionId)) ? sessionId : null;
  return {
    sessionId: raw,
    sessionText: raw === null ? null : String(raw),
    // Identifiers go through the policy too: a preset, model or provider name can hold a key or an address.
    preset: policy.redactText(textOf(preset, 'preset', replaced)),
    fanout: typeof fanout === 'string' ? fanout : undefined,
    cache: read(options, 'cache') === 'hit' ? 'hit' as const : 'miss' as const,
    iteration: typeof iteration === 'number' && Number.isFinite(iteration) ? iteration : undefined,
  };
}

interface CallOutcome {
  failed: boolean;
  usage: Usage;
  /** The call's cost as given (a number or exact decimal text); null when unknown. */
  costUsd: number | string | null;
  /** That cost parsed (set with `costUsd`): what the turn's exact sum adds. */
  costAmount?: ScaledDecimal | null;
  errorType?: string;
  /** What the call answered, as one line (text, else its tool calls). */
  answer?: string | null;
  /** Its text output (masked), when it answered with text and no tool calls. */
  text?: string | null;
}

class RecordingTurn implements MoaTurn {
  readonly recording = true;
  readonly spanContext: SpanContext;
  readonly context: Context;
  /** The references started so far, in start order, with how each one is doing (for the aggregator's links). */
  private readonly references: ReferenceState[] = [];
  private openCalls = 0;
  private endRequested = false;
  private finished = false;
  private referenceFailed = 0;
  /** Calls that answered without a known cost: the root's total is then partial. */
  private unpricedCalls = 0;
  private usage: Usage = ZERO_USAGE;
  /** Exact decimal sum: float additions drift, and decimal-string costs keep their digits. */
  private readonly costUsd = new DecimalSum();

  private readonly tracer: Tracer;
  private readonly policy: ContentPolicy;
  private readonly problems: CauseReporter;

  /** The user's question (given, or found in the calls' messages) and the answer, for the root's display. */
  private question: string | undefined;
  private readonly questionGiven: string | undefined;
  private answer: string | null = null;

  private readonly metrics: MoaMetrics;
  /** The references' text outputs, kept only for live insights (undefined when off). */
  private readonly liveReferences: LiveReference[] | undefined;
  private readonly sessionId: string | null;
  private readonly replaced: ArgumentReporter;
  /** The session's short conversations, serialized once (looked up at the first capture, let go when the turn ends). */
  private messageTexts: MessageTexts | undefined;
  /** `TurnEnvironment.spansReadByFilesOnly`. */
  private readonly filesOnly: boolean;

  constructor(
    env: TurnEnvironment, private readonly root: Span, parent: Context, private readonly facts: ReturnType<typeof turnFacts>, input: string | undefined,
    /** The earlier references whose advice this iteration reuses (a cache HIT). */
    private readonly reused: readonly ReferenceState[] = [],
  ) {
    this.sessionId = facts.sessionText;
    this.replaced = argumentReporter(env);
    this.metrics = env.metrics;
    this.liveReferences = env.insightsLive === true ? [] : undefined;
    this.question = input;
    this.questionGiven = input;
    this.tracer = env.tracer;
    this.policy = env.policy;
    this.problems = env.problems;
    this.filesOnly = env.spansReadByFilesOnly === true;
    this.spanContext = root.spanContext();
    // Explicit parent for every call: references started inside Promise.all
    // (or any other async context) still hang under this root.
    this.context = trace.setSpan(parent, root);
  }

  // try/catch written out, not `guarded`: two closures less for every call.
  readonly startReference = (start: ReferenceStart): ReferenceCall => {
    try {
      const index = read(start, 'index');
      const known = typeof index === 'number' ? index : undefined;
      const call = this.startCall(A.ROLE_REFERENCE, start, { index: known });
      if (call instanceof RecordingCall) this.references.push({ context: call.spanContext, index: known, label: call.label, state: 'open' });
      return call;
    } catch (err) {
      reportProblem(this.problems, 'startReference', err);
      return NOOP_CALL;
    }
  };

  readonly startAggregator = (start: AggregatorStart): AggregatorCall => {
    try {
      return this.startCall(A.ROLE_AGGREGATOR, start, { stream: read(start, 'stream') === true });
    } catch (err) {
      reportProblem(this.problems, 'startAggregator', err);
      return NOOP_CALL;
    }
  };

  readonly reference = <T>(start: ReferenceStart, fn: (call: ReferenceCall) => T | Promise<T>): Promise<T> =>
    runInCall(this.startReference(start), fn);

  readonly aggregator = <T>(start: AggregatorStart, fn: (call: AggregatorCall) => T | Promise<T>): Promise<T> =>
    runInCall(this.startAggregator(start), fn);

  readonly end = (): void => {
    this.guarded('turn.end', () => {
      this.endRequested = true;
      this.maybeFinish();
    }, () => undefined);
  };

  private startCall(role: CallRole, start: CallStart, extra: { index?: number | undefined; stream?: boolean }): ReferenceCall & AggregatorCall {
    if (start === null || typeof start !== 'object') {
      // Nothing to record, and no handle the caller could end: this call does not exist.
      reportProblem(this.problems, `start${role === A.ROLE_REFERENCE ? 'Reference' : 'Aggregator'}`, new TypeError('expected the call start as an object'));
      return NOOP_CALL;
    }
    if (this.finished) {
      reportProblem(this.problems, `${role} started after its turn ended`, new Error('start calls before turn.end() (or before the last call ends)'));
      return NOOP_CALL;
    }
    const policy = this.policy;
    // Identifiers are masked here, where they enter, so spans, metrics and the record all get the masked text.
    const model = policy.redactText(textOf(read(start, 'model'), 'model', this.replaced));
    const provider = policy.redactText(textOf(read(start, 'provider'), 'provider', this.replaced));
    const label = maskedString(read(start, 'label'), policy);
    const given = read(start, 'messages');
    // A caller bug (no array) must not cost the call its span: record what was given.
    const givenArray = isArray(given);
    const messages: readonly unknown[] = givenArray ? readItems(given as readonly unknown[], 'messages', UNREADABLE_MESSAGE, this.replaced) : given == null ? [] : [given];
    const temperature = read(start, 'temperature');
    const serverPort = read(start, 'serverPort');
    const port = typeof serverPort === 'number' ? serverPort : undefined;
    const genAiProvider = maskedString(stringOrUndefined(read(start, 'genAiProvider')), policy);
    const serverAddress = maskedString(stringOrUndefined(read(start, 'serverAddress')), policy);
    const reasoningLevel = read(start, 'reasoningLevel');
    const tools = role === A.ROLE_AGGREGATOR ? read(start as AggregatorStart, 'tools') : undefined;
    // The root shows the user's question: found now, while the messages are as sent.
    if (this.questionGiven === undefined && policy.spanContent && policy.backendHints) {
      try {
        if (role === A.ROLE_AGGREGATOR) this.question = turnQuestion(messages, undefined, this.references.length > 0);
        else if (this.question === undefined && this.references.length === 0) this.question = turnQuestion(undefined, messages, true);
      } catch {
        // An unreadable message only costs the root its displayed question.
      }
    }
    // Content is serialized for spans only when the policy sends it somewhere,
    // and a message that cannot be read (a getter that throws) costs the
    // content, never the call.
    const cut: CutFlag = { cut: false };
    const inputJson = policy.capturesContent ? contentOrPlaceholder(() => inputMessagesAttribute(messages, policy, cut)) : undefined;
    const toolsJson = policy.capturesContent && Array.isArray(tools) && tools.length > 0 ? contentOrPlaceholder(() => contentJson(tools, policy, cut)) : undefined;
    const callLabel = label ?? defaultLabel(provider, model);
    const aggregator = role === A.ROLE_AGGREGATOR;
    // A fresh object: the aggregator's and a cut's attributes are added to it, not spread into a copy.
    const attributes = callStartAttributes({
      role,
      label: callLabel,
      model,
      provider,
      genAiProvider,
      temperature: typeof temperature === 'number' ? temperature : null,
      index: extra.index,
      stream: extra.stream,
      serverAddress,
      serverPort: port,
      conversationId: this.sessionId,
      reasoningLevel: typeof reasoningLevel === 'string' ? reasoningLevel : null,
    }, policy.spanContent
      ? { inputMessages: inputJson, ...(toolsJson !== undefined ? { toolDefinitions: toolsJson } : {}) }
      : {});
    // The aggregator's references: this turn's, then those a cache HIT reused (no copy when there are none);
    // none for spans only the file reads, which has them from the calls themselves.
    const linksMade = aggregator && !this.filesOnly;
    const linked = !linksMade ? [] : this.reused.length > 0 ? [...this.references, ...this.reused] : this.references;
    if (linksMade) Object.assign(attributes, referenceOutcomesAttributes(linked));
    if (cut.cut) attributes[A.MOA_CONTENT_TRUNCATED] = true;
    const span = this.tracer.startSpan(callSpanName(model), {
      kind: SpanKind.CLIENT,
      // The aggregator links to every reference, saying which one and how it went.
      links: linked.map(referenceLink),
      attributes,
    }, this.context);
    // Link attributes show in no Jaeger UI; events do (as the span's logs).
    if (linksMade) for (const event of referenceFailureEvents(this.references)) span.addEvent(event.name, event.attributes);
    markContentPolicy(span, policy);
    // The exact messages are serialized only for a JSONL sink that asked for them.
    const payload: CallPayload | undefined = payloadRequested(span)
      ? capturePayload({
        provider, output: null, error: null, toolCallsJson: null, finishReason: null, policy: this.policy,
      }, this.sessionId, messages, messagePiecesRequested(span), this.messageTexts ??= sessionMessageTexts(policy, this.sessionId))
      : undefined;
    if (payload) attachPayload(span, payload);
    this.openCalls += 1;
    // Built only when a meter is there to take it.
    const measure = () => callMetricAttributes({ provider: genAiProvider ?? provider, requestModel: model, serverAddress, serverPort: port });
    const live = this.liveReferences;
    return new RecordingCall(span, this.context, role, callLabel, extra.stream ?? false, payload, this.policy,
      this.problems, this.replaced, policy.eventContent ? { input: inputJson, tools: toolsJson } : undefined, { metrics: this.metrics, attributes: measure },
      (outcome) => this.callEnded(role, span.spanContext(), outcome, { index: extra.index, label: callLabel }),
      live && role === A.ROLE_AGGREGATOR ? (outcome) => this.liveInsightsFor(outcome, live) : undefined);
  }


  /**
   * The aggregator's answer against the references' outputs, computed as its
   * call ends and before its span does (a bounded pass per text, measured in
   * bench/live-insights.ts); the histogram gets one value per reference.
   */
  private liveInsightsFor(outcome: CallOutcome, references: readonly LiveReference[]): Attributes | undefined {
    if (outcome.failed || typeof outcome.text !== 'string' || references.length === 0) return undefined;
    const insights = liveInsights(outcome.text, references);
    for (const insight of insights) {
      if (insight.unique !== null) this.metrics.uniqueContribution(this.facts.preset, insight.label, insight.unique);
    }
    return liveInsightAttributes(insights);
  }

  private callEnded(role: CallRole, spanContext: SpanContext, outcome: CallOutcome, call: { index: number | undefined; label: string }): void {
    this.openCalls -= 1;
    if (role === A.ROLE_REFERENCE && this.liveReferences && !outcome.failed && typeof outcome.text === 'string') {
      this.liveReferences.push({ index: call.index, label: call.label, output: outcome.text });
    }
    if (role === A.ROLE_REFERENCE) {
      if (outcome.failed) this.referenceFailed += 1;
      const reference = this.references.find((r) => r.context.spanId === spanContext.spanId);
      if (reference) {
        reference.state = outcome.failed ? 'failed' : 'ok';
        if (outcome.errorType) reference.errorType = outcome.errorType;
      }
    }
    if (!outcome.failed && outcome.costUsd === null) this.unpricedCalls += 1;
    // References may fail and the turn goes on; without an aggregator answer the turn itself failed.
    if (role === A.ROLE_AGGREGATOR && !outcome.failed) this.answer = outcome.answer ?? null;
    if (outcome.failed && role === A.ROLE_AGGREGATOR) {
      this.root.setStatus({ code: SpanStatusCode.ERROR, message: AGGREGATOR_FAILED_STATUS });
      if (outcome.errorType) this.root.setAttribute(A.ERROR_TYPE, outcome.errorType);
    }
    this.usage = addUsage(this.usage, outcome.usage);
    // The amount as parsed when the call ended, not its text parsed again.
    if (outcome.costAmount) this.costUsd.addDecimal(outcome.costAmount);
    this.maybeFinish();
  }

  /** The root ends once the caller said so and every call has ended (a stream may outlive turn.end()). */
  private maybeFinish(): void {
    if (this.finished || !this.endRequested || this.openCalls > 0) return;
    this.finished = true;
    this.messageTexts = undefined;
    try {
      this.metrics.turnEnded(this.facts.preset, this.facts.cache);
    } catch (err) {
      reportProblem(this.problems, 'metrics', err);
    }
    try {
      if (this.question !== this.questionGiven) this.root.updateName(rootSpanName(this.facts.preset, this.question, this.policy));
      // The turn's totals are for trace viewers: the file sums its calls itself.
      if (!this.filesOnly) this.root.setAttributes(rootEndAttributes({
        referenceCount: this.references.length,
        referenceFailed: this.referenceFailed,
        reusedReferences: this.reused.length,
        usage: this.usage,
        costUsd: this.costUsd.count > 0 ? this.costUsd.toNumber() : null,
        // Said only of a turn with a call that answered: no answer, no spend to be complete about.
        ...(this.costUsd.count + this.unpricedCalls > 0 ? { unpricedCalls: this.unpricedCalls } : {}),
        input: this.question ?? null,
        output: this.answer,
      }, this.policy));
    } finally {
      this.root.end();
    }
  }

  private guarded<T>(where: string, body: () => T, fallback: () => T): T {
    try {
      return body();
    } catch (err) {
      reportProblem(this.problems, where, err);
      return fallback();
    }
  }
}

/** The reused references a caller gave, as far as they can be read: each needs a valid span context. */
function reusedStates(given: unknown): ReferenceState[] {
  if (!isArray(given)) return [];
  const states: ReferenceState[] = [];
  for (const item of given as readonly unknown[]) {
    const context = read(item as ReusedReference, 'spanContext');
    if (!context || typeof context !== 'object' || !safeRead(() => isSpanContextValid(context))) continue;
    const index = read(item as ReusedReference, 'index');
    states.push({
      context, index: typeof index === 'number' ? index : undefined, state: read(item as ReusedReference, 'failed') === true ? 'failed' : 'ok', reused: true,
    });
  }
  return states;
}

type CallState = 'open' | 'ending' | 'ended';

class RecordingCall implements ReferenceCall, AggregatorCall {
  readonly spanContext: SpanContext;
  private state: CallState = 'open';
  private readonly startedAt = performance.now();
  private firstChunkAt: number | undefined;
  private responseModel: string | null = null;
  private measuredUsage: Usage | null = null;

  /** The turn's context with this call's span active, made when first asked for (most callers never do). */
  private callContext: Context | undefined;

  constructor(
    private readonly span: Span,
    /** The turn's context, which the call's own is made from. */
    private readonly turnContext: Context,
    private readonly role: CallRole,
    readonly label: string,
    private readonly streamed: boolean,
    private readonly payload: CallPayload | undefined,
    private readonly policy: ContentPolicy,
    private readonly problems: CauseReporter,
    private readonly replaced: ArgumentReporter,
    /** The call's content as sent to spans, kept for the content event when capture includes events. */
    private readonly eventContent: { input: string | undefined; tools: string | undefined } | undefined,
    private readonly measurement: { metrics: MoaMetrics; attributes: () => import('@opentelemetry/api').Attributes },
    private readonly onEnded: (outcome: CallOutcome) => void,
    /** Attributes to add just before the span ends (live insights on the aggregator), given how the call went. */
    private readonly beforeEnd?: (outcome: CallOutcome) => Attributes | undefined,
  ) {
    this.spanContext = span.spanContext();
  }

  get context(): Context {
    this.callContext ??= trace.setSpan(this.turnContext, this.span);
    return this.callContext;
  }

  readonly firstChunk = (): void => {
    if (this.firstChunkAt === undefined) this.firstChunkAt = performance.now();
  };

  readonly end = (result?: CallEnd | AggregatorEnd | null): void => {
    if (this.state !== 'open') return;
    this.state = 'ending';
    let outcome: CallOutcome = { failed: false, usage: ZERO_USAGE, costUsd: null };
    try {
      outcome = this.recordResult(result ?? {});
    } catch (err) {
      reportProblem(this.problems, 'call.end', err);
    } finally {
      this.finish(outcome);
    }
  };

  readonly fail = (error?: unknown, received?: AggregatorEnd | null): void => {
    if (this.state !== 'open') return;
    this.state = 'ending';
    let type = '_OTHER';
    try {
      type = errorType(error);
      this.recordFailure(error, type, received && typeof received === 'object' ? received : null);
    } catch (err) {
      reportProblem(this.problems, 'call.fail', err);
    } finally {
      this.finish({ failed: true, usage: ZERO_USAGE, costUsd: null, errorType: type });
    }
  };

  /** Ends the span, then tells the turn: the call counts as ended only once its span has. */
  private finish(outcome: CallOutcome): void {
    if (this.beforeEnd) {
      try {
        const attributes = this.beforeEnd(outcome);
        if (attributes) this.span.setAttributes(attributes);
      } catch (err) {
        reportProblem(this.problems, 'live insights', err);
      }
    }
    try {
      this.span.end();
    } catch (err) {
      reportProblem(this.problems, 'span.end', err);
    }
    try {
      // Nothing built for a meter that takes nothing (the API's no-op one): this runs for every call.
      if (this.measurement.metrics.measuring) this.measurement.metrics.callEnded({
        role: this.role,
        attributes: () => {
          const base = this.measurement.attributes();
          return this.responseModel ? { ...base, [A.GEN_AI_RESPONSE_MODEL]: this.responseModel } : base;
        },
        durationSeconds: (performance.now() - this.startedAt) / 1000,
        usage: outcome.failed ? null : this.measuredUsage,
        timeToFirstChunkSeconds: this.streamed && this.firstChunkAt !== undefined ? (this.firstChunkAt - this.startedAt) / 1000 : null,
        errorType: outcome.failed ? outcome.errorType ?? '_OTHER' : null,
        costUsd: outcome.costUsd === null ? null : Number(outcome.costUsd),
      });
    } catch (err) {
      reportProblem(this.problems, 'metrics', err);
    }
    this.state = 'ended';
    try {
      this.onEnded(outcome);
    } catch (err) {
      reportProblem(this.problems, 'turn bookkeeping', err);
    }
  }

  private recordResult(result: CallEnd | AggregatorEnd): CallOutcome {
    // Each field is read once and on its own: a getter that throws costs that field only.
    const usageGiven = read(result, 'usage');
    const { cost, amount, text: exactCost } = finiteCost(asCost(read(result, 'cost')), this.replaced);
    const response = maskedResponse(asResponse(read(result, 'response')), this.policy);
    const { output, toolCalls } = this.keepAnswer(result);
    const finishGiven = read(result as AggregatorEnd, 'finishReason');
    const finishReason = typeof finishGiven === 'string' ? finishGiven : response?.finishReasons?.[0] ?? null;
    const usage = sanitizeUsage(usageGiven && typeof usageGiven === 'object' ? usageGiven as Partial<Usage> : null);
    this.measuredUsage = usageGiven ? usage : null;
    this.responseModel = response?.model ?? null;
    if (this.payload) {
      this.payload.finishReason = finishReason;
      // Decimal text is written as given; a double with float noise (0.1 + 0.2) as the decimal it stands for.
      const noisy = typeof cost?.usd === 'number' && exactCost !== null && Number(exactCost) !== cost.usd;
      this.payload.costUsdText = typeof cost?.usd === 'string' || noisy ? exactCost : null;
    }
    const ttfc = response?.timeToFirstChunk
      ?? (this.firstChunkAt !== undefined ? (this.firstChunkAt - this.startedAt) / 1000 : null);
    this.recordOutcome({
      output, toolCalls, finishReason, usage: usageGiven ? usage : null, cost,
      responseId: response?.id ?? null,
      responseModel: response?.model ?? null,
      finishReasons: response?.finishReasons,
      timeToFirstChunkSeconds: this.streamed ? ttfc : null,
      ...(this.role === A.ROLE_AGGREGATOR
        ? { streamed: this.streamed, outputLocation: outputLocation(this.streamed, output) }
        : {}),
    });
    return { failed: false, usage, costUsd: exactCost, costAmount: amount, answer: answerText(output, toolCalls), text: toolCalls && toolCalls.length > 0 ? null : output };
  }

  /** The answer of a call (text masked, tool calls), kept in the JSONL payload too. */
  private keepAnswer(result: CallEnd | AggregatorEnd): { output: string | null; toolCalls: readonly ToolCall[] | null } {
    const rawOutput = read(result, 'output');
    const output = typeof rawOutput === 'string' ? this.policy.redactText(rawOutput) : null;
    const rawToolCalls = read(result as AggregatorEnd, 'toolCalls');
    const items = isArray(rawToolCalls) ? readItems(rawToolCalls as readonly unknown[], 'toolCalls', UNREADABLE_TOOL_CALL, this.replaced) : [];
    if (items.length === 0) {
      if (this.payload) {
        this.payload.output = output;
        this.payload.toolCallsJson = null;
      }
      return { output, toolCalls: null };
    }
    // Serialized once: a list that serializes natively is readable as a whole, and that text is the payload's.
    const replacer = this.policy.replacer;
    const text = nativeStringify(items, replacer);
    const toolCalls = (text === NATIVE_FAILED ? this.readableToolCalls(items) : items) as readonly ToolCall[];
    if (this.payload) {
      this.payload.output = output;
      this.payload.toolCallsJson = text === NATIVE_FAILED ? safeStringify(toolCalls, replacer) : checkedText(toolCalls, text, replacer);
    }
    return { output, toolCalls };
  }

  /**
   * Tool calls each of which can be walked, for a list that did not serialize
   * as a whole: one that cannot be walked (a revoked or hostile Proxy) would
   * turn the whole list into an error text, so it becomes a marker call instead.
   */
  private readableToolCalls(items: unknown[]): unknown[] {
    let unreadable = 0;
    const readable = items.map((item) => {
      if (item === null || typeof item !== 'object') return item;
      try {
        // Walks what serializing walks: keys and values, own and inherited toJSON.
        JSON.stringify(item);
        return item;
      } catch {
        // A circular or BigInt-holding call serializes through safeStringify; only one that cannot be walked at all is replaced.
        if (safeStringify(item).startsWith('{')) return item;
        unreadable += 1;
        return UNREADABLE_TOOL_CALL;
      }
    });
    if (unreadable > 0) this.replaced('toolCalls', `had ${unreadable === 1 ? 'a call' : `${unreadable} calls`} that could not be read: recorded as a marker`);
    return readable;
  }

  /** The end attributes, and the content event when capture includes events (its output messages serialized once). */
  private recordOutcome(outcome: CallOutcomeAttributes): void {
    const attributes = callEndAttributes(outcome, this.policy);
    this.span.setAttributes(attributes);
    if (!this.eventContent) return;
    const { input, tools } = this.eventContent;
    const output = attributes[A.GEN_AI_OUTPUT_MESSAGES] ?? outputMessagesAttribute(outcome, this.policy);
    this.span.addEvent(A.GEN_AI_INFERENCE_DETAILS_EVENT, {
      ...(input !== undefined ? { [A.GEN_AI_INPUT_MESSAGES]: input } : {}),
      ...(tools !== undefined ? { [A.GEN_AI_TOOL_DEFINITIONS]: tools } : {}),
      ...(output !== undefined ? { [A.GEN_AI_OUTPUT_MESSAGES]: output } : {}),
    });
  }

  /** A failure; `received` is what a cut stream had delivered (kept with the error, as in the record). */
  private recordFailure(error: unknown, type: string, received: AggregatorEnd | null): void {
    const reason = this.policy.redactText(describeFailure(error));
    const { output, toolCalls } = received ? this.keepAnswer(received) : { output: null, toolCalls: null };
    if (this.payload) this.payload.error = reason;
    const usageGiven = received ? read(received, 'usage') : undefined;
    if (usageGiven && typeof usageGiven === 'object') this.measuredUsage = sanitizeUsage(usageGiven as Partial<Usage>);
    this.span.setAttribute(A.ERROR_TYPE, type);
    this.recordOutcome({
      ...(received ? { output, toolCalls, finishReason: 'error', usage: this.measuredUsage, cost: finiteCost(asCost(read(received, 'cost')), this.replaced).cost } : {}),
      ...(this.role === A.ROLE_AGGREGATOR ? { streamed: this.streamed, outputLocation: outputLocation(this.streamed, output) } : {}),
    });
    if (this.policy.capturesContent) {
      // A provider error may echo the prompt or a secret: it goes through the same policy as content.
      const stack = error instanceof Error ? safeRead(() => error.stack) : undefined;
      this.span.recordException({
        name: errorName(error, type),
        message: reason,
        ...(typeof stack === 'string' ? { stack: this.policy.redactText(stack) } : {}),
      });
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: firstLine(reason) });
    } else {
      // Content capture is off: the error's text stays out of the span, its type goes in.
      this.span.recordException({ name: errorName(error, type) });
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    }
  }
}

const UNREADABLE_MESSAGES = JSON.stringify([{ role: 'unknown', parts: [{ type: 'text', content: '[moa-otel: this content could not be read]' }] }]);

function contentOrPlaceholder(serialize: () => string): string {
  try {
    return serialize();
  } catch {
    return UNREADABLE_MESSAGES;
  }
}

/** Runs `fn` inside the call's context; ends the call on resolve, fails it on reject, passes the outcome through. */
async function runInCall<C extends ReferenceCall | AggregatorCall, T>(call: C, fn: (call: C) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await otelContext.with(call.context, fn, undefined, call);
  } catch (err) {
    call.fail(err);
    throw err;
  }
  call.end();
  return result;
}

function errorType(error: unknown): string {
  const status = httpStatusOf(error);
  if (status !== undefined) return String(status);
  if (error instanceof Error) return errorName(error, 'Error');
  return '_OTHER';
}

function errorName(error: unknown, fallback: string): string {
  const name = safeRead(() => (error instanceof Error ? error.name || error.constructor?.name : undefined));
  return typeof name === 'string' && name !== '' ? name : fallback;
}

function asCost(value: unknown): Cost | null {
  if (!value || typeof value !== 'object') return null;
  const usd = read(value as Cost, 'usd');
  const status = read(value as Cost, 'status');
  const source = read(value as Cost, 'source');
  return {
    usd: typeof usd === 'number' || typeof usd === 'string' ? usd : null,
    status: status === 'actual' || status === 'estimated' || status === 'included' ? status : 'unknown',
    source: typeof source === 'string' ? source : null,
  };
}

/** A string field given by the caller, masked by the policy; undefined when it is no string. */
function maskedString(value: unknown, policy: ContentPolicy): string | undefined {
  return typeof value === 'string' ? policy.redactText(value) : undefined;
}

/** The provider's response id and model, masked: a gateway may echo a key or an address in them. */
function maskedResponse(response: ResponseInfo | null, policy: ContentPolicy): ResponseInfo | null {
  if (!response || !policy.redacts) return response;
  return {
    ...response,
    id: typeof response.id === 'string' ? policy.redactText(response.id) : null,
    model: typeof response.model === 'string' ? policy.redactText(response.model) : null,
  };
}

function asResponse(value: unknown): ResponseInfo | null {
  if (!value || typeof value !== 'object') return null;
  const id = read(value as ResponseInfo, 'id');
  const model = read(value as ResponseInfo, 'model');
  const reasons = read(value as ResponseInfo, 'finishReasons');
  const ttfc = read(value as ResponseInfo, 'timeToFirstChunk');
  return {
    id: typeof id === 'string' ? id : null,
    model: typeof model === 'string' ? model : null,
    ...(Array.isArray(reasons) ? { finishReasons: reasons.filter((r): r is string => typeof r === 'string') } : {}),
    timeToFirstChunk: typeof ttfc === 'number' ? ttfc : null,
  };
}

/**
 * One property of a caller-supplied object; a throwing getter or a
 * non-object yields undefined. (No closure: it runs a dozen times per call.)
 */
function read<T extends object, K extends keyof T>(obj: T | null | undefined, key: K): T[K] | undefined {
  try {
    return obj == null || typeof obj !== 'object' ? undefined : obj[key];
  } catch {
    return undefined;
  }
}

function safeRead<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

/** `Array.isArray` that answers false instead of throwing (it throws on a revoked Proxy). */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const NOOP_CALL: ReferenceCall & AggregatorCall = Object.freeze({
  spanContext: INVALID_SPAN_CONTEXT,
  get context() { return otelContext.active(); },
  firstChunk() {},
  end() {},
  fail() {},
});

function noopTurn(spanContext: SpanContext, parent: Context): MoaTurn {
  return Object.freeze({
    recording: false,
    spanContext,
    context: parent,
    startReference: () => NOOP_CALL,
    startAggregator: () => NOOP_CALL,
    reference: <T>(_start: ReferenceStart, fn: (call: ReferenceCall) => T | Promise<T>) => runInCall(NOOP_CALL, fn),
    aggregator: <T>(_start: AggregatorStart, fn: (call: AggregatorCall) => T | Promise<T>) => runInCall(NOOP_CALL, fn),
    end() {},
  });
}

function reportProblem(problems: CauseReporter, where: string, err: unknown): void {
  problems.fail(`${where}:${errorName(err, typeof err)}`,
    () => `moa-otel: ${where} failed and was skipped (tracing never breaks a turn): ${firstLine(errorText(err))}`);
}
