/**
 * Which OTLP/HTTP encoding to speak. The OpenTelemetry specification makes
 * `http/protobuf` the default and names the choice in
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` (signal-specific, wins) or
 * `OTEL_EXPORTER_OTLP_PROTOCOL`. Some backends take only one encoding
 * (Arize Phoenix answers 415 to JSON), so a value we cannot speak is a
 * one-line configuration error rather than a silent fallback.
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

const PROTOCOL_VARIABLES = ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const;

export function isOtlpProtocol(value: string): value is OtlpProtocol {
  return value === 'http/protobuf' || value === 'http/json';
}

/**
 * The protocol the environment asks for (the default when neither variable
 * is set or both are empty). Throws `OtlpProtocolError` with one line naming
 * the variable for any other value, `grpc` included.
 */
export function resolveOtlpProtocol(env: Readonly<Record<string, string | undefined>>): OtlpProtocol {
  for (const name of PROTOCOL_VARIABLES) {
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
