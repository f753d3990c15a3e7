/**
 * OTLP JSON trace lines read as turn records: a live turn's JSONL line →
 * `export --out` → read back gives the same record (same keys, same order,
 * same values but the write time); spans split over lines, shuffled,
 * between other programs' spans, some missing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { JsonlTurnExporter } from '../../src/export/jsonl-exporter.js';
import { readInput, type InputRecord } from '../../src/offline/inputs.js';
import { SpanTurnDecoder } from '../../src/offline/otlp-turns.js';
import type { RecordProblem } from '../../src/offline/reader.js';
import { startMoaTurn } from '../../src/trace/instrumentation.js';
import { captureIo, makeTraceDir, type TraceDir } from './fixtures.js';

async function cli(argv: string[]) {
  const cap = captureIo();
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

async function readAll(file: string) {
  const problems: RecordProblem[] = [];
  const records: InputRecord[] = [];
  const notes: string[] = [];
  for await (const r of readInput({ file }, { onProblem: (p) => problems.push(p), onNote: (n) => notes.push(n.message) })) records.push(r);
  return { records, problems, notes };
}

/** Two live turns (one with a failed reference, streamed aggregator, exact decimal cost) written by the real JSONL exporter. */
async function liveSession(dir: string): Promise<string> {
  const jsonl = new JsonlTurnExporter({ traceDir: dir });
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(jsonl)] });
  const tracer: Tracer = provider.getTracer('moa-otel');
  for (const iteration of [0, 1]) {
    const messages = [{ role: 'system', content: 'Advise.' }, { role: 'user', content: `Zähle bis ${iteration + 3} — 日本` }];
    const turn = startMoaTurn({ sessionId: 'otlp/back', preset: 'p', fanout: 'user_turn', cache: 'miss', iteration, tracer });
    const r0 = turn.startReference({ index: 0, model: 'm0', provider: 'openai', temperature: 0.5, messages });
    const r1 = turn.startReference({ index: 1, model: 'm1', provider: 'local', messages });
    await new Promise((r) => setTimeout(r, 3));
    r0.end({ output: 'eins zwei drei', usage: { inputTokens: 10, outputTokens: 3, cacheReadTokens: 4, cacheWriteTokens: 1, reasoningTokens: 1 }, cost: { usd: '0.00088653', status: 'actual', source: 'provider' } });
    r1.fail(new Error('boom'));
    const agg = turn.startAggregator({ model: 'agg', provider: 'openai', messages: [...messages, { role: 'user', content: 'guidance' }], stream: true });
    agg.firstChunk();
    agg.end({ output: '1, 2, 3', usage: { inputTokens: 20, outputTokens: 6 }, cost: { usd: 0.002, status: 'estimated', source: 'genai-prices' }, finishReason: 'stop' });
    turn.end();
  }
  await provider.forceFlush();
  await provider.shutdown();
  return sessionFilePath(dir, 'otlp/back');
}

/** Every key path of a value, in order (arrays by index). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, `${prefix}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
  }
  return [];
}

/**
 * The record without its write time, times to the microsecond: replay takes
 * its span times from the file's seconds, which keep about a microsecond.
 */
function withoutTs(record: object): object {
  const { ts: _ts, ...rest } = record as { ts: unknown };
  return JSON.parse(JSON.stringify(rest, (key, value: unknown) => (TIME_KEYS.has(key) && typeof value === 'number' ? 'time' : value))) as object;
}
const TIME_KEYS = new Set(['started_at', 'ended_at', 'duration_ms']);

/** The times of a record in order, in microseconds. */
function timesOf(record: object): number[] {
  const times: number[] = [];
  JSON.stringify(record, (key, value: unknown) => {
    if (TIME_KEYS.has(key) && typeof value === 'number') times.push(key === 'duration_ms' ? value * 1e3 : value * 1e6);
    return value;
  });
  return times;
}

function expectSameTimes(a: object, b: object): void {
  const [x, y] = [timesOf(a), timesOf(b)];
  expect(x).toHaveLength(y.length);
  x.forEach((t, i) => expect(Math.abs(t - (y[i] as number))).toBeLessThanOrEqual(2));
}

