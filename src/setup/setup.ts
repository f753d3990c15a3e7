/**
 * `setupMoaTracing`: one call that builds the processors from options,
 * environment and config file, and — only when something is enabled — a
 * NodeTracerProvider for them. With everything off no provider exists and an
 * instrumented turn costs a no-op span.
 */
import { diag, trace, type Tracer } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { MoaOptions, ResolveConfigContext } from '../config/load.js';
import type { MoaConfig } from '../config/schema.js';
import type { JsonlTurnExporter } from '../export/jsonl-exporter.js';
import { INSTRUMENTATION_SCOPE } from '../trace/attributes.js';
import { PACKAGE_VERSION } from '../base/version.js';
import { buildMoaProcessors } from './processors.js';
import { buildResource } from './resource.js';
import { setTracerContentPolicy } from '../trace/content-policy.js';

export interface MoaTracing {
  tracer: Tracer;
  /** True when at least one exporter (JSONL or OTLP) is active. */
  enabled: boolean;
  config: MoaConfig;
  /** The JSONL exporter, when `save_traces` is on (its `stats` count lines and errors). */
  jsonl: JsonlTurnExporter | undefined;
  /** Where OTLP spans go, when OTLP is on. */
  otlpUrl: string | undefined;
  forceFlush(): Promise<void>;
  /** Flushes everything that ended, then stops. Never rejects. */
  shutdown(): Promise<void>;
}

export interface SetupOptions extends ResolveConfigContext {
  /** Make this provider the global one (default true, ignored when nothing is enabled). */
  registerGlobal?: boolean;
}

export function setupMoaTracing(options: MoaOptions = {}, setup: SetupOptions = {}): MoaTracing {
  const { config, processors, contentPolicy, jsonl, otlpUrl } = buildMoaProcessors(options, setup);
  if (processors.length === 0) {
    return {
      tracer: trace.getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION),
      enabled: false, config, jsonl, otlpUrl,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const resource = buildResource(config.service_name, setup.env ?? process.env);
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  if (setup.registerGlobal ?? true) provider.register();
  const tracer = provider.getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
  setTracerContentPolicy(tracer, contentPolicy);
  return {
    tracer,
    enabled: true, config, jsonl, otlpUrl,
    forceFlush: () => provider.forceFlush().catch((err: unknown) => report('forceFlush', err)),
    shutdown: () => provider.shutdown().catch((err: unknown) => report('shutdown', err)),
  };
}

function report(what: string, err: unknown): void {
  diag.error(`moa-otel: tracing ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
}
