import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { captureIo, makeTraceDir, oursLine, type TraceDir } from './fixtures.js';

describe('moa-otel export --otlp: the protocol follows OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL', () => {
  let dir: TraceDir;
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    dir = makeTraceDir();
    dir.write('s.jsonl', `${oursLine()}\n`);
  });
  afterEach(async () => {
    dir.cleanup();
    await receiver.close();
  });

  it('speaks http/protobuf by default, which a protobuf-only backend (Phoenix) takes', async () => {
    receiver = await startOtlpReceiver({ accept: ['application/x-protobuf'] });
    const cap = captureIo();
    expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', receiver.url], cap.io)).toBe(0);
    expect(cap.err).toBe('');
    expect(receiver.refused).toEqual([]);
    expect(receiver.spans().map((s) => s.name)).toEqual(['invoke_workflow moa default: What is 2+2?', 'chat gpt-4o-mini', 'chat tiny', 'chat gpt-4o']);
  });

  it('speaks http/json when the environment says so, the signal-specific variable first', async () => {
    receiver = await startOtlpReceiver();
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' HTTP/JSON ' };
    expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', receiver.url], captureIo(env).io)).toBe(0);
    expect(receiver.requests.map((r) => r.mediaType)).toEqual(['application/json']);
    expect(receiver.spans()).toHaveLength(4);
  });

  it('says in one line that a JSON export was refused with 415, and what to set', async () => {
    receiver = await startOtlpReceiver({ accept: ['application/x-protobuf'] });
    const cap = captureIo({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', receiver.url], cap.io)).toBe(1);
    expect(cap.err.trim().split('\n')).toHaveLength(1);
    expect(cap.err).toMatch(/HTTP 415 .*OTEL_EXPORTER_OTLP_PROTOCOL/);
  });

  it('refuses a protocol it cannot speak with one line and exit 2, sending nothing', async () => {
    receiver = await startOtlpReceiver();
    for (const value of ['http/xml', 'grpc/json']) {
      const cap = captureIo({ OTEL_EXPORTER_OTLP_PROTOCOL: value });
      expect(await runCli(['export', 's', '--dir', dir.dir, '--otlp', receiver.url], cap.io)).toBe(2);
      expect(cap.err.trim().split('\n')).toHaveLength(1);
      expect(cap.err).toContain(`OTEL_EXPORTER_OTLP_PROTOCOL="${value}" is not supported`);
    }
    expect(receiver.requests).toHaveLength(0);
  });
});
