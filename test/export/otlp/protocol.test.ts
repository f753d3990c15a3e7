import { describe, expect, it } from 'vitest';
import { OtlpProtocolError, resolveOtlpProtocol } from '../../../src/export/otlp/protocol.js';

describe('resolveOtlpProtocol', () => {
  it('defaults to http/protobuf, as the OpenTelemetry specification says', () => {
    expect(resolveOtlpProtocol({})).toBe('http/protobuf');
    expect(resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: '', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '  ' })).toBe('http/protobuf');
  });

  it('takes the traces variable over the general one, in any case and spacing', () => {
    expect(resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/Protobuf ' })).toBe('http/protobuf');
    expect(resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toBe('http/json');
  });

  it('refuses anything else with one line naming the variable, grpc included', () => {
    expect(() => resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toThrow(
      new OtlpProtocolError('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc" is not supported (moa-otel exports over HTTP only): expected http/protobuf or http/json'),
    );
    expect(() => resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'json\nx' })).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL="json\\nx" is not supported: expected/);
  });
});
