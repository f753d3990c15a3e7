/**
 * OTEL_EXPORTER_OTLP_PROTOCOL=grpc: setupMoaTracing loads the official
 * `@opentelemetry/exporter-trace-otlp-grpc` (it used to downgrade to
 * http/protobuf) and the turn reaches the real collector's gRPC receiver.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupMoaTracing } from '../../src/index.js';
import { waitForFileSpans } from './support/backends.js';
import { freePort } from './support/processes.js';
import { startCollector, type Collector } from './support/stack.js';

describe('OTLP over gRPC through the official exporter', () => {
  let work: string;
  let collector: Collector;
  let grpcPort: number;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-grpc-'));
    grpcPort = await freePort();
    // No Jaeger here: the collector's file exporter is the witness.
    collector = await startCollector(work, { jaegerOtlpGrpcEndpoint: `127.0.0.1:${await freePort()}`, spanFile: join(work, 'out', 'spans.jsonl'), grpcPort });
  });
  afterAll(async () => {
    await collector?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('sends the turn to the collector\'s gRPC port, with no downgrade line', async () => {
    const lines: string[] = [];
    const tracing = setupMoaTracing({}, {
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpcPort}`, OTEL_METRICS_EXPORTER: 'none' },
      ignoreConfigFile: true, notice: (line) => lines.push(line),
    });
    const turn = tracing.instrumentation.startTurn({ sessionId: 'grpc', preset: 'p' });
    const reference = turn.startReference({ index: 0, model: 'm', provider: 'x', messages: [{ role: 'user', content: 'over gRPC?' }] });
    reference.end({ output: 'yes' });
    const aggregator = turn.startAggregator({ model: 'a', provider: 'x', messages: [{ role: 'user', content: 'over gRPC?' }] });
    aggregator.end({ output: 'done' });
    turn.end();
    await tracing.shutdown();
    expect(lines).toEqual([]);
    expect(tracing.otlpStats()).toMatchObject({ exportedSpans: 3, failedSpans: 0 });
    const ids = [reference.spanContext.spanId, aggregator.spanContext.spanId];
    const spans = await waitForFileSpans(collector.spanFile, ids);
    expect(spans.filter((s) => ids.includes(s.spanId))).toHaveLength(2);
  });
});
