/**
 * What backends show of a turn without reading link attributes or repeating
 * megabytes: the aggregator's summary of reference outcomes (attribute and
 * one event per failed reference), the root's display cap on
 * `input.value`/`output.value` with `moa.content.truncated` on any cut span,
 * and `moa.cost.complete` on a root whose total leaves a call out. Checked
 * live and on the replay of the same record.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { replayRecord } from '../../src/offline/replay.js';
import type { TurnRecord } from '../../src/record/schema.js';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import * as A from '../../src/trace/attributes.js';
import { ROOT_DISPLAY_MAX_BYTES } from '../../src/trace/call-attributes.js';
import type { MoaTurn } from '../../src/trace/types.js';
import type { MoaOptions } from '../../src/index.js';

interface Harness {
  memory: InMemorySpanExporter;
  flush(): Promise<void>;
  turn(sessionId: string): MoaTurn;
  /** The one record of a session. */
  record(sessionId: string): TurnRecord;
}

function harness(options: MoaOptions = {}): Harness {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-display-'));
  const processors = createMoaSpanProcessors({ save_traces: true, trace_dir: dir, ...options }, { env: {}, ignoreConfigFile: true });
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(memory)] });
  processors.instrumentation.setTracerProvider(provider);
  return {
    memory,
    flush: () => provider.forceFlush(),
    turn: (sessionId) => processors.instrumentation.startTurn({ sessionId, preset: 'trio' }),
    record: (sessionId) => JSON.parse(readFileSync(path.join(dir, `${sessionId}.jsonl`), 'utf8').trim().split('\n')[0] as string) as TurnRecord,
  };
}

const ASK = [{ role: 'user', content: 'Which route?' }];
/** What an aggregator is sent: the conversation, then the guidance block. */
const withGuidance = (messages: { role: string; content: string }[]) => [...messages, { role: 'user', content: 'guidance: the references said ...' }];

function byRole<S extends Pick<ReadableSpan, 'attributes' | 'name'>>(spans: readonly S[]) {
  const root = spans.find((s) => s.attributes[A.GEN_AI_OPERATION_NAME] === A.OPERATION_INVOKE_WORKFLOW);
  const aggregator = spans.find((s) => s.attributes[A.MOA_ROLE] === A.ROLE_AGGREGATOR);
  const references = spans.filter((s) => s.attributes[A.MOA_ROLE] === A.ROLE_REFERENCE);
  if (!root || !aggregator) throw new Error('no root or aggregator span');
  return { root, aggregator, references };
}

function replayed(record: TurnRecord) {
  return replayRecord(record, { resource: undefined as never, scope: { name: 'moa-otel' } });
}

describe('a failed reference, where both Jaeger UIs show it', () => {
  it('the aggregator says the outcomes in link order and carries one event per failed reference; the replay says the same', () => {
    const h = harness();
    const turn = h.turn('outcomes');
    turn.startReference({ index: 0, model: 'a', provider: 'p', label: 'first', messages: ASK }).end({ output: 'one' });
    const err = Object.assign(new Error('upstream 503'), { status: 503 });
    turn.startReference({ index: 1, model: 'b', provider: 'p', label: 'second', messages: ASK }).fail(err);
    turn.startReference({ index: 2, model: 'c', provider: 'p', messages: ASK }).end({ output: 'three' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: ASK }).end({ output: 'go by metro' });
    turn.end();

    const live = byRole(h.memory.getFinishedSpans());
    expect(live.aggregator.attributes[A.MOA_REFERENCES_OUTCOMES]).toBe('ok,failed,ok');
    const failures = live.aggregator.events.filter((e) => e.name === A.MOA_REFERENCE_FAILURE_EVENT);
    expect(failures.map((e) => e.attributes)).toEqual([{ [A.MOA_REFERENCE_INDEX]: 1, [A.MOA_LABEL]: 'second', [A.ERROR_TYPE]: '503' }]);
    // The links keep saying it too.
    expect(live.aggregator.links.map((l) => l.attributes?.[A.MOA_REFERENCE_OUTCOME])).toEqual(['ok', 'failed', 'ok']);
    // References themselves carry no summary.
    for (const ref of live.references) expect(ref.attributes[A.MOA_REFERENCES_OUTCOMES]).toBeUndefined();

    const replay = byRole(replayed(h.record('outcomes')));
    expect(replay.aggregator.attributes[A.MOA_REFERENCES_OUTCOMES]).toBe('ok,failed,ok');
    expect(replay.aggregator.events.filter((e) => e.name === A.MOA_REFERENCE_FAILURE_EVENT).map((e) => e.attributes)).toEqual([
      { [A.MOA_REFERENCE_INDEX]: 1, [A.MOA_LABEL]: 'second', [A.ERROR_TYPE]: '_OTHER' },
    ]);
  });

  it('a reference still running when the aggregator starts shows as open; none failed, no event', () => {
    const h = harness();
    const turn = h.turn('open');
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: ASK }).end({ output: 'one' });
    const slow = turn.startReference({ index: 1, model: 'b', provider: 'p', messages: ASK });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: ASK }).end({ output: 'answer' });
    slow.end({ output: 'late' });
    turn.end();
    const { aggregator } = byRole(h.memory.getFinishedSpans());
    expect(aggregator.attributes[A.MOA_REFERENCES_OUTCOMES]).toBe('ok,open');
    expect(aggregator.events.filter((e) => e.name === A.MOA_REFERENCE_FAILURE_EVENT)).toEqual([]);
  });
});

