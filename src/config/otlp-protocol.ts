/**
 * Which OTLP protocol to speak, and so which official exporter package to
 * load. The OpenTelemetry specification makes `http/protobuf` the default and
 * names the choice in `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_PROTOCOL`
 * (signal-specific, wins) or `OTEL_EXPORTER_OTLP_PROTOCOL`. Some backends take
 * only one encoding (Arize Phoenix answers 415 to JSON).
 */

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

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
  return value === 'http/protobuf' || value === 'http/json' || value === 'grpc';
}

/**
 * The protocol the environment asks for `signal` (the default when neither
 * variable is set or both are empty). Throws `OtlpProtocolError` with one
 * line naming the variable for any other value.
 */
export function resolveOtlpProtocol(env: Readonly<Record<string, string | undefined>>, signal: OtlpSignal = 'traces'): OtlpProtocol {
  for (const name of PROTOCOL_VARIABLES[signal]) {
    const raw = env[name];
    if (raw === undefined) continue;
    const value = raw.trim().toLowerCase();
    if (value === '') continue;
    if (isOtlpProtocol(value)) return value;
    throw new OtlpProtocolError(`${name}=${JSON.stringify(raw.slice(0, 40))} is not supported: expected http/protobuf, http/json or grpc`);
  }
  return DEFAULT_OTLP_PROTOCOL;
}
