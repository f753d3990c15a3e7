/**
 * Starts the real services of the pipeline from the binaries that
 * `scripts/stack.sh build` produced (paths handed over by the global setup):
 * Jaeger v2 with in-memory storage and the moa-otel collector, both on
 * 127.0.0.1 and on free ports, configured through the same config files a
 * person uses (collector/otelcol.yaml, collector/jaeger-local.yaml).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { freePort, startService, waitForHealthy, type ServiceProcess } from './processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const COLLECTOR_CONFIG = join(REPO_ROOT, 'collector', 'otelcol.yaml');
export const JAEGER_CONFIG = join(REPO_ROOT, 'collector', 'jaeger-local.yaml');

export function binaries(): { otelcol: string; jaeger: string } {
  return { otelcol: inject('otelcolBin'), jaeger: inject('jaegerBin') };
}

/** Only what the binaries need: nothing from the developer's OTEL_* settings leaks in. */
export function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

export interface Jaeger {
  service: ServiceProcess;
  /** Base URL of the query API, e.g. http://127.0.0.1:12345 */
  queryUrl: string;
  /** host:port of its OTLP/gRPC receiver, for the collector's exporter. */
  otlpGrpcEndpoint: string;
  stop(): Promise<void>;
}

export interface JaegerOptions {
  /** Its OTLP/gRPC receiver's limit in MiB (collector/jaeger-local.yaml: 64; gRPC's default: 4). */
  maxRecvMsgSizeMib?: number;
}

export async function startJaeger(workDir: string, options: JaegerOptions = {}): Promise<Jaeger> {
  const [otlpGrpc, queryHttp, queryGrpc, health] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const env = {
    ...baseEnv(),
    JAEGER_HOST: '127.0.0.1',
    JAEGER_OTLP_GRPC_PORT: String(otlpGrpc),
    JAEGER_QUERY_HTTP_PORT: String(queryHttp),
    JAEGER_QUERY_GRPC_PORT: String(queryGrpc),
    JAEGER_HEALTH_PORT: String(health),
    ...(options.maxRecvMsgSizeMib !== undefined ? { JAEGER_OTLP_MAX_RECV_MSG_SIZE_MIB: String(options.maxRecvMsgSizeMib) } : {}),
  };
  await mkdir(workDir, { recursive: true });
  const service = startService('jaeger', binaries().jaeger, ['--config', JAEGER_CONFIG], env, join(workDir, 'jaeger.log'));
  await waitForHealthy(service, `http://127.0.0.1:${health}/status`);
  return {
    service,
    queryUrl: `http://127.0.0.1:${queryHttp}`,
    otlpGrpcEndpoint: `127.0.0.1:${otlpGrpc}`,
    stop: () => service.stop(),
  };
}

export interface CollectorOptions {
  /** Where otlp_grpc/jaeger sends; unused when `tracesExporters` leaves it out. */
  jaegerOtlpGrpcEndpoint: string;
  /** TRACES_EXPORTERS, a YAML list (collector/otelcol.yaml); e.g. '[file/spans]' for a test that needs no Jaeger. */
  tracesExporters?: string;
  /** Where the file exporter writes OTLP JSON lines. */
  spanFile: string;
  /** The HTTP receiver's max_request_body_size (collector default: 20 MiB). */
  maxRequestBodyBytes?: number;
  /** Fixed ports, e.g. to start a collector where a test already sends. */
  httpPort?: number;
  grpcPort?: number;
  /** Where the metrics pipeline's file exporter writes (default: beside spanFile). */
  metricsFile?: string;
  /** Base URL of a Phoenix to add as a traces exporter (otlp_http/phoenix). */
  phoenixUrl?: string;
  /** A fixed port for the Prometheus exporter's /metrics (default: a free one, so parallel collectors never share 8889). */
  prometheusPort?: number;
}

export interface Collector {
  service: ServiceProcess;
  /** OTLP/HTTP base endpoint, e.g. http://127.0.0.1:4318 (traces go to /v1/traces). */
  otlpHttpUrl: string;
  httpPort: number;
  spanFile: string;
  metricsFile: string;
  /** The Prometheus exporter's scrape URL, e.g. http://127.0.0.1:8889/metrics */
  prometheusUrl: string;
  stop(): Promise<void>;
}

export async function startCollector(workDir: string, options: CollectorOptions): Promise<Collector> {
  const httpPort = options.httpPort ?? (await freePort());
  const [grpcPort, health, prometheusPort] = await Promise.all([options.grpcPort ?? freePort(), freePort(), options.prometheusPort ?? freePort()]);
  const metricsFile = options.metricsFile ?? join(dirname(options.spanFile), 'metrics.jsonl');
  const env = {
    ...baseEnv(),
    OTLP_HOST: '127.0.0.1',
    OTLP_GRPC_PORT: String(grpcPort),
    OTLP_HTTP_PORT: String(httpPort),
    HEALTH_CHECK_PORT: String(health),
    PROMETHEUS_PORT: String(prometheusPort),
    JAEGER_OTLP_ENDPOINT: options.jaegerOtlpGrpcEndpoint,
    SPAN_FILE_PATH: options.spanFile,
    METRICS_FILE_PATH: metricsFile,
    SPAN_FILE_FLUSH_INTERVAL: '100ms',
    BATCH_TIMEOUT: '200ms',
    COLLECTOR_METRICS_LEVEL: 'none',
    ...(options.maxRequestBodyBytes !== undefined ? { OTLP_HTTP_MAX_REQUEST_BODY_SIZE: String(options.maxRequestBodyBytes) } : {}),
    ...(options.tracesExporters !== undefined ? { TRACES_EXPORTERS: options.tracesExporters } : {}),
    // The same knobs a docker-compose user sets to add Phoenix (collector/otelcol.yaml).
    ...(options.phoenixUrl !== undefined
      ? { TRACES_EXPORTERS: '[otlp_grpc/jaeger, file/spans, otlp_http/phoenix]', PHOENIX_ENDPOINT: options.phoenixUrl }
      : {}),
  };
  await mkdir(workDir, { recursive: true });
  const service = startService('collector', binaries().otelcol, ['--config', COLLECTOR_CONFIG], env, join(workDir, `collector-${httpPort}.log`));
  await waitForHealthy(service, `http://127.0.0.1:${health}/`);
  return {
    service,
    otlpHttpUrl: `http://127.0.0.1:${httpPort}`,
    httpPort,
    spanFile: options.spanFile,
    metricsFile,
    prometheusUrl: `http://127.0.0.1:${prometheusPort}/metrics`,
    stop: () => service.stop(),
  };
}
