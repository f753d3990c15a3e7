import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { otlpEncoding } from '../../../src/export/otlp/encoding.js';
import { encodeJsonTraceRequest } from '../../../src/export/otlp/json-encoder.js';
import { encodeProtobufTraceRequest } from '../../../src/export/otlp/protobuf-encoder.js';
import { unixNanosHalves, unixNanosString } from '../../../src/export/otlp/unix-nanos.js';
import { finishedSpan } from '../../../src/export/otlp/span-copy.js';
import { canonicalTraceRequest, decodeProtobufTraceRequest } from '../../helpers/otlp-proto.js';
import { recordSdkSpans, sdkSpansWithAttributes } from '../../helpers/sdk-spans.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

function official(spans: ReadableSpan[]): { protobuf: Uint8Array; json: Uint8Array } {
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (!protobuf || !json) throw new Error('otlp-transformer could not serialize');
  return { protobuf, json };
}

/** All four encodings (ours and otlp-transformer's, protobuf and JSON) decode to the same request. */
function expectSameAsOfficial(spans: ReadableSpan[]): unknown {
  const theirs = official(spans);
  const expected = canonicalTraceRequest(theirs.protobuf, PROTOBUF);
  expect(canonicalTraceRequest(encodeProtobufTraceRequest(spans), PROTOBUF)).toEqual(expected);
  expect(canonicalTraceRequest(encodeJsonTraceRequest(spans), JSON_TYPE)).toEqual(expected);
  expect(canonicalTraceRequest(theirs.json, JSON_TYPE)).toEqual(expected);
  return expected;
}

/** A trace with every field the encoders write: remote parent with trace state, events, links with attributes, errors, dropped counts, two scopes. */
function richSpans(): Promise<ReadableSpan[]> {
  return recordSdkSpans((tracer) => {
    const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true,
      traceState: new TraceState('vendor=opaque,other=1'),
    });
    const root = tracer().startSpan('invoke_workflow moa', { kind: SpanKind.SERVER, attributes: { 'moa.preset': 'default', 'moa.iteration': 3 } }, remoteParent);
    const child = tracer('other-scope', '9.9.9').startSpan('chat gpt-4o', {
      kind: SpanKind.CLIENT,
      startTime: [1_763_900_000, 0],
      attributes: {
        'gen_ai.request.temperature': 0.7, 'gen_ai.usage.input_tokens': 150, negative: -42, big: 2 ** 60, tiny: -(2 ** 62),
        flag: false, empty: '', unicode: 'héllo 😀 中文', lone: 'a\ud800b', control: '\u0000\u001f"\\',
        strings: ['a', '', 'ç'], ints: [1, -2, 3_000_000_000], doubles: [0.5, -1.25], bools: [true, false],
        'x.dropped.1': 1, 'x.dropped.2': 2, 'x.dropped.3': 3,
      },
      links: [
        { context: root.spanContext(), attributes: { 'moa.reference.index': 0, 'moa.reference.failed': false } },
        { context: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001', traceFlags: TraceFlags.NONE, isRemote: true } },
      ],
    }, trace.setSpan(context.active(), root));
    // The SDK keeps the newest events: the first one is dropped.
    child.addEvent('first, over the limit');
    child.addEvent('exception', { 'exception.type': 'TimeoutError', 'exception.message': 'timed out' }, [1_763_900_000, 123_456_789]);
    child.addEvent('second', undefined, [1_763_900_001, 0]);
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'reference timed out' });
    child.end([1_763_900_002, 999_999_999]);
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    tracer().startSpan('internal', { kind: SpanKind.INTERNAL, root: true }).end();
    tracer().startSpan('producer', { kind: SpanKind.PRODUCER }).end();
    tracer().startSpan('consumer', { kind: SpanKind.CONSUMER }).end();
  }, { resource: { 'service.name': 'encoder-test', 'deployment.environment': 'test' }, spanLimits: { attributeCountLimit: 14, eventCountLimit: 2 } });
}

