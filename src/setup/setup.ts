/**
 * `setupMoaTracing`: one call that builds moa-otel's pipeline (JSONL and/or
 * OTLP) from options, environment and config file, and an instrumentation
 * that records into it.
 *
 * The pipeline runs on moa-otel's own small tracer provider, which is never
 * registered as the process's global one: OpenTelemetry's global slots belong
 * to the application, and taking one first would refuse the application's own
 * registration later (the order of setup calls is not ours to choose). So
 * either order leaves the app's tracing intact; an app that wants MoA spans in
 * its own provider uses `createMoaSpanProcessors()` instead.
 */
import { createNoopMeter, diag, metrics, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { errorText } from '../base/errors.js';
import type { MoaOptions, ResolveConfigContext } from '../config/load.js';
import { displayUrl } from '../config/otlp-url.js';
import type { MoaConfig } from '../config/schema.js';
import { resolveSettings, type MoaSettings } from '../config/settings.js';
import type { JsonlSpanProcessor } from '../export/jsonl-exporter.js';
import { settleWithin } from '../otel/deadline.js';
import { loadMetricsPipeline, type MetricsPipeline } from '../otel/load-metrics.js';
import { OwnTracerProvider } from '../otel/own-provider.js';
import { globalTracerProviderRegistered } from '../trace/global-provider.js';
import { MoaInstrumentation, readByFilesOnly } from '../trace/instrumentation.js';
import { addLivePipeline } from '../trace/live-pipelines.js';
import { buildProcessors, contentOptions, type OtlpStats } from './processors.js';

export type { OtlpStats } from './processors.js';

export interface MoaTracing {
  /**
   * Records turns into this pipeline: `tracing.instrumentation.startTurn(...)`, `createMoaClient({ instrumentation })`.
   * `startMoaTurn()` without an instrumentation also records here while this is the most recent live pipeline.
   */
  instrumentation: MoaInstrumentation;
  /** True when at least one exporter (JSONL or OTLP) is active. */
  enabled: boolean;
  config: MoaConfig;
  /** The JSONL processor, when `save_traces` is on (its `stats` count lines, partial turns and errors). */
  jsonl: JsonlSpanProcessor | undefined;
  /** Where OTLP spans go, when OTLP is on. */
  otlpUrl: string | undefined;
  /** What OTLP export did so far: spans sent, failed, dropped and not sampled (undefined when OTLP is off). */
  otlpStats(): OtlpStats | undefined;
  /** The meter provider moa-otel built from the application's sdk-metrics, when it exports metrics itself. */
  meterProvider: MeterProvider | undefined;
  /** moa-otel's own provider when enabled (never registered globally unless `registerGlobal`). */
  tracerProvider: TracerProvider | undefined;
  forceFlush(): Promise<void>;
  /** Writes what is still open as partial records, flushes, then stops. Never rejects. */
  shutdown(): Promise<void>;
}

export interface SetupOptions extends ResolveConfigContext {
  /**
   * Also make moa-otel's provider the global one, when no application
   * provider is registered (default false: see the module comment).
   */
  registerGlobal?: boolean;
  /** Where the one-line notices go (an application-owned provider, a missing exporter package; default stderr). */
  notice?: (line: string) => void;
  /** Measure through this meter provider (default: the global one, or one setup builds when it exports). */
  meterProvider?: MeterProvider;
  /** Where the application lives, to load OpenTelemetry packages from (default `process.cwd()`). */
  cwd?: string;
}

export function setupMoaTracing(options: MoaOptions = {}, setup: SetupOptions = {}): MoaTracing {
  const env = setup.env ?? process.env;
  const notice = setup.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const settings = resolveSettings(options, setup);
  const { config } = settings;
  const built = buildProcessors(settings, { notice, spanContentOnlyForOtlp: true, ...(setup.cwd !== undefined ? { cwd: setup.cwd } : {}) });
  const { policy, jsonl, otlp, active: processors, otlpUrl, otlpStats } = built;
  if (processors.length === 0) {
    // Nothing of ours to feed: turns go to whatever provider the application has (or nowhere).
    return {
      instrumentation: new MoaInstrumentation({ ...contentOptions(settings), env, insightsLive: config.insights_live, ...(setup.meterProvider ? { meterProvider: setup.meterProvider } : {}) }),
      enabled: false, config, jsonl, otlpUrl, otlpStats, tracerProvider: undefined, meterProvider: undefined,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const provider = new OwnTracerProvider({ resourceAttributes: settings.resource, processors });
  const timeoutMillis = built.otlpSettings.timeoutMillis;
  const metricsPipeline = otlp && !setup.meterProvider ? buildMetricsPipeline(settings, notice, setup.cwd) : undefined;
  const meterProvider = setup.meterProvider ?? metricsPipeline?.meterProvider;
  // The pipeline's one policy: what the instrumentation masks is what every sink recognizes as its own.
  const instrumentationOptions = {
    policy,
    insightsLive: config.insights_live,
    tracerProvider: provider,
    ...(meterProvider ? { meterProvider } : {}),
    env,
  };
  // Without OTLP export the provider's one processor is the JSONL sink: its spans need only what the file is written from.
  const instrumentation = new MoaInstrumentation(otlp === undefined ? readByFilesOnly(instrumentationOptions) : instrumentationOptions);
  const appOwnsProvider = globalTracerProviderRegistered();
  if (setup.registerGlobal && !appOwnsProvider) trace.setGlobalTracerProvider(provider);
  if (appOwnsProvider) {
    notice(
      'moa-otel: this application already has an OpenTelemetry tracer provider; setupMoaTracing left it alone and records MoA turns '
      + `through its own pipeline (${describePipeline(jsonl !== undefined, otlpUrl)}) via tracing.instrumentation. `
      + 'To put MoA spans into your provider instead, add createMoaSpanProcessors() to it.');
  }
  // startMoaTurn() without an instrumentation records here until shutdown (then through the pipeline before).
  const removeLive = addLivePipeline(instrumentation);
  // Both are bounded by the export timeout as a whole (and each processor by it too), so a collector
  // that is down costs a shutdown at most that long, not the sum of every stage's wait.
  const bounded = (what: string, work: () => Promise<unknown>) => settleWithin(
    Promise.resolve().then(work).catch((err: unknown) => report(what, err)), timeoutMillis + 1_000,
  ).then(() => undefined);
  return {
    instrumentation,
    enabled: true, config, jsonl, otlpUrl, otlpStats, tracerProvider: provider,
    meterProvider: metricsPipeline?.meterProvider,
    // Nothing to wait for (every line written, no exporter, no metrics pipeline): no deadline timer to arm and clear.
    forceFlush: () => (metricsPipeline === undefined && provider.idle
      ? Promise.resolve()
      : bounded('forceFlush', () => Promise.all([provider.forceFlush(), metricsPipeline?.forceFlush()]))),
    shutdown: () => {
      removeLive();
      return bounded('shutdown', () => Promise.all([provider.shutdown(), metricsPipeline?.shutdown()]));
    },
  };
}

/**
 * When setup exports and the application has no meter provider of its own,
 * a metrics pipeline from the application's sdk-metrics and OTLP metrics
 * exporter (one line when they are missing; metrics then go through the global provider).
 */
function buildMetricsPipeline(all: MoaSettings, notice: (line: string) => void, cwd: string | undefined): MetricsPipeline | undefined {
  const { otlp, metrics: settings } = all;
  if (!settings.enabled || otlp.exporter !== undefined || applicationMeterProviderRegistered()) return undefined;
  const load = loadMetricsPipeline({
    protocol: settings.protocol,
    exporterConfig: settings.exporterConfig,
    ...(settings.intervalMillis !== undefined ? { intervalMillis: settings.intervalMillis } : {}),
    resourceAttributes: all.resource,
    timeoutMillis: otlp.timeoutMillis,
    env: otlp.exporterEnv,
    ...(cwd !== undefined ? { cwd } : {}),
  });
  if (!load.ok) {
    notice(load.line);
    return undefined;
  }
  return load.pipeline;
}

/** Whether the application registered a global meter provider (the API's default hands out no-op meters). */
function applicationMeterProviderRegistered(): boolean {
  // Compared by class, not by name: a bundler may rename classes.
  return metrics.getMeterProvider().getMeter('moa-otel').constructor !== createNoopMeter().constructor;
}

function describePipeline(jsonl: boolean, otlpUrl: string | undefined): string {
  return [jsonl ? 'JSONL files' : '', otlpUrl ? `OTLP to ${displayUrl(otlpUrl)}` : ''].filter(Boolean).join(' and ');
}

function report(what: string, err: unknown): void {
  diag.error(`moa-otel: tracing ${what} failed: ${errorText(err)}`);
}
