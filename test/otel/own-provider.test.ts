/**
 * moa-otel's own tracer provider: what it promises beyond "spans reach the
 * processors" — each test pins a behaviour that a plausible edit would break.
 */
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
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
});
