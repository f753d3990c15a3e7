/**
 * Where, how and how often metrics are exported, from the resolved
 * configuration and the standard OpenTelemetry variables:
 *
 *  - on whenever OTLP export is on and `otlp.metrics` is not false, unless
 *    `OTEL_METRICS_EXPORTER=none`;
 *  - the URL: `otlp.metrics_endpoint`, else OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
 *    (as is), else the traces endpoint with `/v1/traces` → `/v1/metrics`, else
 *    OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/metrics`. A traces endpoint that came
 *    from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT does not steer metrics when
 *    OTEL_EXPORTER_OTLP_ENDPOINT is set: signal-specific variables apply to
 *    their own signal (traces may go to a store that takes no metrics);
 *  - the protocol: `otlp.protocol`, else OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
 *    else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf;
 *  - headers: OTEL_EXPORTER_OTLP_METRICS_HEADERS, else `otlp.headers`;
 *  - the interval: `otlp.metrics_interval_ms`, else OTEL_METRIC_EXPORT_INTERVAL,
 *    else 60000; the export timeout: OTEL_METRIC_EXPORT_TIMEOUT, else
 *    `otlp.timeout_ms`.
 *
 * A bad value is one `MoaConfigError` line naming where it came from.
 */
import { diag } from '@opentelemetry/api';
import { MoaConfigError } from '../../config/load.js';
import { OTLP_TRACES_PATH } from '../../config/otlp-url.js';
import type { Env } from '../../config/paths.js';
import { MAX_TIMEOUT_MS, otlpSchema, type MoaConfig } from '../../config/schema.js';
import { displayUrl } from '../otlp/http-sender.js';
import { OtlpProtocolError, resolveOtlpProtocol, type OtlpProtocol } from '../otlp/protocol.js';
import { otlpExportWanted } from '../otlp/wanted.js';
import { DEFAULT_EXPORT_INTERVAL_MILLIS } from './periodic-reader.js';

export const OTLP_METRICS_PATH = '/v1/metrics';
/** Where metrics go when OTLP is on without any endpoint: next to the default traces URL, http://localhost:4318/v1/traces. */
export const DEFAULT_OTLP_METRICS_URL = `http://localhost:4318${OTLP_METRICS_PATH}`;

export interface MetricsSettings {
  url: string;
  protocol: OtlpProtocol;
  headers: Readonly<Record<string, string>>;
  intervalMillis: number;
  timeoutMillis: number;
}

export type MetricsDecision =
  | { export: true; settings: MetricsSettings }
  /** `reason` is set when metrics were wanted but cannot go anywhere (one line for the log). */
  | { export: false; reason?: string };

export function resolveMetricsSettings(config: MoaConfig, env: Env): MetricsDecision {
  if (!otlpExportWanted(config, env) || !config.otlp.metrics) return { export: false };
  if (env.OTEL_METRICS_EXPORTER?.trim().toLowerCase() === 'none') return { export: false };
  const url = metricsUrl(config, env);
  if (url === undefined) {
    return {
      export: false,
      reason: `moa-otel: metrics are not exported: no metrics URL follows from the traces endpoint ${shownUrl(config.otlp.endpoint ?? '')} `
        + '(it does not end in /v1/traces); set otlp.metrics_endpoint or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    };
  }
  return {
    export: true,
    settings: {
      url,
      protocol: metricsProtocol(config, env),
      headers: metricsHeaders(config, env, url),
      intervalMillis: config.otlp.metrics_interval_ms ?? positiveIntegerVariable(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? DEFAULT_EXPORT_INTERVAL_MILLIS,
      timeoutMillis: positiveIntegerVariable(env, 'OTEL_METRIC_EXPORT_TIMEOUT') ?? config.otlp.timeout_ms,
    },
  };
}

function metricsUrl(config: MoaConfig, env: Env): string | undefined {
  if (config.otlp.metrics_endpoint !== undefined) return config.otlp.metrics_endpoint;
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  if (specific !== undefined) return checkedUrl(specific, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const generic = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const traces = config.otlp.endpoint;
  const tracesFromTheirVariable = traces !== undefined && traces === nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (traces !== undefined && !(tracesFromTheirVariable && generic !== undefined)) {
    const derived = metricsUrlFromTraces(traces);
    if (derived !== undefined) return derived;
  }
  if (generic !== undefined) return checkedUrl(metricsUrlOfBase(generic), 'OTEL_EXPORTER_OTLP_ENDPOINT');
  return traces === undefined ? DEFAULT_OTLP_METRICS_URL : undefined;
}

/** `…/v1/traces` → `…/v1/metrics`, query kept; undefined for any other path. */
function metricsUrlFromTraces(tracesUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(tracesUrl);
  } catch {
    return undefined;
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (!path.endsWith(OTLP_TRACES_PATH)) return undefined;
  url.pathname = `${path.slice(0, -OTLP_TRACES_PATH.length)}${OTLP_METRICS_PATH}`;
  return url.toString();
}

/** `http://host:4318` → `http://host:4318/v1/metrics`; a base that already is the metrics URL is kept. */
function metricsUrlOfBase(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith(OTLP_METRICS_PATH) ? trimmed : `${trimmed}${OTLP_METRICS_PATH}`;
}

function checkedUrl(value: string, variable: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new MoaConfigError(`moa config: ${variable}: expected an http(s) URL, got ${JSON.stringify(shownUrl(value))}`);
  }
  return value;
}

/** A URL as it may appear in a message: without user info or query, which may hold a key. */
function shownUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return displayUrl(url);
  } catch {
    // Not a URL: cut what could be secret from the text itself.
  }
  return value.replace(/[?#].*$/, '').replace(/\/\/[^/@]*@/, '//').slice(0, 200);
}

function metricsProtocol(config: MoaConfig, env: Env): OtlpProtocol {
  if (config.otlp.protocol) return config.otlp.protocol;
  try {
    return resolveOtlpProtocol(env, 'metrics');
  } catch (error) {
    if (!(error instanceof OtlpProtocolError)) throw error;
    // A protocol moa-otel does not speak (grpc) names some other exporter's choice: export anyway, say so once.
    diag.warn(`moa-otel: ${error.message}; moa-otel exports metrics with http/protobuf`);
    return 'http/protobuf';
  }
}

function metricsHeaders(config: MoaConfig, env: Env, url: string): Readonly<Record<string, string>> {
  // The standard metrics headers carry the credentials of a standard metrics
  // endpoint: they go only where one of the standard variables sends metrics.
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  const generic = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const standardUrl = url === specific || (generic !== undefined && url === metricsUrlOfBase(generic));
  if (!standardUrl) return config.otlp.headers ?? {};
  const text = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS);
  if (text === undefined) return config.otlp.headers ?? {};
  const parsed = otlpSchema.shape.headers.safeParse(text);
  // Never echo header values: they are usually credentials.
  if (!parsed.success || parsed.data === undefined) throw new MoaConfigError('moa config: OTEL_EXPORTER_OTLP_METRICS_HEADERS: expected key=value pairs separated by commas');
  return parsed.data;
}

function positiveIntegerVariable(env: Env, name: string): number | undefined {
  const text = nonEmpty(env[name]);
  if (text === undefined) return undefined;
  const value = Number(text);
  // Node.js fires a longer timer after 1 ms: past the cap, the interval would be a busy loop.
  if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new MoaConfigError(`moa config: ${name}: expected a positive integer of milliseconds up to ${MAX_TIMEOUT_MS}, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