describe('OTLP encoders against @opentelemetry/otlp-transformer', () => {
  it('encode every span field alike, in protobuf and in JSON', async () => {
    const spans = await richSpans();
    expect(spans[0]?.droppedAttributesCount).toBeGreaterThan(0);
    expect(spans[0]?.droppedEventsCount).toBe(1);
    const request = expectSameAsOfficial(spans) as { resourceSpans: { scopeSpans: { scope: { name: string }; spans: { name: string; flags: number; traceState: string }[] }[] }[] };
    // Spot checks that the comparison saw the interesting parts at all.
    const scopes = request.resourceSpans[0]?.scopeSpans ?? [];
    expect(scopes.map((s) => s.scope.name)).toEqual(['other-scope', 'moa-otel-test']);
    const root = scopes[1]?.spans.find((s) => s.name === 'invoke_workflow moa');
    expect(root?.flags).toBe(0x301); // sampled, remoteness known, remote parent
    expect(root?.traceState).toBe('vendor=opaque,other=1');
  });

  it('group spans of two providers under two resources, in first-seen order', async () => {
    const a = await sdkSpansWithAttributes([{ name: 'a1', attributes: { n: 1 } }, { name: 'a2', attributes: {} }]);
    const b = await recordSdkSpans((tracer) => tracer('b').startSpan('b1').end(), { resource: { 'service.name': 'b' } });
    const spans = [a[0]!, b[0]!, a[1]!];
    const request = expectSameAsOfficial(spans) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
    expect(request.resourceSpans.map((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name)))).toEqual([['a1', 'a2'], ['b1']]);
  });

  it('write JSON the OTLP way: hex ids, string times and int64s, integer enums, camelCase', async () => {
    const spans = await richSpans();
    const child = spans.find((s) => s.name === 'chat gpt-4o')!;
    const json = JSON.parse(encodeJsonTraceRequest([child]).toString('utf8'));
    const span = json.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.traceId).toBe(child.spanContext().traceId);
    expect(span.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.kind).toBe(3);
    expect(span.startTimeUnixNano).toMatch(/^\d{19}$/);
    expect(span.endTimeUnixNano).toBe('1763900002999999999');
    expect(span.status).toEqual({ code: 2, message: 'reference timed out' });
    expect(span.events[0]).toMatchObject({ name: 'exception', timeUnixNano: '1763900000123456789' });
    const big = span.attributes.find((a: { key: string }) => a.key === 'big');
    expect(big.value).toEqual({ intValue: '1152921504606846976' });
    expect(span.attributes.find((a: { key: string }) => a.key === 'tiny').value).toEqual({ intValue: '-4611686018427387904' });
    expect(span.links[0].attributes[0]).toEqual({ key: 'moa.reference.index', value: { intValue: '0' } });
    expect(Object.keys(span)).not.toContain('trace_id');
  });

  it('write non-finite doubles as the JSON mapping says, and as doubles in protobuf', async () => {
    const spans = await sdkSpansWithAttributes([{ name: 'n', attributes: { nan: Number.NaN, inf: Infinity, ninf: -Infinity } }]);
    const json = JSON.parse(encodeJsonTraceRequest(spans).toString('utf8'));
    expect(json.resourceSpans[0].scopeSpans[0].spans[0].attributes.map((a: { value: unknown }) => a.value)).toEqual([
      { doubleValue: 'NaN' }, { doubleValue: 'Infinity' }, { doubleValue: '-Infinity' },
    ]);
    const ours = canonicalTraceRequest(encodeProtobufTraceRequest(spans), PROTOBUF);
    expect(ours).toEqual(canonicalTraceRequest(official(spans).protobuf, PROTOBUF));
    expect(canonicalTraceRequest(encodeJsonTraceRequest(spans), JSON_TYPE)).toEqual(ours);
  });

  it('write integers past int64 as doubles, as the protobuf of otlp-transformer does', async () => {
    const spans = await sdkSpansWithAttributes([{ name: 'n', attributes: { over: 2 ** 63, under: -(2 ** 63) - 2048, edge: -(2 ** 63) } }]);
    const ours = canonicalTraceRequest(encodeProtobufTraceRequest(spans), PROTOBUF);
    expect(ours).toEqual(canonicalTraceRequest(official(spans).protobuf, PROTOBUF));
    expect(canonicalTraceRequest(encodeJsonTraceRequest(spans), JSON_TYPE)).toEqual(ours);
    const values = decodeProtobufTraceRequest(encodeProtobufTraceRequest(spans)).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.map((a) => a.value);
    expect(values).toEqual([{ doubleValue: 2 ** 63 }, { doubleValue: -(2 ** 63) - 2048 }, { intValue: '-9223372036854775808' }]);
  });

  it('encode map values (kvlist), bytes and nested arrays, and stop at cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const span = finishedSpan({
      name: 'values', kind: SpanKind.INTERNAL,
      context: { traceId: '0123456789abcdef0123456789abcdef', spanId: '0123456789abcdef', traceFlags: 1 },
      startTime: [1, 0], endTime: [2, 0], status: { code: SpanStatusCode.UNSET },
      attributes: {
        map: { a: 1, b: ['x', null], c: { d: true } }, bytes: new Uint8Array([0, 255, 16]), nested: [[1, 2], ['a']], cyclic,
      } as unknown as Attributes,
      resource: { attributes: { 'service.name': 's' } }, instrumentationScope: { name: 'scope' },
    });
    const request = canonicalTraceRequest(encodeProtobufTraceRequest([span]), PROTOBUF);
    expect(canonicalTraceRequest(encodeJsonTraceRequest([span]), JSON_TYPE)).toEqual(request);
    const attributes = decodeProtobufTraceRequest(encodeProtobufTraceRequest([span])).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes;
    expect(attributes[0]?.value.kvlistValue?.values.map((kv) => kv.key)).toEqual(['a', 'b', 'c']);
    expect(attributes[0]?.value.kvlistValue?.values[1]?.value.arrayValue?.values).toEqual([{ stringValue: 'x' }, {}]);
    expect(Buffer.from(attributes[1]?.value.bytesValue ?? '', 'base64')).toEqual(Buffer.from([0, 255, 16]));
    expect(attributes[2]?.value.arrayValue?.values[0]?.arrayValue?.values).toEqual([{ intValue: '1' }, { intValue: '2' }]);
    let depth = 0;
    let value = attributes[3]?.value;
    while (value?.kvlistValue) {
      depth++;
      value = value.kvlistValue.values.find((kv) => kv.key === 'self')?.value;
    }
    expect(depth).toBeGreaterThan(10);
    expect(depth).toBeLessThan(40);
  });

  it('measure exactly what they encode, and never above the cheap upper bound', async () => {
    const spans = await richSpans();
    for (const protocol of ['http/protobuf', 'http/json'] as const) {
      const encoding = otlpEncoding(protocol);
      const body = encoding.encode(spans);
      expect(encoding.encodedBytes(spans)).toBe(body.length);
      expect(encoding.upperBoundBytes(spans)).toBeGreaterThanOrEqual(body.length);
    }
  });

  it('agree with otlp-transformer for random attributes', async () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', '\ud800', '\udfff'), maxLength: 20 }),
    );
    // fast-check's integer() stays within 32 bits: add 64-bit and unsafe-range integers explicitly. (Numbers
    // past int64 are doubles; otlp-transformer's JSON alone writes them as clamped ints, see the test above.)
    const integer = fc.oneof(
      fc.integer(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(Number).filter((n) => n < 2 ** 63),
      fc.constantFrom(2 ** 53, -(2 ** 53) - 2, 2 ** 63 - 1024, -(2 ** 63)),
    );
    const double = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || Math.abs(d) < 2 ** 63);
    const value = fc.oneof(text, integer, double, fc.boolean(), fc.array(text, { maxLength: 4 }), fc.array(integer, { maxLength: 4 }), fc.array(fc.boolean(), { maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(text, fc.dictionary(text, value, { maxKeys: 6 })), { minLength: 1, maxLength: 4 }), async (specs) => {
        const spans = await sdkSpansWithAttributes(specs.map(([name, attributes]) => ({ name, attributes })));
        expectSameAsOfficial(spans);
        for (const protocol of ['http/protobuf', 'http/json'] as const) {
          const encoding = otlpEncoding(protocol);
          expect(encoding.upperBoundBytes(spans)).toBeGreaterThanOrEqual(encoding.encode(spans).length);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('epoch nanoseconds', () => {
  it('are exact in both halves and in decimal, on the fast path and off it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 18_000_000_000 }), fc.integer({ min: 0, max: 999_999_999 }), (seconds, nanos) => {
        const exact = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
        const [low, high] = unixNanosHalves([seconds, nanos]);
        expect((BigInt(high) << 32n) + BigInt(low)).toBe(exact);
        expect(low).toBeLessThan(2 ** 32);
        expect(unixNanosString([seconds, nanos])).toBe(exact.toString());
      }),
      { numRuns: 2000 },
    );
    expect(unixNanosString([0, 0])).toBe('0');
    expect(unixNanosString([-5, 0])).toBe('0');
    expect(unixNanosString([1, 1_500_000_000])).toBe('2500000000');
  });
});
