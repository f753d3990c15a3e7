/**
 * moa-otel's own tracer provider: what it promises beyond "spans reach the
 * processors" — each test pins a behaviour that a plausible edit would break.
 */
import { context, createTraceState, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnTracerProvider } from '../../src/otel/own-provider.js';
import type { FinishedSpan, SpanProcessorLike } from '../../src/trace/span-data.js';

class Collecting implements SpanProcessorLike {
  readonly started: Span[] = [];
  readonly ended: FinishedSpan[] = [];
  onStart(span: Span, _parent: Context): void { this.started.push(span); }
  onEnd(span: FinishedSpan): void { this.ended.push(span); }
  forceFlush(): Promise<void> { return Promise.resolve(); }
  shutdown(): Promise<void> { return Promise.resolve(); }
}

function providerWith(...processors: SpanProcessorLike[]) {
  return new OwnTracerProvider({ resourceAttributes: { 'service.name': 'own-provider-test' }, processors });
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => { context.setGlobalContextManager(contextManager.enable()); });
afterAll(() => { context.disable(); });

describe('OwnTracerProvider', () => {
  it('honours the SDK\'s suppress-tracing flag: no span, nothing reaches the processors (an exporter\'s own requests)', () => {
    const seen = new Collecting();
    const tracer = providerWith(seen).getTracer('t');
    const suppressed = tracer.startSpan('inside an export', {}, suppressTracing(ROOT_CONTEXT));
    expect(suppressed.isRecording()).toBe(false);
    suppressed.end();
    context.with(suppressTracing(context.active()), () => tracer.startSpan('active suppressed').end());
    expect(seen.started).toHaveLength(0);
    expect(seen.ended).toHaveLength(0);
    tracer.startSpan('normal').end();
    expect(seen.ended.map((s) => s.name)).toEqual(['normal']);
  });

  it('makes ids of lowercase hex (16 and 32 digits), all different; an invalid parent starts a trace of its own, one of ours is taken as is', () => {
    const seen = new Collecting();
    const tracer = providerWith(seen).getTracer('t');
    const ids = new Set<string>();
    // More spans than one pool of random bytes holds, so the pool is refilled on the way.
    for (let i = 0; i < 700; i++) {
      const { traceId, spanId } = tracer.startSpan('s').spanContext();
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      ids.add(spanId).add(traceId);
    }
    expect(ids.size).toBe(1400);
    const invalid = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    const fresh = tracer.startSpan('under an invalid parent', {}, invalid) as Span & Partial<FinishedSpan>;
    expect(fresh.parentSpanContext).toBeUndefined();
    expect(fresh.spanContext().traceId).not.toBe('0'.repeat(32));
    const parent = tracer.startSpan('parent', { kind: SpanKind.INTERNAL });
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, parent)) as Span & Partial<FinishedSpan>;
    expect(child.parentSpanContext).toBe(parent.spanContext());
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
  });

  it('never lets an end fall before the start: the duration is zero, not negative', () => {
    const seen = new Collecting();
    const tracer = providerWith(seen).getTracer('t');
    const span = tracer.startSpan('clock went back', { startTime: new Date('2026-01-01T00:00:10Z') });
    span.end(new Date('2026-01-01T00:00:05Z'));
    const [ended] = seen.ended;
    expect(ended?.endTime).toEqual(ended?.startTime);
    expect(ended?.duration).toEqual([0, 0]);
  });

  it('records whatever the parent\'s sampling said, and passes the parent\'s trace flags on', () => {
    const seen = new Collecting();
    const tracer = providerWith(seen).getTracer('t');
    const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE, isRemote: true,
    });
    const root = tracer.startSpan('root', { kind: SpanKind.INTERNAL }, unsampledParent);
    expect(root.isRecording()).toBe(true);
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    child.end();
    root.end();
    expect(seen.ended.map((s) => [s.name, s.spanContext().traceId, s.spanContext().traceFlags])).toEqual([
      ['child', '0af7651916cd43dd8448eb211c80319c', TraceFlags.NONE],
      ['root', '0af7651916cd43dd8448eb211c80319c', TraceFlags.NONE],
    ]);
    const own = tracer.startSpan('no parent', {}, ROOT_CONTEXT);
    own.end();
    expect(own.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('keeps a processor\'s exception away from the code that starts and ends spans, and still feeds the others', () => {
    const throwing: SpanProcessorLike = {
      onStart: () => { throw new Error('start bug'); },
      onEnd: () => { throw new Error('end bug'); },
      forceFlush: () => Promise.reject(new Error('flush bug')),
      shutdown: () => Promise.reject(new Error('shutdown bug')),
    };
    const seen = new Collecting();
    const provider = providerWith(throwing, seen);
    expect(() => provider.getTracer('t').startSpan('s').end()).not.toThrow();
    expect(seen.ended).toHaveLength(1);
    return expect(Promise.all([provider.forceFlush(), provider.shutdown()])).resolves.toBeDefined();
  });

  it('hands processors the span itself, with what an exporter reads, and records nothing after end', () => {
    const seen = new Collecting();
    const span = providerWith(seen).getTracer('scope', '1.2.3').startSpan('s', { attributes: { a: 1, bad: { nested: true } as never } });
    span.end();
    span.setAttribute('late', true);
    const [ended] = seen.ended;
    expect(ended).toBe(span);
    expect(ended?.attributes).toEqual({ a: 1 });
    expect(ended?.instrumentationScope).toEqual({ name: 'scope', version: '1.2.3', schemaUrl: undefined });
    expect(ended?.resource.attributes['service.name']).toBe('own-provider-test');
  });

  it('starts no span after shutdown', async () => {
    const seen = new Collecting();
    const provider = providerWith(seen);
    await provider.shutdown();
    const span = provider.getTracer('t').startSpan('late');
    expect(span.isRecording()).toBe(false);
    expect(seen.started).toHaveLength(0);
  });

  it('gives every span valid ids, none repeated, across many refills of its random pool', () => {
    const seen = new Collecting();
    const tracer = providerWith(seen).getTracer('t');
    // A root takes 24 bytes of the random pool and a child 8: 3000 of each refill its 4 KiB many times.
    for (let i = 0; i < 3000; i++) {
      const root = tracer.startSpan('root', {}, ROOT_CONTEXT);
      tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
      root.end();
    }
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    for (const span of seen.ended) {
      const { traceId, spanId } = span.spanContext();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(traceId).not.toBe('0'.repeat(32));
      expect(spanId).not.toBe('0'.repeat(16));
      traceIds.add(traceId);
      spanIds.add(spanId);
    }
    expect(spanIds.size).toBe(6000);
    expect(traceIds.size).toBe(3000);
    // No id shares bytes with another (part of the pool taken twice): no span id lies inside a trace id.
    const windows = new Set<string>();
    for (const traceId of traceIds) for (let at = 0; at <= 16; at++) windows.add(traceId.slice(at, at + 16));
    expect([...spanIds].filter((id) => windows.has(id))).toEqual([]);
  });

  it('passes a parent\'s trace state on, keeps the links it was given as a copy, and none when given none', () => {
    const seen = new Collecting();
    const tracer = providerWith(seen).getTracer('t');
    const traceState = createTraceState('vendor=value');
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, traceState,
    });
    const links = [{ context: { traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', traceFlags: TraceFlags.SAMPLED } }];
    const child = tracer.startSpan('child', { links }, parent);
    links.push({ context: { traceId: '2af7651916cd43dd8448eb211c80319c', spanId: 'd7ad6b7169203331', traceFlags: TraceFlags.SAMPLED } });
    child.end();
    const root = tracer.startSpan('root', {}, ROOT_CONTEXT);
    root.end();
    const [ended, endedRoot] = seen.ended;
    expect(ended?.spanContext().traceState?.get('vendor')).toBe('value');
    expect(ended?.links.map((l) => l.context.spanId)).toEqual(['c7ad6b7169203331']);
    expect(endedRoot?.links).toEqual([]);
    expect('traceState' in (endedRoot?.spanContext() ?? {})).toBe(false);
  });
});
