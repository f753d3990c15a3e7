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
  #meterProvider: MeterProvider | undefined;
  #env: TurnEnvironment | undefined;
  readonly #problems = diagProblemReporter();

  constructor(options: MoaInstrumentationOptions = {}) {
    const { tracerProvider: _provider, meterProvider, env, ...policy } = options;
    this.#meterProvider = meterProvider;
    // Explicit options win over the standard environment switches.
    this.policy = new ContentPolicy({ ...standardContentSwitches(env ?? process.env), ...stripUndefined(policy) });
    this.#provider = options.tracerProvider;
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

  private environment(): TurnEnvironment {
    return this.#env ??= {
      tracer: (this.#provider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION),
      policy: this.policy,
      problems: this.#problems,
      metrics: new MoaMetrics(() => this.#meterProvider ?? metrics.getMeterProvider()),
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
  // A caller bug (no options at all) still gets a turn: startTurn copes with missing fields.
  const { instrumentation, tracer, ...turn } = (options ?? {}) as StartMoaTurnOptions;
  if (instrumentation) return instrumentation.startTurn(turn);
  const fallback = (defaultInstance ??= new MoaInstrumentation());
  return tracer ? fallback.startTurnOn(tracer, turn) : fallback.startTurn(turn);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
