import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attributeSetKey } from '../../../src/export/otlp-metrics/attribute-set.js';
import { DEFAULT_HISTOGRAM_BOUNDARIES } from '../../../src/export/otlp-metrics/cells.js';
import type { HistogramPoint, MetricData, NumberPoint } from '../../../src/export/otlp-metrics/metric-data.js';
import { OwnMeterProvider, type OwnMeterProviderOptions } from '../../../src/export/otlp-metrics/meter-provider.js';

/** A provider on a clock that advances one second per reading, with its log. */
function provider(options: OwnMeterProviderOptions = {}): { provider: OwnMeterProvider; logs: string[] } {
  const logs: string[] = [];
  let seconds = 1_700_000_000;
  const now = (): HrTime => [seconds++, 500];
  return { provider: new OwnMeterProvider({ now, log: (m) => logs.push(m), resourceAttributes: { 'service.name': 'agg' }, ...options }), logs };
}

function metrics(p: OwnMeterProvider): Map<string, MetricData> {
  return new Map(p.collect().scopeMetrics.flatMap((s) => s.metrics.map((m) => [m.descriptor.name, m] as const)));
}

function pointsOf(metric: MetricData | undefined): (NumberPoint | HistogramPoint)[] {
  return [...(metric?.points ?? [])];
}

function valueBy(metric: MetricData | undefined): Record<string, number> {
  return Object.fromEntries(pointsOf(metric).map((p) => [JSON.stringify(p.attributes), (p as NumberPoint).value]));
}

