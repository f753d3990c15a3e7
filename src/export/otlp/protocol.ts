/**
 * Which OTLP/HTTP encoding to speak. The OpenTelemetry specification makes
 * `http/protobuf` the default and names the choice in
 * `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_PROTOCOL` (signal-specific, wins) or
 * `OTEL_EXPORTER_OTLP_PROTOCOL`. Some backends take only one encoding
 * (Arize Phoenix answers 415 to JSON). A value we cannot speak (`grpc`)
 * raises `OtlpProtocolError`: the CLI's `export` and `demo` turn it into one
 * line and exit 2; setup, where the variable may name some other exporter's
 * choice, exports with http/protobuf and says so once.
 */

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

export const OTLP_CONTENT_TYPES: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': 'application/x-protobuf',
  'http/json': 'application/json',
};

export class OtlpProtocolError extends Error {
  override readonly name = 'OtlpProtocolError';
}

/** The signals moa-otel exports; each has its own protocol variable, which wins over the generic one. */
export type OtlpSignal = 'traces' | 'metrics';

const PROTOCOL_VARIABLES: Readonly<Record<OtlpSignal, readonly string[]>> = {
  traces: ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  metrics: ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
};

export function isOtlpProtocol(value: string): value is OtlpProtocol {
  return value === 'http/protobuf' || value === 'http/json';
}

/**
 * The protocol the environment asks for `signal` (the default when neither
 * variable is set or both are empty). Throws `OtlpProtocolError` with one
 * line naming the variable for any other value, `grpc` included.
 */
export function resolveOtlpProtocol(env: Readonly<Record<string, string | undefined>>, signal: OtlpSignal = 'traces'): OtlpProtocol {
  for (const name of PROTOCOL_VARIABLES[signal]) {
    const raw = env[name];
    if (raw === undefined) continue;
    const value = raw.trim().toLowerCase();
    if (value === '') continue;
    if (isOtlpProtocol(value)) return value;
    const hint = value === 'grpc' ? ' (moa-otel exports over HTTP only)' : '';
    throw new OtlpProtocolError(`${name}=${JSON.stringify(raw)} is not supported${hint}: expected http/protobuf or http/json`);
  }
  return DEFAULT_OTLP_PROTOCOL;
}
