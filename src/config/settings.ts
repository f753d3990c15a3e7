/**
 * The OTLP export settings, resolved once from the validated configuration
 * and the standard variables of the environment it was resolved with. The
 * layers above (`setup`, the CLI) are handed this object and read no
 * variable themselves.
 */
import type { Env } from './paths.js';
import type { MoaConfig, OtlpSpanExporter } from './schema.js';
import { DEFAULT_OTLP_PROTOCOL, OtlpProtocolError, resolveOtlpProtocol, type OtlpProtocol } from './otlp-protocol.js';
import { otlpTracesUrl } from './otlp-url.js';

export const DEFAULT_OTLP_TIMEOUT_MILLIS = 10_000;
export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

export type TracesExporterName = 'otlp' | 'console';

export interface OtlpSettings {
  /** Whether spans are exported at all (OTLP and/or console). */
  enabled: boolean;
  /** From OTEL_TRACES_EXPORTER (`otlp` when unset); empty with `none`. */
  exporters: TracesExporterName[];
  protocol: OtlpProtocol;
  /** One line when a variable named a protocol that does not exist (the default is used then). */
  protocolProblem: string | undefined;
  /** Where spans go, as far as moa-otel knows it (printed, reported); undefined for the exporter's own default. */
  endpoint: string | undefined;
  /**
   * What moa-otel tells the official exporter. Undefined when the endpoint
   * came from the standard variables: the exporter then reads them itself, so
   * headers merge, and compression, timeout and certificates apply, as
   * everywhere else.
   */
  exporterConfig: { url?: string; headers?: Record<string, string>; timeoutMillis?: number };
  /**
   * The standard variables the official exporter is constructed under. With
   * moa-otel's own endpoint, the standard endpoint and headers are left out:
   * those headers are another collector's credentials, and the official
   * exporter would merge them into every request to ours.
   */
  exporterEnv: Env;
  /** The export timeout in force: it also bounds forceFlush() and shutdown(). */
  timeoutMillis: number;
  /** Share of traces exported (1 = all). */
  sampleRatio: number;
  /** An exporter the application passed in (`otlp.exporter`). */
  exporter: OtlpSpanExporter | undefined;
  /** Whether message content may leave the process over OTLP. */
  captureContent: boolean;
  maxExportBytes: number;
  maxQueueBytes: number;
}

/** OTLP export is on when asked for (`otlp.enabled`), or when an endpoint or exporter is configured; `OTEL_SDK_DISABLED=true` wins. */
export function otlpSettings(config: MoaConfig, env: Env): OtlpSettings {
  const exporters = tracesExporters(env);
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const asked = config.otlp.enabled ?? (config.otlp.endpoint !== undefined || config.otlp.exporter !== undefined || exportsToConsoleOnly(env));
  let protocol: OtlpProtocol = config.otlp.protocol ?? DEFAULT_OTLP_PROTOCOL;
  let protocolProblem: string | undefined;
  if (!config.otlp.protocol) {
    try {
      protocol = resolveOtlpProtocol(env);
    } catch (error) {
      if (!(error instanceof OtlpProtocolError)) throw error;
      protocolProblem = `moa-otel: ${error.message}; exporting with ${DEFAULT_OTLP_PROTOCOL}`;
    }
  }
  const fromStandard = config.otlp.endpoint !== undefined && config.otlp.endpoint === standardTracesEndpoint(env);
  const explicitTimeout = config.otlp.timeout_ms;
  const timeoutMillis = explicitTimeout ?? standardTimeout(env) ?? DEFAULT_OTLP_TIMEOUT_MILLIS;
  const exporterConfig: OtlpSettings['exporterConfig'] = fromStandard || config.otlp.endpoint === undefined
    ? { ...(explicitTimeout !== undefined ? { timeoutMillis: explicitTimeout } : {}) }
    : {
      url: config.otlp.endpoint,
      ...(config.otlp.headers && Object.keys(config.otlp.headers).length > 0 ? { headers: { ...config.otlp.headers } } : {}),
      ...(explicitTimeout !== undefined ? { timeoutMillis: explicitTimeout } : {}),
    };
  return {
    enabled: !disabled && asked && exporters.length > 0,
    exporters,
    protocol,
    protocolProblem,
    endpoint: config.otlp.endpoint ?? (config.otlp.exporter ? undefined : standardTracesEndpoint(env) ?? DEFAULT_OTLP_TRACES_URL),
    exporterConfig,
    exporterEnv: exporterConfig.url !== undefined ? withoutStandardEndpointAndHeaders(env) : env,
    timeoutMillis,
    sampleRatio: config.otlp.sample_ratio ?? 1,
    exporter: config.otlp.exporter,
    captureContent: config.otlp.capture_content,
    maxExportBytes: config.otlp.max_export_bytes,
    maxQueueBytes: config.otlp.max_queue_bytes,
  };
}