describe("the root's display cap", () => {
  const bigQuestion = 'Q'.repeat(5_000_000);
  const bigAnswer = 'é'.repeat(100_000);

  it('cuts a 5 MB question and a long answer on the root by default, marks the root, and leaves the calls whole', async () => {
    const h = harness();
    const turn = h.turn('big');
    const messages = [{ role: 'user', content: bigQuestion }];
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages }).end({ output: 'short advice' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: withGuidance(messages) }).end({ output: bigAnswer });
    turn.end();

    const { root, aggregator, references } = byRole(h.memory.getFinishedSpans());
    const input = String(root.attributes[A.INPUT_VALUE]);
    const output = String(root.attributes[A.OUTPUT_VALUE]);
    expect(input.startsWith('Q'.repeat(1000))).toBe(true);
    expect(input).toContain('[moa-otel: truncated');
    expect(Buffer.byteLength(input)).toBeLessThan(ROOT_DISPLAY_MAX_BYTES + 100);
    expect(Buffer.byteLength(output)).toBeLessThan(ROOT_DISPLAY_MAX_BYTES + 100);
    expect(root.attributes[A.MOA_CONTENT_TRUNCATED]).toBe(true);
    // The calls keep full content: no max_content_bytes was set.
    expect(JSON.parse(String(aggregator.attributes[A.GEN_AI_INPUT_MESSAGES]))[0].parts[0].content).toBe(bigQuestion);
    expect(aggregator.attributes[A.OUTPUT_VALUE]).toBe(bigAnswer);
    expect(aggregator.attributes[A.MOA_CONTENT_TRUNCATED]).toBeUndefined();
    expect(references[0]?.attributes[A.MOA_CONTENT_TRUNCATED]).toBeUndefined();

    // The replay of the same record shows the same cut root.
    await h.flush();
    const replay = byRole(replayed(h.record('big')));
    expect(replay.root.attributes[A.INPUT_VALUE]).toBe(input);
    expect(replay.root.attributes[A.MOA_CONTENT_TRUNCATED]).toBe(true);
  });

  it('a short turn is shown whole and unmarked', () => {
    const h = harness();
    const turn = h.turn('small');
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: ASK }).end({ output: 'advice' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: withGuidance(ASK) }).end({ output: 'metro' });
    turn.end();
    const { root } = byRole(h.memory.getFinishedSpans());
    expect(root.attributes[A.INPUT_VALUE]).toBe('Which route?');
    expect(root.attributes[A.OUTPUT_VALUE]).toBe('metro');
    expect(root.attributes[A.MOA_CONTENT_TRUNCATED]).toBeUndefined();
  });

  it('otlp.max_content_bytes smaller than the root cap wins, and every call it cuts says so', () => {
    const h = harness({ otlp: { enabled: false, max_content_bytes: 64 } });
    const turn = h.turn('capped');
    const long = [{ role: 'user', content: 'x'.repeat(500) }];
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: long }).end({ output: 'y'.repeat(200) });
    turn.startReference({ index: 1, model: 'b', provider: 'p', messages: ASK }).end({ output: 'short' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: withGuidance(long) }).end({ output: 'fine' });
    turn.end();
    const { root, aggregator, references } = byRole(h.memory.getFinishedSpans());
    expect(Buffer.byteLength(String(root.attributes[A.INPUT_VALUE]))).toBeLessThan(64 + 60);
    expect(root.attributes[A.MOA_CONTENT_TRUNCATED]).toBe(true);
    // Cut input (at start) and cut output (at end) both mark the call; an uncut call stays unmarked.
    expect(aggregator.attributes[A.MOA_CONTENT_TRUNCATED]).toBe(true);
    expect(references[0]?.attributes[A.MOA_CONTENT_TRUNCATED]).toBe(true);
    expect(references[1]?.attributes[A.MOA_CONTENT_TRUNCATED]).toBeUndefined();
  });
});

