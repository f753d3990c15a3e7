import { afterEach, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { SizeBoundedSpanExporter, encodedRequestBytes as encodedBytesIn, truncationMarker } from '../../src/export/otlp-size-guard.js';
import { otlpEncoding } from '../../src/export/otlp/encoding.js';
import type { OtlpProtocol } from '../../src/export/otlp/protocol.js';
import { EXPORT_FAILED, EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan, type SpanExporterLike } from '../../src/trace/span-data.js';
import { canonicalTraceRequest } from '../helpers/otlp-proto.js';
import {
  GEN_AI_INPUT_MESSAGES,
  GEN_AI_OUTPUT_MESSAGES,
  GEN_AI_REQUEST_MODEL,
  MOA_CONTENT_ORIGINAL_BYTES,
  MOA_CONTENT_TRUNCATED,
} from '../../src/trace/attributes.js';

/** Records what reaches the "network": each export call, in order. */
class RecordingExporter implements SpanExporterLike {
  readonly exports: FinishedSpan[][] = [];
  flushed = 0;
  shutDown = 0;
  constructor(private readonly outcome: (call: number) => ExportResultLike = () => ({ code: EXPORT_SUCCESS })) {}
  export(spans: FinishedSpan[], done: (result: ExportResultLike) => void): void {
    this.exports.push(spans);
    const result = this.outcome(this.exports.length);
    setImmediate(() => done(result));
  }
  forceFlush(): Promise<void> {
    this.flushed++;
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.shutDown++;
    return Promise.resolve();
  }
}

const providers: BasicTracerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

/** Real SDK spans, so the guard sees exactly what a BatchSpanProcessor would hand it. */
function makeSpans(specs: ReadonlyArray<{ name: string; attributes: Record<string, string | number | boolean> }>): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  providers.push(provider);
  const tracer = provider.getTracer('size-guard-test');
  for (const spec of specs) {
    tracer.startSpan(spec.name, { kind: SpanKind.CLIENT, attributes: spec.attributes }).end();
  }
  return memory.getFinishedSpans();
}

function messagesJson(texts: readonly string[]): string {
  return JSON.stringify(
    texts.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', parts: [{ type: 'text', content: text }] })),
  );
}

function runExport(guard: SizeBoundedSpanExporter, spans: FinishedSpan[]): Promise<ExportResultLike> {
  return new Promise((resolve) => guard.export(spans, resolve));
}

function snapshotAttributes(spans: readonly FinishedSpan[]): string[] {
  return spans.map((s) => JSON.stringify(s.attributes));
}

function spanIds(spans: readonly FinishedSpan[]): string[] {
  return spans.map((s) => s.spanContext().spanId);
}