/** OTEL_TRACES_EXPORTER: a comma list of `otlp`, `console`, `none` (unknown names are ignored, as SDKs do with a warning). */
function tracesExporters(env: Env): TracesExporterName[] {
  const raw = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (!raw) return ['otlp'];
  const names = raw.split(',').map((name) => name.trim());
  if (names.includes('none')) return [];
  const out: TracesExporterName[] = [];
  if (names.includes('otlp')) out.push('otlp');
  if (names.includes('console')) out.push('console');
  return out.length > 0 ? out : ['otlp'];
}

/** `OTEL_TRACES_EXPORTER=console` alone turns export on without an endpoint (as it does in the SDK). */
function exportsToConsoleOnly(env: Env): boolean {
  const exporters = tracesExporters(env);
  return exporters.length === 1 && exporters[0] === 'console';
}

/** The traces URL the standard variables name (the signal-specific one as is, the generic one + `/v1/traces`). */
export function standardTracesEndpoint(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return generic ? otlpTracesUrl(generic) : undefined;
}

function standardTimeout(env: Env): number | undefined {
  return positiveNumber(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT) ?? positiveNumber(env.OTEL_EXPORTER_OTLP_TIMEOUT);
}

export interface MetricsSettings {
  /** Export moa-otel's metrics with its spans (`otlp.metrics`, not OTEL_METRICS_EXPORTER=none). */
  enabled: boolean;
  exporterConfig: { url?: string; headers?: Record<string, string>; timeoutMillis?: number };
  /** `otlp.metrics_interval_ms`, else OTEL_METRIC_EXPORT_INTERVAL; undefined for the SDK's default. */
  intervalMillis: number | undefined;
}

/**
 * Where metrics go when moa-otel exports them: `otlp.metrics_endpoint`, else,
 * when moa-otel has its own traces endpoint, that URL with `/v1/traces` →
 * `/v1/metrics`; else the exporter reads the standard variables itself.
 */
export function metricsSettings(config: MoaConfig, env: Env, otlp: OtlpSettings): MetricsSettings {
  const off = env.OTEL_METRICS_EXPORTER?.split(',').map((name) => name.trim().toLowerCase()).includes('none') ?? false;
  const own = otlp.exporterConfig.url;
  const url = config.otlp.metrics_endpoint ?? (own !== undefined && own.endsWith('/v1/traces') ? `${own.slice(0, -'/v1/traces'.length)}/v1/metrics` : undefined);
  const interval = config.otlp.metrics_interval_ms ?? positiveNumber(env.OTEL_METRIC_EXPORT_INTERVAL);
  return {
    enabled: otlp.enabled && otlp.exporters.includes('otlp') && config.otlp.metrics && !off,
    exporterConfig: url !== undefined
      ? { url, ...(otlp.exporterConfig.headers ? { headers: otlp.exporterConfig.headers } : {}), ...(otlp.exporterConfig.timeoutMillis ? { timeoutMillis: otlp.exporterConfig.timeoutMillis } : {}) }
      : { ...(otlp.exporterConfig.timeoutMillis ? { timeoutMillis: otlp.exporterConfig.timeoutMillis } : {}) },
    intervalMillis: interval,
  };
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text?.trim() || Number.NaN);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The environment without OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS. */
export function withoutStandardEndpointAndHeaders(env: Env): Env {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (/^OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)?(ENDPOINT|HEADERS)$/.test(name)) continue;
    out[name] = value;
  }
  return out;
}
