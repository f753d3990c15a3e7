import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ByteBoundedBatchSpanProcessor, type ByteBoundedBatchOptions } from '../../src/otel/byte-bounded-batch-processor.js';
import { finishedSpan } from '../../src/otel/span-copy.js';
import { estimateSpanBytes } from '../../src/otel/span-size.js';
import { EXPORT_FAILED, EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan, type SpanExporterLike } from '../../src/trace/span-data.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

const RESOURCE = { attributes: { 'service.name': 'batch-test' } };
const SCOPE = { name: 'batch-test' };

/** A finished span named `name` carrying about `bytes` of content. */
function spanOf(name: string, bytes = 100): FinishedSpan {
  return finishedSpan({
    name, kind: SpanKind.CLIENT,
    context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
    startTime: [1, 0], endTime: [2, 0], status: { code: SpanStatusCode.UNSET },
    attributes: { 'gen_ai.input.messages': 'x'.repeat(bytes) }, resource: RESOURCE, instrumentationScope: SCOPE,
  });
}

/** An exporter the test drives: it records batches and answers now, later (hang) or with a failure. */
class ScriptedExporter implements SpanExporterLike {
  readonly batches: string[][] = [];
  readonly pending: ((result: ExportResultLike) => void)[] = [];
  /** Spans of the exports not answered yet: what a hung exporter still holds. */
  heldSpans = 0;
  suppressedInExport: boolean[] = [];
  shutdowns = 0;
  constructor(public mode: 'ok' | 'hang' | 'fail' | 'throw' = 'ok', private readonly hangShutdown = false) {}
  export(spans: FinishedSpan[], done: (result: ExportResultLike) => void): void {
    this.suppressedInExport.push(isTracingSuppressed(context.active()));
    this.batches.push(spans.map((s) => s.name));
    if (this.mode === 'throw') throw new Error('exporter bug');
    if (this.mode === 'hang') {
      this.heldSpans += spans.length;
      this.pending.push(done);
    } else setImmediate(() => done({ code: this.mode === 'ok' ? EXPORT_SUCCESS : EXPORT_FAILED }));
  }
  release(): void {
    this.mode = 'ok';
    this.heldSpans = 0;
    for (const done of this.pending.splice(0)) done({ code: EXPORT_SUCCESS });
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return this.hangShutdown ? new Promise(() => undefined) : Promise.resolve();
  }
}

const processors: ByteBoundedBatchSpanProcessor[] = [];
afterEach(async () => {
  await Promise.all(processors.splice(0).map((p) => p.shutdown()));
});

function processorFor(exporter: SpanExporterLike, options: ByteBoundedBatchOptions = {}): { processor: ByteBoundedBatchSpanProcessor; logs: string[] } {
  const logs: string[] = [];
  const processor = new ByteBoundedBatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000, exportTimeoutMillis: 2_000, log: (m) => logs.push(m), ...options });
  processors.push(processor);
  return { processor, logs };
}

