/**
 * moa-otel's own OTLP request encoders against the official ones
 * (`@opentelemetry/otlp-transformer`, a devDependency), protobuf and JSON,
 * on the same spans in one run: a batch of many small spans and a MoA turn
 * whose spans carry large message content. Reported as ours / theirs time
 * (lower is better; target <= 1.5x) and body sizes.
 *
 *   node --import tsx bench/otlp-encoding.ts
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { fileURLToPath } from 'node:url';
import { encodeJsonTraceRequest } from '../src/export/otlp/json-encoder.js';
import { encodeProtobufTraceRequest } from '../src/export/otlp/protobuf-encoder.js';
import { finishedSpan } from '../src/export/otlp/span-copy.js';
import type { FinishedSpan } from '../src/trace/span-data.js';

export interface EncodingBenchRow {
  label: string;
  protocol: 'protobuf' | 'json';
  oursMs: number;
  theirsMs: number;
  /** oursMs / theirsMs. */
  ratio: number;
  oursBytes: number;
  theirsBytes: number;
}

const RESOURCE = { attributes: { 'service.name': 'bench', 'telemetry.sdk.language': 'nodejs', 'deployment.environment': 'bench' } };
const SCOPE = { name: 'moa-otel', version: '0.1.0' };

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').slice(-width);
}

function span(i: number, attributes: Attributes, parent?: string): FinishedSpan {
  return finishedSpan({
    name: i === 0 ? 'invoke_workflow moa' : `chat model-${i}`,
    kind: i === 0 ? SpanKind.INTERNAL : SpanKind.CLIENT,
    context: { traceId: hex(0xabc + Math.floor(i / 5), 32), spanId: hex(0x1000 + i, 16), traceFlags: 1 },
    ...(parent ? { parent: { traceId: hex(0xabc + Math.floor(i / 5), 32), spanId: parent, traceFlags: 1 } } : {}),
    startTime: [1_763_900_000 + i, 123_456_789], endTime: [1_763_900_001 + i, 987_654_321],
    status: i % 7 === 3 ? { code: SpanStatusCode.ERROR, message: 'reference timed out' } : { code: SpanStatusCode.UNSET },
    attributes,
    resource: RESOURCE, instrumentationScope: SCOPE,
  });
}

function messages(bytes: number): string {
  const text = 'The quick brown fox jumps over the lazy dog; "quoted" and ünïcödé. '.repeat(Math.ceil(bytes / 70)).slice(0, bytes);
  return JSON.stringify([{ role: 'system', parts: [{ type: 'text', content: 'advise' }] }, { role: 'user', parts: [{ type: 'text', content: text }] }]);
}

function callAttributes(i: number, contentBytes: number): Attributes {
  return {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': `model-${i}`,
    'gen_ai.request.temperature': 0.7, 'gen_ai.usage.input_tokens': 1200 + i, 'gen_ai.usage.output_tokens': 300,
    'gen_ai.response.finish_reasons': ['stop'], 'moa.reference.index': i, 'moa.cost.usd': 0.00123,
    'gen_ai.input.messages': messages(contentBytes), 'gen_ai.output.messages': messages(Math.ceil(contentBytes / 10)),
  };
}

/** `count` spans in turns of five (a root and four calls), each call with `contentBytes` of messages. */
function turns(count: number, contentBytes: number): FinishedSpan[] {
  return Array.from({ length: count }, (_, i) => (i % 5 === 0
    ? span(i, { 'gen_ai.operation.name': 'invoke_workflow', 'moa.preset': 'default', 'moa.iteration': i })
    : span(i, callAttributes(i, contentBytes), hex(0x1000 + i - (i % 5), 16))));
}

function medianMs(run: () => void, rounds: number): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

function compare(label: string, protocol: 'protobuf' | 'json', spans: FinishedSpan[], rounds: number): EncodingBenchRow {
  const asSdk = spans as unknown as ReadableSpan[];
  const ours = protocol === 'protobuf' ? () => encodeProtobufTraceRequest(spans) : () => encodeJsonTraceRequest(spans);
  const theirs = protocol === 'protobuf' ? () => ProtobufTraceSerializer.serializeRequest(asSdk) : () => JsonTraceSerializer.serializeRequest(asSdk);
  const oursBytes = ours().length;
  const theirsBytes = theirs()?.byteLength ?? 0;
  // Alternate sides in short runs so machine load drifts onto both alike.
  let oursMs = 0;
  let theirsMs = 0;
  for (let i = 0; i < 4; i++) {
    oursMs += medianMs(ours, rounds);
    theirsMs += medianMs(theirs, rounds);
  }
  return { label, protocol, oursMs: oursMs / 4, theirsMs: theirsMs / 4, ratio: oursMs / theirsMs, oursBytes, theirsBytes };
}

export function runOtlpEncodingBench(quick = false): EncodingBenchRow[] {
  const cases: [string, FinishedSpan[], number][] = [
    ['512 spans, 1 KB messages', turns(512, 1_000), quick ? 5 : 20],
    ['5-span turn, 1 MB messages', turns(5, 1_000_000), quick ? 3 : 10],
  ];
  return cases.flatMap(([label, spans, rounds]) => [compare(label, 'protobuf', spans, rounds), compare(label, 'json', spans, rounds)]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of runOtlpEncodingBench(process.env.BENCH_QUICK === '1')) console.log(row);
}