describe("a root whose total leaves a call out", () => {
  it('says moa.cost.complete=false when a call answered without a known cost, true when every answer was priced; the replay agrees', () => {
    const h = harness();
    const partial = h.turn('partial');
    partial.startReference({ index: 0, model: 'a', provider: 'p', messages: ASK }).end({ output: 'one', cost: { usd: 0.002, status: 'actual' } });
    partial.startReference({ index: 1, model: 'b', provider: 'p', messages: ASK }).end({ output: 'two' });
    partial.startAggregator({ model: 'agg', provider: 'p', messages: ASK }).end({ output: 'x', cost: { usd: 0, status: 'included' } });
    partial.end();

    const whole = h.turn('whole');
    whole.startReference({ index: 0, model: 'a', provider: 'p', messages: ASK }).end({ output: 'one', cost: { usd: 0.002, status: 'actual' } });
    // A failed call answered nothing: it leaves no spend out.
    whole.startReference({ index: 1, model: 'b', provider: 'p', messages: ASK }).fail(new Error('down'));
    whole.startAggregator({ model: 'agg', provider: 'p', messages: ASK }).end({ output: 'x', cost: { usd: '0.001', status: 'estimated' } });
    whole.end();

    const roots = h.memory.getFinishedSpans().filter((s) => s.attributes[A.GEN_AI_OPERATION_NAME] === A.OPERATION_INVOKE_WORKFLOW);
    const bySession = new Map(roots.map((r) => [r.attributes[A.MOA_SESSION_ID], r]));
    expect(bySession.get('partial')?.attributes[A.MOA_COST_USD]).toBe(0.002);
    expect(bySession.get('partial')?.attributes[A.MOA_COST_COMPLETE]).toBe(false);
    expect(bySession.get('whole')?.attributes[A.MOA_COST_USD]).toBe(0.003);
    expect(bySession.get('whole')?.attributes[A.MOA_COST_COMPLETE]).toBe(true);

    expect(byRole(replayed(h.record('partial'))).root.attributes[A.MOA_COST_COMPLETE]).toBe(false);
    expect(byRole(replayed(h.record('whole'))).root.attributes[A.MOA_COST_COMPLETE]).toBe(true);
  });

  it('a turn no call answered says nothing about completeness', () => {
    const h = harness();
    const turn = h.turn('none');
    turn.startAggregator({ model: 'agg', provider: 'p', messages: ASK }).fail(new Error('down'));
    turn.end();
    const { root } = byRole(h.memory.getFinishedSpans());
    expect(root.attributes[A.MOA_COST_COMPLETE]).toBeUndefined();
  });
});

describe("the root's name, which titles a trace list's rows", () => {
  it('carries the preset and the start of the question (one line, cut with …); the replay names it the same', async () => {
    const h = harness();
    const question = 'What is the weather in Paris today,\n  and should I cycle or take the metro this evening?';
    const turn = h.turn('named');
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: [{ role: 'user', content: question }] }).end({ output: 'advice' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: withGuidance([{ role: 'user', content: question }]) }).end({ output: 'metro' });
    turn.end();
    const { root } = byRole(h.memory.getFinishedSpans());
    expect(root.name).toBe('invoke_workflow moa trio: What is the weather in Paris today, and should I…');
    // The convention's values stay where tools group by them.
    expect(root.attributes[A.GEN_AI_OPERATION_NAME]).toBe('invoke_workflow');
    expect(root.attributes[A.GEN_AI_WORKFLOW_NAME]).toBe('moa');
    await h.flush();
    expect(byRole(replayed(h.record('named'))).root.name).toBe(root.name);
  });

  it('a short question is shown whole; without span content only the preset (the question is content)', () => {
    const shown = harness();
    const turn = shown.turn('short');
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: ASK }).end({ output: 'advice' });
    turn.end();
    const named = shown.memory.getFinishedSpans().find((s) => s.attributes[A.GEN_AI_OPERATION_NAME] === A.OPERATION_INVOKE_WORKFLOW);
    expect(named?.name).toBe('invoke_workflow moa trio: Which route?');

    const hidden = harness({ otlp: { enabled: false, capture_content: false } });
    const quiet = hidden.turn('quiet');
    quiet.startReference({ index: 0, model: 'a', provider: 'p', messages: ASK }).end({ output: 'advice' });
    quiet.end();
    const root = hidden.memory.getFinishedSpans().find((s) => s.attributes[A.GEN_AI_OPERATION_NAME] === A.OPERATION_INVOKE_WORKFLOW);
    expect(root?.name).toBe('invoke_workflow moa trio');
  });
});
