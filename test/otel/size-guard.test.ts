/**
 * The size guard as setup applies it: `planExportRequests` on real SDK spans,
 * measured with the official serializers (`@opentelemetry/otlp-transformer`,
 * what the official exporters send) or with the conservative estimate used
 * for an exporter passed in; every request is checked with the serializer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CauseReporter } from '../../src/base/cause-reporter.js';
import { truncationMarker } from '../../src/content/truncation.js';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { planExportRequests } from '../../src/otel/size-guard.js';
import { estimatedMeasure, serializerMeasure, type SpanMeasure, type TraceSerializerLike } from '../../src/otel/span-measure.js';
import type { FinishedSpan } from '../../src/trace/span-data.js';
import {
  GEN_AI_INPUT_MESSAGES,
  GEN_AI_OUTPUT_MESSAGES,
  GEN_AI_REQUEST_MODEL,
  MOA_CONTENT_ORIGINAL_BYTES,
  MOA_CONTENT_TRUNCATED,
} from '../../src/trace/attributes.js';
import { sdkSpansWithAttributes } from '../helpers/sdk-spans.js';

function messagesJson(texts: readonly string[]): string {
  return JSON.stringify(
    texts.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', parts: [{ type: 'text', content: text }] })),
  );
}

function snapshotAttributes(spans: readonly FinishedSpan[]): string[] {
  return spans.map((s) => JSON.stringify(s.attributes));
}

function spanIds(spans: readonly FinishedSpan[]): string[] {
  return spans.map((s) => s.spanContext().spanId);
}

const SERIALIZERS: Record<'protobuf' | 'json', TraceSerializerLike> = {
  protobuf: ProtobufTraceSerializer as unknown as TraceSerializerLike,
  json: JsonTraceSerializer as unknown as TraceSerializerLike,
};
const MEASURES: [string, SpanMeasure][] = [
  ['protobuf (serializer)', serializerMeasure('protobuf', SERIALIZERS.protobuf)],
  ['json (serializer)', serializerMeasure('json', SERIALIZERS.json)],
  ['protobuf (estimate)', estimatedMeasure('protobuf')],
  ['json (estimate)', estimatedMeasure('json')],
];

describe.each(MEASURES)('planExportRequests, %s', (_label, measure) => {
  const encoding = measure;
  const encodedRequestBytes = (spans: readonly FinishedSpan[]) => SERIALIZERS[measure.encoding].serializeRequest([...spans])?.byteLength ?? 0;
  /** The requests the exporter would send, and what the guard reported. */
  const plan = (spans: readonly FinishedSpan[], maxExportBytes: number, captureContent = true) => {
    const logs: string[] = [];
    const requests = planExportRequests(spans, { maxExportBytes, captureContent, measure: encoding, reporter: new CauseReporter((m) => logs.push(m)) });
    return { requests, logs };
  };

  it('passes a batch that fits through as one request of the same span objects', async () => {
    const spans = await sdkSpansWithAttributes([
      { name: 'chat a', attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson(['hello']) } },
      { name: 'chat b', attributes: { [GEN_AI_OUTPUT_MESSAGES]: messagesJson(['world']) } },
    ]);
    const { requests } = plan(spans, 1_000_000);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toHaveLength(2);
    expect(requests[0]![0]).toBe(spans[0]);
    expect(requests[0]![1]).toBe(spans[1]);
  });

  it('splits a batch into consecutive requests that each fit, keeping every span once and in order', async () => {
    const specs = Array.from({ length: 12 }, (_, i) => ({
      name: `chat m${i}`,
      attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson(['x'.repeat(3_000 + i * 100)]) },
    }));
    const spans = await sdkSpansWithAttributes(specs);
    const max = 10_000;
    expect(encodedRequestBytes(spans)).toBeGreaterThan(max);
    const { requests } = plan(spans, max);
    expect(requests.length).toBeGreaterThan(1);
    for (const chunk of requests) expect(encodedRequestBytes(chunk)).toBeLessThanOrEqual(max);
    expect(spanIds(requests.flat())).toEqual(spanIds(spans));
    // Spans that fit are not rewritten.
    expect(requests.flat().every((s, i) => s === spans[i])).toBe(true);
  });

  it('shrinks a span that alone is too big: valid GenAI JSON, visible marker, flags, under the limit', async () => {
    const big = 'a'.repeat(200_000);
    const input = messagesJson(['short question', big, 'é'.repeat(50_000)]);
    const output = messagesJson(['b'.repeat(120_000)]);
    const spans = await sdkSpansWithAttributes([
      { name: 'chat big', attributes: { [GEN_AI_REQUEST_MODEL]: 'm1', [GEN_AI_INPUT_MESSAGES]: input, [GEN_AI_OUTPUT_MESSAGES]: output } },
    ]);
    const before = snapshotAttributes(spans);
    const max = 50_000;
    const { requests, logs } = plan(spans, max);

    expect(requests).toHaveLength(1);
    const sent = requests[0]?.[0];
    if (!sent) throw new Error('nothing planned');
    expect(encodedRequestBytes([sent])).toBeLessThanOrEqual(max);
    // Cutting must not waste the budget: most of it still carries content.
    expect(encodedRequestBytes([sent])).toBeGreaterThan(max * 0.6);
    expect(sent.attributes[MOA_CONTENT_TRUNCATED]).toBe(true);
    expect(sent.attributes[MOA_CONTENT_ORIGINAL_BYTES]).toBe(Buffer.byteLength(input) + Buffer.byteLength(output));
    expect(sent.attributes[GEN_AI_REQUEST_MODEL]).toBe('m1');
    expect(sent.spanContext()).toEqual(spans[0]?.spanContext());
    expect(logs).toEqual([]);

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
    const spans = await sdkSpansWithAttributes([{ name: 'chat emoji', attributes: { [GEN_AI_INPUT_MESSAGES]: messagesJson([emoji]) } }]);
    // Try several limits so the cut lands on both halves of pairs.
    for (const max of [20_001, 20_002, 20_003, 20_004]) {
      const [sent] = plan(spans, max).requests.flat();
      // JSON.stringify would escape a lone surrogate, so look at the parsed text.
      const parsed = JSON.parse(String(sent?.attributes[GEN_AI_INPUT_MESSAGES])) as Array<{ parts: Array<{ content: string }> }>;
      const content = parsed[0]?.parts[0]?.content ?? '';
      expect(content).toMatch(/^(?:😀)+…\[moa-otel: truncated \d+ chars\]$/u);
    }
  });

  it('cuts non-JSON content as plain text with the marker', async () => {
    const spans = await sdkSpansWithAttributes([{ name: 'chat raw', attributes: { [GEN_AI_OUTPUT_MESSAGES]: 'z'.repeat(100_000) } }]);
    const [sent] = plan(spans, 20_000).requests.flat();
    expect(String(sent?.attributes[GEN_AI_OUTPUT_MESSAGES])).toMatch(/^z+…\[moa-otel: truncated \d+ chars\]$/);
    expect(encodedRequestBytes(sent ? [sent] : [])).toBeLessThanOrEqual(20_000);
  });

  it('falls back to a marker message when thousands of tiny messages cannot fit', async () => {
    const many = messagesJson(Array.from({ length: 5_000 }, () => 'tiny'));
    const spans = await sdkSpansWithAttributes([{ name: 'chat many', attributes: { [GEN_AI_INPUT_MESSAGES]: many } }]);
    const [sent] = plan(spans, 5_000).requests.flat();
    const parsed = JSON.parse(String(sent?.attributes[GEN_AI_INPUT_MESSAGES])) as Array<{ role: string; parts: Array<{ content: string }> }>;
    expect(parsed).toHaveLength(1);
    expect(parsed[0]?.role).toBe('user');
    expect(parsed[0]?.parts[0]?.content).toContain(`${Buffer.byteLength(many)} bytes of messages omitted`);
    expect(sent?.attributes[MOA_CONTENT_TRUNCATED]).toBe(true);
    expect(encodedRequestBytes(sent ? [sent] : [])).toBeLessThanOrEqual(5_000);
  });

  it('drops content attributes when content capture is off, without touching the originals', async () => {
    const spans = await sdkSpansWithAttributes([
      { name: 'chat a', attributes: { [GEN_AI_REQUEST_MODEL]: 'm', [GEN_AI_INPUT_MESSAGES]: messagesJson(['secret']), [GEN_AI_OUTPUT_MESSAGES]: messagesJson(['also secret']) } },
      { name: 'invoke_workflow moa', attributes: { 'moa.preset': 'p' } },
    ]);
    const before = snapshotAttributes(spans);
    const sent = plan(spans, 1_000_000, false).requests.flat();
    expect(sent).toHaveLength(2);
    expect(sent[0]?.attributes).toEqual({ [GEN_AI_REQUEST_MODEL]: 'm' });
    expect(sent[0]?.spanContext().spanId).toBe(spans[0]?.spanContext().spanId);
    expect(sent[0]?.resource).toBe(spans[0]?.resource);
    expect(sent[1]).toBe(spans[1]);
    expect(snapshotAttributes(spans)).toEqual(before);
    expect(Buffer.from(SERIALIZERS[measure.encoding].serializeRequest([...sent]) ?? []).toString('latin1')).not.toContain('secret');
  });

  it('sends a span that cannot be shrunk enough alone instead of dropping it, and says so once', async () => {
    const spans = await sdkSpansWithAttributes([
      { name: 'chat huge-model-name', attributes: { [GEN_AI_REQUEST_MODEL]: 'q'.repeat(30_000) } },
      { name: 'chat small', attributes: {} },
      { name: 'chat huge-again', attributes: { [GEN_AI_REQUEST_MODEL]: 'r'.repeat(30_000) } },
    ]);
    const { requests, logs } = plan(spans, 10_000);
    expect(requests.map((chunk) => chunk.length)).toEqual([1, 1, 1]);
    expect(requests[0]?.[0]).toBe(spans[0]);
    expect(logs).toEqual([expect.stringMatching(/^moa-otel: span "chat huge-model-name" encodes to \d+ bytes even without content, above otlp max_export_bytes 10000; it is sent alone/)]);
  });

  it('has a cheap upper bound never below the real encoded size, whatever the strings hold', async () => {
    // Control characters (6-byte JSON escapes), lone surrogates, astral and BMP non-ASCII, plain ASCII.
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', '\ud800', '\u4e2d'), minLength: 200, maxLength: 2000 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(text, fc.dictionary(text, fc.oneof(text, fc.integer(), fc.boolean()), { maxKeys: 4 })), { minLength: 1, maxLength: 5 }), async (specs) => {
        const spans = await sdkSpansWithAttributes(specs.map(([name, attributes]) => ({ name, attributes })));
        expect(encoding.upperBoundBytes(spans)).toBeGreaterThanOrEqual(encodedRequestBytes(spans));
      }),
      { numRuns: 300 },
    );
  });
});