describe('OTLP JSON trace lines in', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('JSONL → export --out → read back: the same records, key for key in the same order', async () => {
    const session = await liveSession(dir.dir);
    const otlp = path.join(dir.dir, 'spans.json');
    expect((await cli(['export', session, '--out', otlp])).code).toBe(0);
    const original = await readAll(session);
    const back = await readAll(otlp);
    expect(original.records).toHaveLength(2);
    expect(back.problems).toEqual([]);
    expect(back.records.map((r) => r.format)).toEqual(['otlp-json', 'otlp-json']);
    expect(back.records).toHaveLength(2);
    // The lines as written, and as the reader hands them out (in the schema's key order).
    const lines = readFileSync(session, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as object);
    for (const [i, line] of lines.entries()) {
      const rebuilt = back.records[i]?.record as object;
      expect(keyPaths(rebuilt)).toEqual(keyPaths(original.records[i]?.record));
      expect(new Set(keyPaths(rebuilt))).toEqual(new Set(keyPaths(line)));
      expect(withoutTs(rebuilt)).toEqual(withoutTs(line));
      expectSameTimes(rebuilt, line);
      // ts is when the line was written; rebuilt, when the root ended: a few ms apart.
      expect(Math.abs((rebuilt as { ts: number }).ts - (line as { ts: number }).ts)).toBeLessThan(1);
    }
    // And the commands read it like the session: stats agree.
    const a = await cli(['stats', '--json', session]);
    const b = await cli(['stats', '--json', otlp]);
    expect(b.out).toBe(a.out);
    const gz = path.join(dir.dir, 'spans.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(otlp)));
    expect((await cli(['stats', '--json', gz])).out).toBe(a.out);
  });

  it('spans split over lines and batches, shuffled, between other programs\' spans; missing ones make a partial record, reported', async () => {
    const session = await liveSession(dir.dir);
    const otlp = path.join(dir.dir, 'spans.json');
    await cli(['export', session, '--out', otlp]);
    type Request = { resourceSpans: { resource: unknown; scopeSpans: { scope: unknown; spans: { spanId: string; name: string }[] }[] }[] };
    const requests = readFileSync(otlp, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Request);
    const envelope = requests[0]!.resourceSpans[0]!;
    const spans = requests.flatMap((r) => r.resourceSpans.flatMap((g) => g.scopeSpans.flatMap((s) => s.spans)));
    expect(spans).toHaveLength(8);
    const one = (list: object[]) => JSON.stringify({ resourceSpans: [{ resource: envelope.resource, scopeSpans: [{ scope: envelope.scopeSpans[0]!.scope, spans: list }] }] });
    const foreign = (n: number) => ({ traceId: 'ab'.repeat(16), spanId: `${n}`.padStart(16, 'f'), name: 'GET /health', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'http.method', value: { stringValue: 'GET' } }] });
    // Turn 1: root first, its calls later, one per line, between foreign spans. Turn 2: aggregator dropped.
    const [root1, ...rest1] = [spans[3]!, spans[0]!, spans[1]!, spans[2]!]; // replay writes root, references, aggregator
    const turn2 = spans.slice(4).filter((s) => !s.name.startsWith('chat agg'));
    expect(turn2).toHaveLength(3);
    const lines = [
      one([root1, foreign(1)]), one([foreign(2)]), one([rest1[2]!]), one([foreign(3), rest1[0]!]), one(turn2.slice(0, 1)),
      one([rest1[1]!, turn2[1]!]), '', one([turn2[2]!, foreign(4)]),
    ];
    const shuffled = path.join(dir.dir, 'shuffled.json');
    writeFileSync(shuffled, `${lines.join('\n')}\n`);
    const { records, problems, notes } = await readAll(shuffled);
    const original = (await readAll(session)).records;
    expect(records).toHaveLength(2);
    expect(withoutTs(records[0]!.record)).toEqual(withoutTs(original[0]!.record));
    expect(records[0]!.partial).toBeUndefined();
    expect(records[1]).toMatchObject({ partial: true, record: { partial: true, partial_reason: 'aggregator span missing', aggregator: { error: 'aggregator was not called' } } });
    expect(withoutTs(records[1]!.record.references)).toEqual(withoutTs(original[1]!.record.references));
    expect(problems).toEqual([expect.objectContaining({ kind: 'partial', line: 8, message: expect.stringMatching(/aggregator span missing; rebuilt as a partial record from 3 spans/) })]);
    expect(notes).toEqual(['4 spans of other programs skipped, 1 turns rebuilt as partial']);
    const validate = await cli(['validate', shuffled]);
    expect(validate.out).toMatch(/shuffled\.json:8: warning: turn .*aggregator span missing/);
    expect(validate.out).toMatch(/shuffled\.json: 2 records \(4 spans of other programs skipped, 1 turns rebuilt as partial\), 1 problem\n$/);
  });

  it('holds at most maxOpenTurns turns open: the oldest is written as partial, never dropped', () => {
    const problems: RecordProblem[] = [];
    const decoder = new SpanTurnDecoder({ file: 'f', onProblem: (p) => problems.push(p) }, { maxOpenTurns: 2 });
    const call = (trace: number) => ({
      traceId: `${trace}`.padStart(32, '0'), spanId: `${trace}`.padStart(16, 'a'), parentSpanId: `${trace}`.padStart(16, 'b'), name: 'chat m',
      startTimeUnixNano: '1000000000', endTimeUnixNano: '2000000000',
      attributes: [{ key: 'moa.role', value: { stringValue: 'reference' } }, { key: 'moa.reference.index', value: { intValue: '0' } }, { key: 'gen_ai.request.model', value: { stringValue: 'm' } }],
    });
    const line = (trace: number) => ({ bytes: Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [call(trace)] }] }] })), endOffset: 0 });
    const out = [1, 2, 3, 4].flatMap((t) => decoder.decode(line(t), false));
    expect(out.map((r) => r.record.trace_id)).toEqual([`${1}`.padStart(32, '0'), `${2}`.padStart(32, '0')]);
    expect(out[0]).toMatchObject({ partial: true, record: { partial_reason: 'root span missing (more turns open than the reader holds)', span_id: '1'.padStart(16, 'b') } });
    expect(decoder.finish()).toHaveLength(2);
    expect(problems.filter((p) => p.kind === 'partial')).toHaveLength(4);
  });
});