describe('OwnMeterProvider aggregation (cumulative)', () => {
  it('sums a counter per attribute set, in any key order, and keeps the totals across collections', () => {
    const { provider: p } = provider();
    const counter = p.getMeter('moa-otel', '1.0.0').createCounter('moa.turns', { unit: '{turn}', description: 'turns' });
    counter.add(1, { 'moa.cache': 'miss', 'moa.preset': 'p' });
    counter.add(2, { 'moa.preset': 'p', 'moa.cache': 'miss' });
    counter.add(5, { 'moa.cache': 'hit', 'moa.preset': 'p' });
    counter.add(0.5);
    const first = metrics(p).get('moa.turns');
    expect(first).toMatchObject({ kind: 'sum', monotonic: true, descriptor: { name: 'moa.turns', unit: '{turn}', description: 'turns', valueType: 'double' } });
    expect(valueBy(first)).toEqual({
      '{"moa.cache":"miss","moa.preset":"p"}': 3,
      '{"moa.cache":"hit","moa.preset":"p"}': 5,
      '{}': 0.5,
    });
    counter.add(4, { 'moa.preset': 'p', 'moa.cache': 'hit' });
    const second = metrics(p).get('moa.turns');
    expect(valueBy(second)['{"moa.cache":"hit","moa.preset":"p"}']).toBe(9);
    // Cumulative: a series keeps the time it began; each collection has its own time.
    const [a, b] = [pointsOf(first)[1]!, pointsOf(second)[1]!];
    expect(b.startTime).toEqual(a.startTime);
    expect(b.time[0]).toBeGreaterThan(a.time[0]);
    expect(a.time[0]).toBeGreaterThan(a.startTime[0]);
  });

  it('keeps its own copy of the attributes: changing the caller object later changes nothing', () => {
    const { provider: p } = provider();
    const counter = p.getMeter('m').createCounter('c');
    const attributes: Record<string, string | string[]> = { model: 'a', tags: ['x'] };
    counter.add(1, attributes);
    attributes.model = 'b';
    (attributes.tags as string[]).push('y');
    expect(pointsOf(metrics(p).get('c'))[0]!.attributes).toEqual({ model: 'a', tags: ['x'] });
  });

  it('drops negative counter and histogram values, and values that are not finite numbers, reporting each cause once', () => {
    const { provider: p, logs } = provider();
    const meter = p.getMeter('m');
    const counter = meter.createCounter('c');
    const histogram = meter.createHistogram('h');
    const upDown = meter.createUpDownCounter('u');
    counter.add(3);
    counter.add(-1);
    counter.add(-2);
    counter.add(Number.NaN);
    counter.add(Infinity);
    counter.add('7' as unknown as number);
    histogram.record(-5);
    upDown.add(-4);
    upDown.add(1);
    const all = metrics(p);
    expect(valueBy(all.get('c'))).toEqual({ '{}': 3 });
    expect(all.has('h')).toBe(false);
    expect(valueBy(all.get('u'))).toEqual({ '{}': -3 });
    expect(all.get('u')).toMatchObject({ kind: 'sum', monotonic: false });
    expect(p.stats.droppedMeasurements).toBe(6);
    expect(logs).toEqual([
      'moa-otel: a negative value on counter c was not recorded (further ones are counted, not repeated)',
      'moa-otel: a value that is not a finite number on metric c was not recorded (further ones are counted, not repeated)',
      'moa-otel: a negative value on histogram h was not recorded (further ones are counted, not repeated)',
    ]);
  });

  it('truncates the fraction on integer instruments, as the SDK does', () => {
    const { provider: p } = provider();
    const counter = p.getMeter('m').createCounter('tokens', { valueType: ValueType.INT });
    counter.add(2.9);
    counter.add(1.2);
    expect(metrics(p).get('tokens')).toMatchObject({ descriptor: { valueType: 'int' }, points: [{ value: 3 }] });
  });

  it('keeps the last value of a gauge per attribute set', () => {
    const { provider: p } = provider();
    const gauge = p.getMeter('m').createGauge('queue');
    gauge.record(5, { q: 'a' });
    gauge.record(2, { q: 'a' });
    gauge.record(-7, { q: 'b' });
    expect(metrics(p).get('queue')?.kind).toBe('gauge');
    expect(valueBy(metrics(p).get('queue'))).toEqual({ '{"q":"a"}': 2, '{"q":"b"}': -7 });
  });

  it('buckets a histogram with the default boundaries, upper bounds inclusive, with count, sum, min and max', () => {
    const { provider: p } = provider();
    const histogram = p.getMeter('m').createHistogram('latency', { unit: 'ms' });
    for (const value of [0, 0.1, 5, 5.0001, 10000, 10001, 250]) histogram.record(value);
    const point = pointsOf(metrics(p).get('latency'))[0] as HistogramPoint;
    expect(point.boundaries).toEqual(DEFAULT_HISTOGRAM_BOUNDARIES);
    expect(point.boundaries).toEqual([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);
    //                   ≤0 ≤5 ≤10 ≤25 ≤50 ≤75 ≤100 ≤250 ≤500 ≤750 ≤1000 ≤2500 ≤5000 ≤7500 ≤10000 >10000
    expect(point.bucketCounts).toEqual([1, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(point).toMatchObject({ count: 7, sum: 0 + 0.1 + 5 + 5.0001 + 10000 + 10001 + 250, min: 0, max: 10001 });
  });

  it('buckets a histogram with advice.explicitBucketBoundaries, sorted, without repeats or infinities', () => {
    const { provider: p } = provider();
    const histogram = p.getMeter('m').createHistogram('gen_ai.client.token.usage', {
      advice: { explicitBucketBoundaries: [4, 1, 16, -Infinity, 4, Infinity, Number.NaN, 64] },
    });
    for (const value of [1, 2, 4, 5, 64, 65, 1000]) histogram.record(value, { 'gen_ai.token.type': 'input' });
    histogram.record(3, { 'gen_ai.token.type': 'output' });
    const [input, output] = pointsOf(metrics(p).get('gen_ai.client.token.usage')) as HistogramPoint[];
    expect(input!.boundaries).toEqual([1, 4, 16, 64]);
    expect(input!.bucketCounts).toEqual([1, 2, 1, 1, 2]);
    expect(input).toMatchObject({ count: 7, min: 1, max: 1000, attributes: { 'gen_ai.token.type': 'input' } });
    expect(output!.bucketCounts).toEqual([0, 1, 0, 0, 0]);
    // Advice of a later, identical instrument does not change the stream the first one made.
    p.getMeter('m').createHistogram('gen_ai.client.token.usage', { advice: { explicitBucketBoundaries: [1000] } }).record(2, { 'gen_ai.token.type': 'output' });
    expect((pointsOf(metrics(p).get('gen_ai.client.token.usage'))[1] as HistogramPoint).bucketCounts).toEqual([0, 2, 0, 0, 0]);
  });

  it('caps attribute sets per instrument: the rest go to one otel.metric.overflow=true series, totals intact, reported once', () => {
    const { provider: p, logs } = provider({ cardinalityLimit: 4 });
    const meter = p.getMeter('m');
    const counter = meter.createCounter('by_model');
    const other = meter.createCounter('other');
    for (let i = 0; i < 10; i++) counter.add(1, { model: `m${i}` });
    counter.add(1, { model: 'm0' }); // an existing set still counts as itself
    other.add(1, { model: 'x' });
    const all = metrics(p);
    expect(valueBy(all.get('by_model'))).toEqual({
      '{"model":"m0"}': 2, '{"model":"m1"}': 1, '{"model":"m2"}': 1, '{"otel.metric.overflow":true}': 7,
    });
    expect(pointsOf(all.get('by_model'))).toHaveLength(4);
    expect(valueBy(all.get('other'))).toEqual({ '{"model":"x"}': 1 });
    expect(p.stats.overflowMeasurements).toBe(7);
    expect(logs).toEqual(['moa-otel: metric by_model reached its limit of 4 attribute sets; measurements with further sets are counted under otel.metric.overflow=true']);
  });

  it('holds at most the cap of series however many sets arrive (memory stays bounded)', () => {
    const { provider: p } = provider();
    const histogram = p.getMeter('m').createHistogram('h');
    for (let i = 0; i < 20_000; i++) histogram.record(i, { id: i });
    const points = pointsOf(metrics(p).get('h')) as HistogramPoint[];
    expect(points).toHaveLength(2000);
    expect(points.reduce((sum, point) => sum + point.count, 0)).toBe(20_000);
    expect(points.at(-1)!.attributes).toEqual({ 'otel.metric.overflow': true });
  });

  it('aggregates identical instruments together (name in any case), and keeps conflicting ones apart with one warning', () => {
    const { provider: p, logs } = provider();
    const meter = p.getMeter('m');
    meter.createCounter('Requests').add(1);
    meter.createCounter('requests').add(2);
    meter.createUpDownCounter('requests').add(10);
    meter.createUpDownCounter('requests').add(10);
    const collected = p.collect().scopeMetrics[0]!.metrics;
    expect(collected.map((m) => [m.descriptor.name, m.kind, (m.points[0] as NumberPoint).value])).toEqual([['Requests', 'sum', 3], ['requests', 'sum', 20]]);
    expect(logs).toEqual(['moa-otel: metric requests of meter m is defined twice with a different kind, unit or value type; both are exported, which a backend may show as one metric']);
  });

  it('groups meters into scopes by name, version and schema URL, and leaves out what recorded nothing', () => {
    const { provider: p } = provider();
    p.getMeter('a', '1').createCounter('x').add(1);
    p.getMeter('a', '1').createCounter('y').add(1);
    p.getMeter('a', '2', { schemaUrl: 'https://opentelemetry.io/schemas/1.37.0' }).createCounter('x').add(1);
    p.getMeter('b').createCounter('silent');
    const data = p.collect();
    expect(data.resource.attributes).toEqual({ 'service.name': 'agg' });
    expect(data.scopeMetrics.map((s) => [s.scope, s.metrics.map((m) => m.descriptor.name)])).toEqual([
      [{ name: 'a', version: '1', schemaUrl: '' }, ['x', 'y']],
      [{ name: 'a', version: '2', schemaUrl: 'https://opentelemetry.io/schemas/1.37.0' }, ['x']],
    ]);
  });

  it('refuses invalid instrument names with one warning and records nothing for them', () => {
    const { provider: p, logs } = provider();
    const meter = p.getMeter('m');
    meter.createCounter('1bad').add(1);
    meter.createCounter('1bad').add(1);
    meter.createHistogram('has space').record(1);
    expect(p.collect().scopeMetrics).toEqual([]);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/^moa-otel: metric instrument name "1bad" is not valid/);
  });

  it('accepts observable instruments and batch callbacks as no-ops', () => {
    const { provider: p } = provider();
    const meter = p.getMeter('m');
    let called = 0;
    const gauge = meter.createObservableGauge('g');
    gauge.addCallback((result) => { called++; result.observe(1); });
    meter.createObservableCounter('oc').addCallback(() => { called++; });
    meter.createObservableUpDownCounter('ou');
    meter.addBatchObservableCallback(() => { called++; }, [gauge]);
    meter.removeBatchObservableCallback(() => undefined, [gauge]);
    expect(p.collect().scopeMetrics).toEqual([]);
    expect(called).toBe(0);
  });

  it('stops recording at shutdown but still collects what was recorded (for the last export)', () => {
    const { provider: p } = provider();
    const counter = p.getMeter('m').createCounter('c');
    counter.add(1);
    p.shutdown();
    counter.add(1);
    p.getMeter('m').createCounter('c').add(5);
    expect(valueBy(metrics(p).get('c'))).toEqual({ '{}': 1 });
  });
});

describe('attribute set keys', () => {
  /** What makes two sets one series: the same valid attributes, in any order. */
  const canonical = (attributes: Attributes) => JSON.stringify(Object.keys(attributes).sort().map((key) => [key, attributes[key]]));
  const text = fc.string({ unit: fc.constantFrom('a', ':', '1', 's', 'n', ';', '\u0000', 'é'), maxLength: 6 });
  const value = fc.oneof(text, fc.integer({ min: -3, max: 12 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(fc.oneof(text, fc.integer()), { maxLength: 3 }));
  const attributes = fc.dictionary(text, value, { maxKeys: 4 }) as fc.Arbitrary<Attributes>;

  it('are equal exactly when the sets are (no two distinct sets share a series)', () => {
    fc.assert(fc.property(attributes, attributes, (a, b) => {
      expect(attributeSetKey(a) === attributeSetKey(b)).toBe(canonical(a) === canonical(b));
    }), { numRuns: 5000 });
    // Values whose text could run together if pieces were not delimited by their lengths.
    expect(attributeSetKey({ a: 'x1:bsy' })).not.toBe(attributeSetKey({ a: 'x', b: 'y' }));
    expect(attributeSetKey({ 'a1:b': 1 })).not.toBe(attributeSetKey({ a: '', b: 1 }));
    expect(attributeSetKey({ a: '1' })).not.toBe(attributeSetKey({ a: 1 }));
    expect(attributeSetKey({ a: [1, 2] })).not.toBe(attributeSetKey({ a: '[1,2]' }));
    expect(attributeSetKey({ b: 1, a: true })).toBe(attributeSetKey({ a: true, b: 1 }));
  });

  it('ignore attributes whose value the API does not allow', () => {
    expect(attributeSetKey({ a: 1, b: undefined, c: null, d: { nested: 1 } } as unknown as Attributes)).toBe(attributeSetKey({ a: 1 }));
    expect(attributeSetKey({})).toBe(attributeSetKey(undefined));
  });
});
