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
import { diag, trace, type TracerProvider } from '@opentelemetry/api';
import { errorText } from '../base/errors.js';
import { resolveConfig, type MoaOptions, type ResolveConfigContext } from '../config/load.js';
import { displayUrl } from '../config/otlp-url.js';
import type { MoaConfig } from '../config/schema.js';
import type { JsonlSpanProcessor } from '../export/jsonl-exporter.js';
import { globalTracerProviderRegistered } from '../trace/global-provider.js';
import { MoaInstrumentation } from '../trace/instrumentation.js';
import { addLivePipeline } from '../trace/live-pipelines.js';
import { buildMetricsPipeline } from '../export/otlp-metrics/index.js';
import { OwnTracerProvider } from './own-provider.js';
import { buildProcessors, contentOptions } from './processors.js';
import { buildResource } from './resource.js';

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
  /** What OTLP export did so far: spans sent, failed and dropped (undefined when OTLP is off). */
  otlpStats(): OtlpStats | undefined;
  /** Where moa-otel's metrics go, when it exports them (else through the application's meter). */
  metricsUrl: string | undefined;
  /** moa-otel's own provider when enabled (never registered globally unless `registerGlobal`). */
  tracerProvider: TracerProvider | undefined;
  forceFlush(): Promise<void>;
  /** Writes what is still open as partial records, flushes, then stops. Never rejects. */
  shutdown(): Promise<void>;
}

export interface OtlpStats {
  /** Spans the backend accepted. */
  exportedSpans: number;
  /** Spans whose export failed (backend down, rejected, timed out). */
  failedSpans: number;
  /** Spans dropped before export because the queue was over its bound. */
  droppedSpans: number;
}

export interface SetupOptions extends ResolveConfigContext {
  /**
   * Also make moa-otel's provider the global one, when no application
   * provider is registered (default false: see the module comment).
   */
  registerGlobal?: boolean;
  /** Where the one-line notice about an application-owned provider goes (default stderr). */
  notice?: (line: string) => void;
}

export function setupMoaTracing(options: MoaOptions = {}, setup: SetupOptions = {}): MoaTracing {
  const env = setup.env ?? process.env;
  const config = resolveConfig(options, setup);
  const { policy, jsonl, otlp, active: processors, otlpUrl, otlpExport } = buildProcessors(config, env, { spanContentOnlyForOtlp: true });
  const otlpStats = (): OtlpStats | undefined => otlpExport && {
    exportedSpans: otlpExport.exporter.stats.exportedSpans,
    failedSpans: otlpExport.exporter.stats.failedSpans + otlpExport.exporter.stats.rejectedSpans,
    droppedSpans: otlpExport.queue.stats.droppedSpans,
  };
  if (processors.length === 0) {
    // Nothing of ours to feed: turns go to whatever provider the application has (or nowhere).
    return {
      instrumentation: new MoaInstrumentation({ ...contentOptions(config, env), env }),
      enabled: false, config, jsonl, otlpUrl, otlpStats, tracerProvider: undefined, metricsUrl: undefined,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const resource = buildResource(config.service_name, env);
  const provider = new OwnTracerProvider({ resourceAttributes: resource.attributes, processors });
  // When moa-otel exports, its metrics go with its spans; otherwise through the application's meter.
  const metricsPipeline = otlp ? buildMetricsPipeline(config, env, { resourceAttributes: resource.attributes }) : undefined;
  // The pipeline's one policy: what the instrumentation masks is what every sink recognizes as its own.
  const instrumentation = new MoaInstrumentation({
    policy,
    tracerProvider: provider,
    ...(metricsPipeline ? { meterProvider: metricsPipeline.meterProvider } : {}),
    env,
  });
  const appOwnsProvider = globalTracerProviderRegistered();
  if (setup.registerGlobal && !appOwnsProvider) trace.setGlobalTracerProvider(provider);
  if (appOwnsProvider) {
    (setup.notice ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      'moa-otel: this application already has an OpenTelemetry tracer provider; setupMoaTracing left it alone and records MoA turns '
      + `through its own pipeline (${describePipeline(jsonl !== undefined, otlpUrl)}) via tracing.instrumentation. `
      + 'To put MoA spans into your provider instead, add createMoaSpanProcessors() to it.');
  }
  // startMoaTurn() without an instrumentation records here until shutdown (then through the pipeline before).
  const removeLive = addLivePipeline(instrumentation);
  return {
    instrumentation,
    enabled: true, config, jsonl, otlpUrl, otlpStats, tracerProvider: provider,
    metricsUrl: metricsPipeline?.url,
    forceFlush: () => Promise.all([provider.forceFlush(), metricsPipeline?.forceFlush()]).then(() => undefined, (err: unknown) => report('forceFlush', err)),
    shutdown: () => {
      removeLive();
      return Promise.all([provider.shutdown(), metricsPipeline?.shutdown()]).then(() => undefined, (err: unknown) => report('shutdown', err));
    },
  };
}

function describePipeline(jsonl: boolean, otlpUrl: string | undefined): string {
  return [jsonl ? 'JSONL files' : '', otlpUrl ? `OTLP to ${displayUrl(otlpUrl)}` : ''].filter(Boolean).join(' and ');
}

function report(what: string, err: unknown): void {
  diag.error(`moa-otel: tracing ${what} failed: ${errorText(err)}`);
}