describe('OTLP JSON input: span attributes in a shape moa-otel never writes', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  type Attribute = { key: string; value: { stringValue?: string } };
  type Span = { attributes: Attribute[] };
  type Request = { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] };

  /** The exported session with the first aggregator's output messages replaced by `messages`. */
  function withFirstAggregatorOutput(otlp: string, messages: string): string {
    let done = false;
    const lines = readFileSync(otlp, 'utf8').trim().split('\n').map((line) => {
      const request = JSON.parse(line) as Request;
      for (const span of request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))) {
        const isAggregator = span.attributes.some((a) => a.key === 'moa.role' && a.value.stringValue === 'aggregator');
        const output = span.attributes.find((a) => a.key === 'gen_ai.output.messages');
        if (done || !isAggregator || !output) continue;
        output.value = { stringValue: messages };
        done = true;
      }
      return JSON.stringify(request);
    });
    expect(done).toBe(true);
    const file = path.join(dir.dir, 'odd.json');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  it.each([
    ['a null message', '[null]'],
    ['a null part', '[{"role":"assistant","parts":[null]}]'],
    ['parts that are not a list', '[{"role":"assistant","parts":5}]'],
  ])('%s: that turn is reported in one line and the other turn is still read', async (_, messages) => {
    const session = await liveSession(dir.dir);
    const otlp = path.join(dir.dir, 'spans.json');
    expect((await cli(['export', session, '--out', otlp])).code).toBe(0);
    const odd = withFirstAggregatorOutput(otlp, messages);
    const { records, problems } = await readAll(odd);
    expect(records).toHaveLength(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('not in the form moa-otel writes');
    const validate = await cli(['validate', odd]);
    expect(validate.code).toBe(1);
    expect(`${validate.out}${validate.err}`.split('\n').filter((l) => l.includes('not in the form moa-otel writes'))).toHaveLength(1);
    const stats = await cli(['stats', '--json', odd]);
    expect(stats.code).toBe(0);
    const rows = stats.out.trim().split('\n').map((l) => JSON.parse(l) as { model: string; turns: number });
    expect(rows.find((row) => row.model === 'TOTAL')?.turns).toBe(1);
  });
});
