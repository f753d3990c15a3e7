/**
 * `MoaInstrumentation`: the object that records MoA turns. It owns its tracer
 * (from the tracer provider it is given, by default the global one) and its
 * content policy (redaction, span content); nothing else in the process
 * decides what its spans contain. `startMoaTurn` is sugar over a default
 * instance that captures content and masks nothing.
 */
import { metrics, trace, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { MoaMetrics } from './metrics.js';
import { PACKAGE_VERSION } from '../base/version.js';
import { INSTRUMENTATION_SCOPE } from './attributes.js';
import type { Env } from '../config/paths.js';
import { ContentPolicy, standardContentSwitches, type ContentPolicyOptions } from './content-policy.js';
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
}

/** What `startMoaTurn({ instrumentation })` needs: also satisfied by an instance from another loaded copy of moa-otel. */
export interface MoaTurnStarter {
  startTurn(options: TurnOptions): MoaTurn;
}

export class MoaInstrumentation implements MoaTurnStarter {
  readonly policy: ContentPolicy;
  #provider: TracerProvider | undefined;
  #recordingExpectedFor: string | undefined;
  #turnsNotRecorded = 0;
  #meterProvider: MeterProvider | undefined;
  #env: TurnEnvironment | undefined;
  readonly #problems = diagProblemReporter();

  constructor(options: MoaInstrumentationOptions = {}) {
    const { tracerProvider: _provider, meterProvider, env, spanContent, recordingExpectedFor, ...policy } = options;
    this.#recordingExpectedFor = recordingExpectedFor;
    this.#meterProvider = meterProvider;
    // Explicit options win over the standard environment switches; the
    // `spanContent` shorthand is an explicit capture mode too.
    const explicit = stripUndefined({ ...policy, ...(spanContent !== undefined && policy.capture === undefined ? { capture: spanContent ? 'SPAN_ONLY' as const : 'NO_CONTENT' as const } : {}) });
    this.policy = new ContentPolicy({ ...standardContentSwitches(env ?? process.env), ...explicit });
    this.#provider = options.tracerProvider;
  }

  /** Turns the tracer provider did not record (sampled out) while recording was expected. */
  get stats(): { turnsNotRecorded: number } {
    return { turnsNotRecorded: this.#turnsNotRecorded };
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
    this.#env = undefined;
  }

  /** Starts one MoA iteration (the root span). Never throws. */
  readonly startTurn = (options: TurnOptions): MoaTurn => startTurn(this.environment(), options);

  /** @internal a turn on another tracer under this instrumentation's policy (the `tracer` option of `startMoaTurn`). */
  startTurnOn(tracer: Tracer, options: TurnOptions): MoaTurn {
    return startTurn({ ...this.environment(), tracer }, options);
  }

  /** Points this instrumentation's metrics at a meter provider (default: the global one). */
  setMeterProvider(provider: MeterProvider): void {
    this.#meterProvider = provider;
    this.#env = undefined;
  }

  private turnNotRecorded(lost: string): void {
    this.#turnsNotRecorded += 1;
    this.#problems.fail('not recorded', () => `moa-otel: the tracer provider's sampler did not record an MoA turn, so it is missing from ${lost}; `
      + 'sample the `moa-otel` scope always (or use setupMoaTracing, whose provider always records). Later ones are counted in instrumentation.stats.turnsNotRecorded');
  }

  private environment(): TurnEnvironment {
    return this.#env ??= {
      tracer: (this.#provider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION),
      policy: this.policy,
      problems: this.#problems,
      metrics: new MoaMetrics(() => this.#meterProvider ?? metrics.getMeterProvider()),
      ...(this.#recordingExpectedFor !== undefined ? { notRecorded: () => this.turnNotRecorded(this.#recordingExpectedFor as string) } : {}),
    };
  }
}

export interface StartMoaTurnOptions extends TurnOptions {
  /** The instrumentation to record with (from `setupMoaTracing()` or `createMoaSpanProcessors()`). */
  instrumentation?: MoaTurnStarter;
  /** Without an instrumentation: record on this tracer, content captured, nothing masked. */
  tracer?: Tracer;
}

let defaultInstance: MoaInstrumentation | undefined;

/**
 * Starts a turn with `options.instrumentation`, else with the default
 * instance: global tracer provider, content captured, nothing masked. (The
 * default is created once and never changes: it holds no policy of anyone's.)
 */
export function startMoaTurn(options: StartMoaTurnOptions): MoaTurn {
  const fallback = (defaultInstance ??= new MoaInstrumentation());
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
  return tracer ? fallback.startTurnOn(tracer, options) : fallback.startTurn(options);
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
