/**
 * `MoaInstrumentation`: the object that records MoA turns. It owns its tracer
 * (from the tracer provider it is given, by default the global one) and its
 * content policy (redaction, span content); nothing else in the process
 * decides what its spans contain. `startMoaTurn` is sugar: it records through
 * the most recent live `setupMoaTracing` pipeline, else with a default
 * instance that captures content and masks nothing.
 */
import { diag, metrics, trace, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { MoaMetrics } from './metrics.js';
import { PACKAGE_VERSION } from '../base/version.js';
import { INSTRUMENTATION_SCOPE } from './attributes.js';
import type { Env } from '../config/paths.js';
import { ContentPolicy, standardContentSwitches, type ContentPolicyOptions } from './content-policy.js';
import { globalTracerProviderRegistered } from './global-provider.js';
import { jsonlSinkBuilt, latestLivePipeline } from './live-pipelines.js';
import { diagProblemReporter, startTurn, type TurnEnvironment } from './turn.js';
import type { MoaTurn, TurnOptions } from './types.js';

export interface MoaInstrumentationOptions extends ContentPolicyOptions {
  /** Where spans go; default the global tracer provider (resolved lazily, so it may be registered later). */
  tracerProvider?: TracerProvider;
  /** Where metrics go; default the global meter provider (resolved when the first turn starts). */
  meterProvider?: MeterProvider;
  /**
   * What is lost when the provider does not record a turn (its sampler
   * dropped it), e.g. "the JSONL files": said once through `diag`, and
   * counted in `stats.turnsNotRecorded`. Unset: a dropped turn is expected.
   */
  recordingExpectedFor?: string;
  /**
   * Where the standard switches are read (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
   * OTEL_SEMCONV_STABILITY_OPT_IN) when the options above do not set them. Default `process.env`.
   */
  env?: Env;
  /**
   * A ready policy, shared with the pipeline's sinks (what setup and
   * `createMoaSpanProcessors` pass): the content options above are then
   * ignored, and the sinks recognize this instrumentation's content as their own.
   */
  policy?: ContentPolicy;
  /**
   * Live insights (config `insights_live`): each reference's agreement with
   * and unique contribution to the answer, on the aggregator span and as the
   * `moa.insights.unique_contribution` histogram. Default false.
   */
  insightsLive?: boolean;
}

/** What `startMoaTurn({ instrumentation })` needs: also satisfied by an instance from another loaded copy of moa-otel. */
export interface MoaTurnStarter {
  startTurn(options: TurnOptions): MoaTurn;
}

export class MoaInstrumentation implements MoaTurnStarter {
  readonly policy: ContentPolicy;
  #provider: TracerProvider | undefined;
  readonly #recordingExpectedFor: string | undefined;
  readonly #isDefault: boolean;
  readonly #env: Env;
  #turnsNotRecorded = 0;
  #argumentsReplaced = 0;
  #meterProvider: MeterProvider | undefined;
  #turnEnv: TurnEnvironment | undefined;
  readonly #insightsLive: boolean;
  /** The provider only the JSONL sink reads (`readByFilesOnly`), if any. */
  readonly #filesOnlyProvider: TracerProvider | undefined;
  readonly #problems = diagProblemReporter();
  readonly #unrecorded = new CauseReporter((message) => diag.warn(message));

  constructor(options: MoaInstrumentationOptions = {}) {
    const { tracerProvider: _provider, meterProvider, env, spanContent, recordingExpectedFor, policy: shared, insightsLive, ...policy } = options;
    this.#insightsLive = insightsLive === true;
    this.#recordingExpectedFor = recordingExpectedFor;
    this.#isDefault = (options as InternalOptions)[DEFAULT_INSTANCE] === true;
    this.#filesOnlyProvider = (options as InternalOptions)[FILES_ONLY_PROVIDER];
    this.#meterProvider = meterProvider;
    this.#env = env ?? process.env;
    // Explicit options win over the standard environment switches; the
    // `spanContent` shorthand is an explicit capture mode too.
    const explicit = stripUndefined({ ...policy, ...(spanContent !== undefined && policy.capture === undefined ? { capture: spanContent ? 'SPAN_ONLY' as const : 'NO_CONTENT' as const } : {}) });
    this.policy = shared ?? new ContentPolicy({ ...standardContentSwitches(this.#env), ...explicit });
    this.#provider = options.tracerProvider;
  }

  /**
   * Turns started while nothing would record them: no provider at all, a
   * sampler that dropped them, or a provider without moa-otel's processors
   * while JSONL files are expected. (An instance built with an explicit
   * provider and no `recordingExpectedFor` counts nothing: dropping is then
   * the caller's choice.) `argumentsReplaced`: caller values that could not
   * be used as given (an unreadable preset, model, message or tool call, a
   * cost that is not a finite number, a `context` that is not one) and were
   * recorded as a marker instead, so the turn was not lost.
   */
  get stats(): { turnsNotRecorded: number; argumentsReplaced: number } {
    return { turnsNotRecorded: this.#turnsNotRecorded, argumentsReplaced: this.#argumentsReplaced };
  }

  /** The tracer named `moa-otel` of this instrumentation's provider. */
  get tracer(): Tracer {
    return this.environment().tracer;
  }

  /**
   * Points this instrumentation at a provider, as OpenTelemetry
   * instrumentations do: `createMoaSpanProcessors()` returns one before the
   * application has built the provider its processors go into.
   */
  setTracerProvider(provider: TracerProvider): void {
    this.#provider = provider;
    this.#turnEnv = undefined;
  }

  /** Starts one MoA iteration (the root span). Never throws. */
  readonly startTurn = (options: TurnOptions): MoaTurn => startTurn(this.environment(), options);

  /** @internal a turn on another tracer under this instrumentation's policy (the `tracer` option of `startMoaTurn`). */
  startTurnOn(tracer: Tracer, options: TurnOptions): MoaTurn {
    return startTurn({ ...this.environment(), tracer, spansReadByFilesOnly: false }, options);
  }

  /** Points this instrumentation's metrics at a meter provider (default: the global one). */
  setMeterProvider(provider: MeterProvider): void {
    this.#meterProvider = provider;
    this.#turnEnv = undefined;
  }

  private observeRoot(recording: boolean, jsonlSinkSawIt: boolean): void {
    try {
      const cause = this.unrecordedCause(recording, jsonlSinkSawIt);
      if (cause === undefined) return;
      this.#turnsNotRecorded += 1;
      this.#unrecorded.fail(cause, () => `${unrecordedMessage(cause, this.#isDefault, this.#recordingExpectedFor)}. `
        + 'Later ones are counted in instrumentation.stats.turnsNotRecorded');
    } catch {
      // A diag logger that throws must not cost the turn.
    }
  }

  private unrecordedCause(recording: boolean, jsonlSinkSawIt: boolean): UnrecordedCause | undefined {
    const expecting = this.#isDefault || this.#recordingExpectedFor !== undefined;
    if (!expecting) return undefined;
    if (!recording) return this.#provider === undefined && !globalTracerProviderRegistered() ? 'no provider' : 'sampled out';
    if (jsonlSinkSawIt) return undefined;
    // Recorded, but no JSONL processor saw it start: a loss only when files are expected.
    const filesExpected = this.#recordingExpectedFor !== undefined || jsonlSinkBuilt() || saveTracesSwitchOn(this.#env);
    return filesExpected ? 'no moa processor' : undefined;
  }

  private environment(): TurnEnvironment {
    const env = this.#turnEnv ??= this.buildEnvironment();
    // On the global provider, asked each time: the application may register
    // (or replace, after `trace.disable()`) its provider at any point.
    return this.#provider === undefined ? { ...env, tracer: globalTracer() } : env;
  }

  private buildEnvironment(): TurnEnvironment {
    return {
      tracer: this.#provider === undefined ? globalTracer() : this.#provider.getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION),
      policy: this.policy,
      problems: this.#problems,
      metrics: new MoaMetrics(() => this.#meterProvider ?? metrics.getMeterProvider()),
      insightsLive: this.#insightsLive,
      spansReadByFilesOnly: this.#provider !== undefined && this.#provider === this.#filesOnlyProvider,
      observeRoot: (recording, jsonlSinkSawIt) => this.observeRoot(recording, jsonlSinkSawIt),
      onArgumentReplaced: () => { this.#argumentsReplaced += 1; },
    };
  }
}

function globalTracer(): Tracer {
  return trace.getTracerProvider().getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
}

type UnrecordedCause = 'no provider' | 'sampled out' | 'no moa processor';

/** One line per cause, naming the fix. */
function unrecordedMessage(cause: UnrecordedCause, isDefault: boolean, expectedFor: string | undefined): string {
  const lost = expectedFor ?? 'every trace';
  switch (cause) {
    case 'no provider':
      return isDefault
        ? 'moa-otel: startMoaTurn found no live setupMoaTracing pipeline and no tracer provider, so an MoA turn was recorded nowhere; '
          + 'call setupMoaTracing({ save_traces: true }) before starting turns, or register a tracer provider with createMoaSpanProcessors() among its span processors'
        : `moa-otel: an MoA turn went to the global tracer provider but none is registered, so it is missing from ${lost}; `
          + 'register the provider that holds createMoaSpanProcessors(), or call instrumentation.setTracerProvider(provider)';
    case 'sampled out':
      return `moa-otel: the tracer provider did not record an MoA turn (its sampler dropped it, or its parent was not sampled), so it is missing from ${lost}; `
        + 'sample the `moa-otel` scope always, or use setupMoaTracing, whose provider always records';
    case 'no moa processor':
      return `moa-otel: an MoA turn went to a tracer provider without moa-otel's span processors, so it is missing from ${expectedFor ?? 'the JSONL files'} although save_traces is on; `
        + 'add createMoaSpanProcessors() to that provider\'s span processors, or call setupMoaTracing() before starting turns';
  }
}

/** MOA_SAVE_TRACES set to a true word: the user expects files even if no sink was built. */
function saveTracesSwitchOn(env: Env): boolean {
  return /^(true|1|yes|on)$/i.test(env.MOA_SAVE_TRACES?.trim() ?? '');
}

const DEFAULT_INSTANCE = Symbol('moa-otel default instance');
/** The provider whose spans only moa-otel's JSONL sink reads (`readByFilesOnly`). */
const FILES_ONLY_PROVIDER = Symbol('moa-otel provider read by the files only');
type InternalOptions = MoaInstrumentationOptions & { [DEFAULT_INSTANCE]?: true; [FILES_ONLY_PROVIDER]?: TracerProvider };

/**
 * @internal Options for setup's own instrumentation when the only reader of
 * its provider's spans is moa-otel's own JSONL sink (no OTLP export, and the
 * provider is never given other processors): turns recorded there leave off
 * what only other readers use (`TurnEnvironment.spansReadByFilesOnly`).
 * Pointed at another provider (`setTracerProvider`), or recording on another
 * tracer (`startMoaTurn({ tracer })`), its spans are whole again.
 */
export function readByFilesOnly(options: MoaInstrumentationOptions & { tracerProvider: TracerProvider }): MoaInstrumentationOptions {
  return { ...options, [FILES_ONLY_PROVIDER]: options.tracerProvider } as InternalOptions;
}

export interface StartMoaTurnOptions extends TurnOptions {
  /** The instrumentation to record with (from `setupMoaTracing()` or `createMoaSpanProcessors()`). */
  instrumentation?: MoaTurnStarter;
  /** Without an instrumentation: record on this tracer, content captured, nothing masked. */
  tracer?: Tracer;
}

let defaultInstance: MoaInstrumentation | undefined;

/**
 * The instance `startMoaTurn` records with when no pipeline is live: global
 * tracer provider, content captured, nothing masked. Its `stats` count the
 * turns that nothing recorded. (Created once; it holds no policy of anyone's.)
 */
export function defaultMoaInstrumentation(): MoaInstrumentation {
  return defaultInstance ??= new MoaInstrumentation({ [DEFAULT_INSTANCE]: true } as InternalOptions);
}

/**
 * Starts a turn with `options.instrumentation`; else on `options.tracer`
 * under the default policy; else through the most recent live
 * `setupMoaTracing` pipeline (of any loaded copy); else with the default
 * instance on the global tracer provider.
 */
export function startMoaTurn(options: StartMoaTurnOptions): MoaTurn {
  const fallback = defaultMoaInstrumentation();
  let instrumentation: MoaTurnStarter | undefined;
  let tracer: Tracer | undefined;
  try {
    // Options may be anything a caller hands over (getters that throw, a
    // proxy): only the two routing fields are read here, each on its own.
    instrumentation = readOption(options, 'instrumentation');
    tracer = readOption(options, 'tracer');
  } catch {
    // Unreadable options: the default instance records what startTurn can read.
  }
  try {
    if (instrumentation) return instrumentation.startTurn(options);
  } catch {
    // Another copy's instrumentation failed: record with the default instead of losing the turn.
  }
  if (tracer) return fallback.startTurnOn(tracer, options);
  try {
    const pipeline = latestLivePipeline();
    if (pipeline) return pipeline.startTurn(options);
  } catch {
    // A pipeline of another copy that throws: the default instance records instead.
  }
  return fallback.startTurn(options);
}

function readOption<K extends 'instrumentation' | 'tracer'>(options: StartMoaTurnOptions, key: K): StartMoaTurnOptions[K] | undefined {
  try {
    return options !== null && typeof options === 'object' ? options[key] : undefined;
  } catch {
    return undefined;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