describe.each(['http/protobuf', 'http/json'] as const)('SizeBoundedSpanExporter over %s', (protocol: OtlpProtocol) => {
  const encodedRequestBytes = (spans: readonly FinishedSpan[]) => encodedBytesIn(spans, protocol);
  const guardFor = (inner: RecordingExporter, maxExportBytes: number, captureContent = true) =>
    new SizeBoundedSpanExporter(inner, { maxExportBytes, captureContent, protocol, log: () => undefined });

  it('measures the body its encoding sends, which carries what the official serializer does', () => {
    const spans = makeSpans([{ name: 'chat a', attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson(['hi']) } }]);
    const body = otlpEncoding(protocol).encode(spans);
    expect(encodedRequestBytes(spans)).toBe(body.length);
    const mediaType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    const official = (protocol === 'http/json' ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(spans) as Uint8Array;
    expect(canonicalTraceRequest(body, mediaType)).toEqual(canonicalTraceRequest(official, mediaType));
  });

  it('passes a batch that fits through as one export of the same span objects', async () => {
    const spans = makeSpans([
      { name: 'chat a', attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson(['hello']) } },
      { name: 'chat b', attributes: { [GEN_AI_OUTPUT_MESSAGES]: messagesJson(['world']) } },
    ]);
    const inner = new RecordingExporter();
    const result = await runExport(guardFor(inner, 1_000_000), spans);
    expect(result.code).toBe(EXPORT_SUCCESS);
    expect(inner.exports).toHaveLength(1);
    expect(inner.exports[0]).toEqual(spans);
    expect(inner.exports[0]?.[0]).toBe(spans[0]);
  });

  it('splits a batch into consecutive exports that each fit, keeping every span once and in order', async () => {
    const specs = Array.from({ length: 12 }, (_, i) => ({
      name: `chat m${i}`,
      attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson(['x'.repeat(3_000 + i * 100)]) },
    }));
    const spans = makeSpans(specs);
    const max = 10_000;
    expect(encodedRequestBytes(spans)).toBeGreaterThan(max);
    const inner = new RecordingExporter();
    const result = await runExport(guardFor(inner, max), spans);
    expect(result.code).toBe(EXPORT_SUCCESS);
    expect(inner.exports.length).toBeGreaterThan(1);
    for (const chunk of inner.exports) expect(encodedRequestBytes(chunk)).toBeLessThanOrEqual(max);
    expect(spanIds(inner.exports.flat())).toEqual(spanIds(spans));
    // Spans that fit are not rewritten.
    expect(inner.exports.flat().every((s, i) => s === spans[i])).toBe(true);
  });

  it('shrinks a span that alone is too big: valid GenAI JSON, visible marker, flags, under the limit', async () => {
    const big = 'a'.repeat(200_000);
    const input = messagesJson(['short question', big, 'é'.repeat(50_000)]);
    const output = messagesJson(['b'.repeat(120_000)]);
    const spans = makeSpans([
      { name: 'chat big', attributes: { [GEN_AI_REQUEST_MODEL]: 'm1', [GEN_AI_INPUT_MESSAGES]: input, [GEN_AI_OUTPUT_MESSAGES]: output } },
    ]);
    const before = snapshotAttributes(spans);
    const max = 50_000;
    const inner = new RecordingExporter();
    await runExport(guardFor(inner, max), spans);

    expect(inner.exports).toHaveLength(1);
    const sent = inner.exports[0]?.[0];
    if (!sent) throw new Error('nothing exported');
    expect(encodedRequestBytes([sent])).toBeLessThanOrEqual(max);
    // Cutting must not waste the budget: most of it still carries content.
    expect(encodedRequestBytes([sent])).toBeGreaterThan(max * 0.6);
    expect(sent.attributes[MOA_CONTENT_TRUNCATED]).toBe(true);
    expect(sent.attributes[MOA_CONTENT_ORIGINAL_BYTES]).toBe(Buffer.byteLength(input) + Buffer.byteLength(output));
    expect(sent.attributes[GEN_AI_REQUEST_MODEL]).toBe('m1');
    expect(sent.spanContext()).toEqual(spans[0]?.spanContext());

    const sentInput = JSON.parse(String(sent.attributes[GEN_AI_INPUT_MESSAGES])) as Array<{ role: string; parts: Array<{ type: string; content: string }> }>;
    expect(sentInput.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sentInput[0]?.parts[0]?.content).toBe('short question');
    expect(sentInput[1]?.parts[0]?.type).toBe('text');
    expect(sentInput[1]?.parts[0]?.content).toMatch(/^a+…\[moa-otel: truncated \d+ chars\]$/);
    const cutA = sentInput[1]?.parts[0]?.content ?? '';
    const keptA = cutA.indexOf('…');
    expect(cutA.slice(keptA)).toBe(truncationMarker(big.length - keptA));
    const sentOutput = JSON.parse(String(sent.attributes[GEN_AI_OUTPUT_MESSAGES])) as Array<{ parts: Array<{ content: string }> }>;
    expect(sentOutput[0]?.parts[0]?.content).toContain('…[moa-otel: truncated');

    // The SDK's span (also seen by the JSONL exporter) is untouched.
    expect(snapshotAttributes(spans)).toEqual(before);
    expect(spans[0]?.attributes[MOA_CONTENT_TRUNCATED]).toBeUndefined();
  });

  it('never splits a surrogate pair when cutting', async () => {
    const emoji = '😀'.repeat(40_000);
    const spans = makeSpans([{ name: 'chat emoji', attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson([emoji]) } }]);
    const inner = new RecordingExporter();
    // Try several limits so the cut lands on both halves of pairs.
    for (const max of [20_001, 20_002, 20_003, 20_004]) {
      await runExport(guardFor(inner, max), spans);
    }
    for (const [sent] of inner.exports) {
      // JSON.stringify would escape a lone surrogate, so look at the parsed text.
      const parsed = JSON.parse(String(sent?.attributes[GEN_AI_INPUT_MESSAGES])) as Array<{ parts: Array<{ content: string }> }>;
      const content = parsed[0]?.parts[0]?.content ?? '';
      expect(content).toMatch(/^(?:😀)+…\[moa-otel: truncated \d+ chars\]$/u);
    }
  });

  it('cuts non-JSON content as plain text with the marker', async () => {
    const spans = makeSpans([{ name: 'chat raw', attributes: { [GEN_AI_OUTPUT_MESSAGES]: 'z'.repeat(100_000) } }]);
    const inner = new RecordingExporter();
    await runExport(guardFor(inner, 20_000), spans);
    const sent = inner.exports[0]?.[0];
    expect(String(sent?.attributes[GEN_AI_OUTPUT_MESSAGES])).toMatch(/^z+…\[moa-otel: truncated \d+ chars\]$/);
    expect(encodedRequestBytes(sent ? [sent] : [])).toBeLessThanOrEqual(20_000);
  });

  it('falls back to a marker message when thousands of tiny messages cannot fit', async () => {
    const many = messagesJson(Array.from({ length: 5_000 }, () => 'tiny'));
    const spans = makeSpans([{ name: 'chat many', attributes: { [GEN_AI_INPUT_MESSAGES]: many } }]);
    const inner = new RecordingExporter();
    await runExport(guardFor(inner, 5_000), spans);
    const sent = inner.exports[0]?.[0];
    const parsed = JSON.parse(String(sent?.attributes[GEN_AI_INPUT_MESSAGES])) as Array<{ role: string; parts: Array<{ content: string }> }>;
    expect(parsed).toHaveLength(1);
    expect(parsed[0]?.role).toBe('user');
    expect(parsed[0]?.parts[0]?.content).toContain(`${Buffer.byteLength(many)} bytes of messages omitted`);
    expect(sent?.attributes[MOA_CONTENT_TRUNCATED]).toBe(true);
    expect(encodedRequestBytes(sent ? [sent] : [])).toBeLessThanOrEqual(5_000);
  });

  it('drops content attributes when content capture is off, without touching the originals', async () => {
    const spans = makeSpans([
      { name: 'chat a', attributes: { [GEN_AI_REQUEST_MODEL]: 'm', [GEN_AI_INPUT_MESSAGES]: messagesJson(['secret']), [GEN_AI_OUTPUT_MESSAGES]: messagesJson(['also secret']) } },
      { name: 'invoke_workflow moa', attributes: { 'moa.preset': 'p' } },
    ]);
    const before = snapshotAttributes(spans);
    const inner = new RecordingExporter();
    await runExport(guardFor(inner, 1_000_000, false), spans);
    const sent = inner.exports.flat();
    expect(sent).toHaveLength(2);
    expect(sent[0]?.attributes).toEqual({ [GEN_AI_REQUEST_MODEL]: 'm' });
    expect(sent[0]?.spanContext().spanId).toBe(spans[0]?.spanContext().spanId);
    expect(sent[0]?.resource).toBe(spans[0]?.resource);
    expect(sent[1]).toBe(spans[1]);
    expect(snapshotAttributes(spans)).toEqual(before);
    expect(otlpEncoding(protocol).encode(sent).toString('latin1')).not.toContain('secret');
  });

  it('tries every chunk and reports the first failure', async () => {
    const spans = makeSpans(
      Array.from({ length: 6 }, (_, i) => ({ name: `chat ${i}`, attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson(['y'.repeat(4_000)]) } })),
    );
    const failure = new Error('collector said 500');
    const inner = new RecordingExporter((call) => (call === 1 ? { code: EXPORT_FAILED, error: failure } : { code: EXPORT_SUCCESS }));
    const result = await runExport(guardFor(inner, 9_000), spans);
    expect(inner.exports.length).toBeGreaterThan(1);
    expect(inner.exports.flat()).toHaveLength(6);
    expect(result.code).toBe(EXPORT_FAILED);
    expect(result.error).toBe(failure);
  });

  it('exports a span that cannot be shrunk enough alone instead of dropping it', async () => {
    const spans = makeSpans([
      { name: 'chat huge-model-name', attributes: { [GEN_AI_REQUEST_MODEL]: 'q'.repeat(30_000) } },
      { name: 'chat small', attributes: {} },
    ]);
    const inner = new RecordingExporter();
    const result = await runExport(guardFor(inner, 10_000), spans);
    expect(result.code).toBe(EXPORT_SUCCESS);
    expect(inner.exports.map((chunk) => chunk.length)).toEqual([1, 1]);
    expect(inner.exports[0]?.[0]).toBe(spans[0]);
  });

  it('delegates forceFlush and shutdown', async () => {
    const inner = new RecordingExporter();
    const guard = guardFor(inner, 1000);
    await guard.forceFlush();
    await guard.shutdown();
    expect(inner.flushed).toBe(1);
    expect(inner.shutDown).toBe(1);
  });

  it('rejects a non-positive limit', () => {
    expect(() => new SizeBoundedSpanExporter(new RecordingExporter(), { maxExportBytes: 0, captureContent: true })).toThrow(RangeError);
  });

  it('lets a batch well under the limit through as it is, in one export', async () => {
    const spans = makeSpans([{ name: 'a', attributes: { [GEN_AI_REQUEST_MODEL]: 'm' } }, { name: 'b', attributes: {} }]);
    const inner = new RecordingExporter();
    await runExport(guardFor(inner, 1_000_000), spans);
    expect(inner.exports).toHaveLength(1);
    expect(inner.exports[0]![0]).toBe(spans[0]);
    expect(inner.exports[0]![1]).toBe(spans[1]);
  });

  it('has a cheap upper bound never below the real encoded size, whatever the strings hold', () => {
    // Control characters (6-byte JSON escapes), lone surrogates, astral and BMP non-ASCII, plain ASCII.
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', '\ud800', '\u4e2d'), minLength: 200, maxLength: 2000 }),
    );
    const encoding = otlpEncoding(protocol);
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.dictionary(text, fc.oneof(text, fc.integer(), fc.boolean()), { maxKeys: 4 })), { minLength: 1, maxLength: 5 }), (specs) => {
        const spans = makeSpans(specs.map(([name, attributes]) => ({ name, attributes })));
        expect(encoding.upperBoundBytes(spans)).toBeGreaterThanOrEqual(encodedRequestBytes(spans));
      }),
      { numRuns: 300 },
    );
  });
});
