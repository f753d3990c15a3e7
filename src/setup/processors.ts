/**
 * The span processors moa-otel contributes to a tracer provider, from one
 * resolved configuration: the JSONL turn exporter (lossless, synchronous) and
 * the OTLP/HTTP exporter (batched, size-bounded).
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resolveConfig, type MoaOptions, type ResolveConfigContext } from '../config/load.js';
import type { MoaConfig } from '../config/schema.js';
import type { Env } from '../config/paths.js';
import { JsonlTurnExporter } from '../export/jsonl-exporter.js';
import { SizeBoundedSpanExporter } from '../export/otlp-size-guard.js';
import { contentPolicyFor, setDefaultContentPolicy, type ContentPolicy } from '../trace/content-policy.js';

export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

export interface MoaProcessors {
  config: MoaConfig;
  processors: SpanProcessor[];
  /** What the tracer of a provider holding only these processors should serialize. */
  contentPolicy: ContentPolicy;
  jsonl: JsonlTurnExporter | undefined;
  otlpUrl: string | undefined;
}

/** OTLP is on when asked for, or when an endpoint is configured and not explicitly off; OTEL_SDK_DISABLED wins. */
export function otlpWanted(config: MoaConfig, env: Env): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  return config.otlp.enabled ?? config.otlp.endpoint !== undefined;
}

export function buildMoaProcessors(options: MoaOptions = {}, context: ResolveConfigContext = {}): MoaProcessors {
  const env = context.env ?? process.env;
  const config = resolveConfig(options, context);
  // Tracers of providers we do not own may feed other processors: content on.
  setDefaultContentPolicy(contentPolicyFor(config.redact, true));
  const processors: SpanProcessor[] = [];
  let jsonl: JsonlTurnExporter | undefined;
  let otlpUrl: string | undefined;
  if (config.save_traces) {
    jsonl = new JsonlTurnExporter({
      traceDir: config.trace_dir,
      traceCacheHits: config.trace_cache_hits,
      profile: config.profile,
      env,
    });
    processors.push(new SimpleSpanProcessor(jsonl));
  }
  if (otlpWanted(config, env)) {
    otlpUrl = config.otlp.endpoint ?? DEFAULT_OTLP_TRACES_URL;
    const otlp = new OTLPTraceExporter({
      url: otlpUrl,
      headers: config.otlp.headers ?? {},
      timeoutMillis: config.otlp.timeout_ms,
    });
    processors.push(new BatchSpanProcessor(new SizeBoundedSpanExporter(otlp, {
      maxExportBytes: config.otlp.max_export_bytes,
      captureContent: config.otlp.capture_content,
    })));
  }
  // Span content is read only by the OTLP exporter (the JSONL file has its own exact copy).
  const contentPolicy = contentPolicyFor(config.redact, otlpUrl !== undefined && config.otlp.capture_content);
  return { config, processors, contentPolicy, jsonl, otlpUrl };
}

/** For applications that own their provider: `new NodeTracerProvider({ spanProcessors: [...createMoaSpanProcessors()] })`. */
export function createMoaSpanProcessors(options: MoaOptions = {}, context: ResolveConfigContext = {}): SpanProcessor[] {
  return buildMoaProcessors(options, context).processors;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}