describe('ByteBoundedBatchSpanProcessor', () => {
  it('exports a full batch at once and the rest on forceFlush, in order', async () => {
    const exporter = new ScriptedExporter();
    const { processor } = processorFor(exporter, { maxExportBatchSize: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) processor.onEnd(spanOf(name));
    await vi.waitFor(() => expect(exporter.batches.flat()).toHaveLength(4));
    expect(exporter.batches).toEqual([['a', 'b'], ['c', 'd']]);
    await processor.forceFlush();
    expect(exporter.batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(processor.stats).toMatchObject({ exportedSpans: 5, droppedSpans: 0, exportCalls: 3 });
  });

  it('exports a partial batch after the scheduled delay', async () => {
    const exporter = new ScriptedExporter();
    const { processor } = processorFor(exporter, { scheduledDelayMillis: 20 });
    processor.onEnd(spanOf('lonely'));
    await vi.waitFor(() => expect(exporter.batches).toEqual([['lonely']]));
  });

  it('keeps what waits for export under the byte bound, dropping the oldest first, and says so once and again on recovery', async () => {
    const exporter = new ScriptedExporter('hang');
    const spanBytes = estimateSpanBytes(spanOf('probe', 10_000));
    const maxQueueBytes = spanBytes * 10;
    const { processor, logs } = processorFor(exporter, { maxQueueBytes, maxExportBatchBytes: spanBytes * 2 });
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    for (const name of names) {
      processor.onEnd(spanOf(name, 10_000));
      // Queued plus in flight (one batch of two) never exceeds the bound.
      expect(processor.queued.bytes + (exporter.pending.length > 0 ? spanBytes * 2 : 0)).toBeLessThanOrEqual(maxQueueBytes);
    }
    expect(exporter.batches).toEqual([['s0', 's1']]); // in flight, hung
    expect(processor.queued.spans).toBe(8);
    expect(processor.stats.droppedSpans).toBe(40 - 2 - 8);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^moa-otel: dropping spans: the OTLP export queue is full/);

    exporter.release();
    await processor.forceFlush();
    // The survivors are the oldest in flight and the newest queued: s2…s31 were dropped.
    expect(exporter.batches.flat()).toEqual(['s0', 's1', ...names.slice(32)]);
    expect(logs[1]).toBe('moa-otel: the OTLP export queue has room again; 30 spans were dropped while it was full');
  });

  it('keeps counting an export that timed out against the byte bound until the exporter answers it', async () => {
    const exporter = new ScriptedExporter('hang');
    const spanBytes = estimateSpanBytes(spanOf('probe', 10_000));
    const maxQueueBytes = spanBytes * 10;
    const { processor } = processorFor(exporter, { maxQueueBytes, maxExportBatchBytes: spanBytes * 2, exportTimeoutMillis: 20 });
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 10; i++) processor.onEnd(spanOf(`r${round}s${i}`, 10_000));
      // The export in flight times out; the processor moves on, but the exporter still holds those spans.
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(processor.queued.bytes + exporter.heldSpans * spanBytes).toBeLessThanOrEqual(maxQueueBytes);
    }
    expect(exporter.pending.length).toBeGreaterThan(1);
    // Once the exporter answers, its spans no longer count: new spans go out again.
    exporter.release();
    processor.onEnd(spanOf('after release', 10_000));
    await processor.forceFlush();
    expect(exporter.batches.at(-1)).toContain('after release');
  });

  it('bounds the queue in spans too', async () => {
    const exporter = new ScriptedExporter('hang');
    const { processor } = processorFor(exporter, { maxQueueSize: 5, maxExportBatchSize: 1, exportTimeoutMillis: 200 });
    for (let i = 0; i < 12; i++) processor.onEnd(spanOf(`s${i}`));
    expect(processor.queued.spans).toBe(5);
    expect(processor.stats.droppedSpans).toBe(12 - 1 - 5);
  });

  it('drops a span larger than the whole queue, without dropping the others', async () => {
    const exporter = new ScriptedExporter('hang');
    const { processor, logs } = processorFor(exporter, { maxQueueBytes: 50_000, maxExportBatchSize: 100, exportTimeoutMillis: 200 });
    processor.onEnd(spanOf('small'));
    processor.onEnd(spanOf('huge', 60_000));
    expect(processor.queued.spans).toBe(1);
    expect(processor.stats.droppedSpans).toBe(1);
    expect(logs[0]).toMatch(/larger than the whole export queue/);
  });

  it('returns from forceFlush and shutdown within the export timeout when the exporter hangs', async () => {
    const exporter = new ScriptedExporter('hang', true);
    const { processor, logs } = processorFor(exporter, { exportTimeoutMillis: 150 });
    processor.onEnd(spanOf('stuck'));
    await processor.forceFlush(); // the exporter never answers: returning at all is the point
    // The export's own timeout and forceFlush's deadline are both 150 ms: which timer fires first is not fixed.
    await vi.waitFor(() => expect(logs).toEqual([expect.stringMatching(/did not finish within 150 ms/)]), { timeout: 10_000 });
    processor.onEnd(spanOf('queued at shutdown'));
    exporter.mode = 'hang';
    await processor.shutdown();
    expect(exporter.shutdowns).toBe(1);
    expect(processor.stats.failedSpans).toBeGreaterThanOrEqual(1);
    processor.onEnd(spanOf('after shutdown'));
    expect(processor.queued.spans).toBe(0);
  });

  it('survives an exporter that throws or fails, counting the spans', async () => {
    const exporter = new ScriptedExporter('throw');
    const { processor } = processorFor(exporter);
    processor.onEnd(spanOf('a'));
    await processor.forceFlush();
    exporter.mode = 'fail';
    processor.onEnd(spanOf('b'));
    await processor.forceFlush();
    expect(processor.stats).toMatchObject({ failedSpans: 2, exportedSpans: 0 });
  });

  it('exports with tracing suppressed, so instrumented HTTP does not trace the export itself', async () => {
    // Contexts propagate only under a context manager, as in any traced app.
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const exporter = new ScriptedExporter();
      const { processor } = processorFor(exporter);
      processor.onEnd(spanOf('a'));
      await processor.forceFlush();
      expect(exporter.suppressedInExport).toEqual([true]);
    } finally {
      context.disable();
    }
  });

  it('serves as a span processor of the SDK, feeding the OTLP exporter to a real receiver', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const exporter = new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` });
      const processor = new ByteBoundedBatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 });
      const provider = new BasicTracerProvider({ spanProcessors: [processor] });
      const tracer = provider.getTracer('sdk-host');
      tracer.startActiveSpan('root', (root) => {
        tracer.startSpan('child').end();
        root.end();
      });
      await provider.forceFlush();
      expect(receiver.spans().map((s) => s.name)).toEqual(['child', 'root']);
      await provider.shutdown();
    } finally {
      await receiver.close();
    }
  });
});
