/**
 * Arize Phoenix as a backend, read back through its own APIs:
 * - `moa-otel demo` sending http/protobuf straight to Phoenix: the chat spans
 *   are LLM spans with their messages and token counts as Phoenix shows them,
 *   the root a CHAIN with the user's question and the answer, the session
 *   view filled; http/json is refused by Phoenix (415), so the default matters;
 * - a turn carrying more than 5 MB of messages through the project's collector
 *   configuration (collector/otelcol.yaml, Phoenix added the way a
 *   docker-compose user adds it) reaches Phoenix whole, and a Jaeger whose
 *   receiver keeps gRPC's default 4 MiB limit too: the collector never merges
 *   the requests moa-otel split into one larger than that;
 * - in Phoenix's own UI (headless Chromium), on the same Phoenix: the trace
 *   list tells two turns apart by their root names, the aggregator's
 *   attributes and events show the failed reference, a capped root says so,
 *   and a partial cost total says so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoaTurn, type ChatMessage, type MoaTracing } from '../../src/index.js';
import * as A from '../../src/trace/attributes.js';
import { rootSpanName } from '../../src/trace/call-attributes.js';
import { CAPTURE_ALL } from '../../src/trace/content-policy.js';
import { expectTurnMatchesRecord } from './support/assert-turn.js';
import { waitForFileSpans, waitForJaegerSpans } from './support/backends.js';
import { bulkyConversation, messageBytes } from './support/bulk.js';
import { onlyTurnRecord, readTurnRecords, recordScriptedTurn, recordSpanIds, runDemo, sessionFiles, setupTestTracing, type CallRecord, type ScriptedCall, type TurnRecordLine } from './support/moa.js';
import {
  expectedPhoenixMessage,
  phoenixMessages,
  phoenixSessions,
  phoenixTraceSpans,
  startPhoenix,
  waitForPhoenixSpans,
  type Phoenix,
  type PhoenixSpan,
} from './support/phoenix.js';
import {
  attributeShown, CHROMIUM_MISSING, launchChromium, openSpanTab, openTraceList, phoenixProjectId, screenshot, screenshotDir, textIsCut, traceRows, UI_TIMEOUT_MS,
  widenColumn,
} from './support/phoenix-ui.js';
import { startCollector, startJaeger, type Collector, type Jaeger } from './support/stack.js';

const MB = 1_000_000;

/** The user's latest question: the last user message of the conversation the references were shown. */
function questionOf(record: TurnRecordLine): string {
  const messages = (record.references[0]?.input_messages ?? []) as Array<{ role: string; content?: unknown }>;
  const last = messages.filter((m) => m.role === 'user').at(-1);
  if (typeof last?.content !== 'string') throw new Error('the record names no user question');
  return last.content;
}

/** The turn's answer: the aggregator's text, else the tool calls it asked for. */
function answerOf(record: TurnRecordLine): string {
  const output = record.aggregator.output;
  if (typeof output === 'string' && output !== '') return output;
  const calls = (record.aggregator.tool_calls ?? []) as Array<{ function: { name: string; arguments: string } }>;
  return `tool calls: ${calls.map((c) => `${c.function.name}(${c.function.arguments})`).join(', ')}`;
}

/**
 * One MoA turn for the UI check: two references (the second fails, or answers
 * without a known cost) and an aggregator whose last message is the
 * references' advice, as MoA sends it.
 */
function recordUiTurn(tracing: MoaTracing, turn: { preset: string; question: string; secondReference: 'fails' | 'unpriced' }): void {
  const messages: ChatMessage[] = [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: turn.question }];
  const usage = { inputTokens: 40, outputTokens: 12, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  const moa = startMoaTurn({ sessionId: `phoenix-ui-${turn.preset}`, preset: turn.preset, cache: 'miss', iteration: 0, instrumentation: tracing.instrumentation });
  moa.startReference({ index: 0, model: 'ui-ref-alpha', provider: 'scripted', messages })
    .end({ output: 'advice alpha', usage, cost: { usd: 0.001, status: 'estimated', source: 'e2e' } });
  const beta = moa.startReference({ index: 1, model: 'ui-ref-beta', provider: 'scripted', messages });
  if (turn.secondReference === 'fails') beta.fail(Object.assign(new Error('upstream timed out'), { name: 'APITimeoutError' }));
  else beta.end({ output: 'advice beta', usage });
  moa.startAggregator({ model: 'ui-aggregator', provider: 'scripted', messages: [...messages, { role: 'system', content: 'Advice from the references: …' }], stream: false })
    .end({ output: `Answer for ${turn.preset}.`, usage, cost: { usd: 0.002, status: 'estimated', source: 'e2e' }, finishReason: 'stop' });
  moa.end();
}

/** A chat span as Phoenix shows it: an LLM span with the call's model, messages and token counts. */
function expectLlmSpanMatchesCall(span: PhoenixSpan, call: CallRecord, where: string): void {
  expect(span.span_kind, `${where}: Phoenix span kind`).toBe('LLM');
  expect(span.attributes['llm.model_name'], where).toBe(call.model);
  expect(phoenixMessages(span.attributes, 'llm.input_messages'), `${where}: input messages`).toEqual(call.input_messages.map(expectedPhoenixMessage));
  const [output] = phoenixMessages(span.attributes, 'llm.output_messages');
  expect(output?.role, `${where}: output role`).toBe('assistant');
  expect(output?.text, `${where}: output text`).toBe(call.output ?? '');
  expect(output?.toolCalls.map((c) => c.name), `${where}: output tool calls`).toEqual(
    ((call.tool_calls ?? []) as Array<{ function: { name: string } }>).map((c) => c.function.name),
  );
  if (call.usage) {
    const u = call.usage;
    expect(span.attributes['llm.token_count.prompt'], `${where}: prompt tokens`).toBe((u.input_tokens ?? 0) + (u.cache_read_tokens ?? 0) + (u.cache_write_tokens ?? 0));
    expect(span.attributes['llm.token_count.completion'], `${where}: completion tokens`).toBe(u.output_tokens ?? 0);
  }
}

describe('Arize Phoenix', () => {
  let work: string;
  let phoenix: Phoenix;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-phoenix-'));
    phoenix = await startPhoenix(work);
  });
  afterAll(async () => {
    await phoenix?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('demo spans sent straight to Phoenix over http/protobuf: LLM chat spans with their messages, a CHAIN root with question and answer, the session view', async () => {
    const demo = await runDemo({ dir: join(work, 'demo-traces'), otlpUrl: phoenix.url, home: join(work, 'home-demo') });
    expect(demo.exitCode).toBe(0);
    expect(demo.otlp?.endpoint).toBe(`${phoenix.url}/v1/traces`);
    expect(demo.otlp?.failedSpans).toBe(0);
    const records = await readTurnRecords(demo.sessionFile);
    expect(records.length).toBeGreaterThanOrEqual(2);

    for (const record of records) {
      const spans = await waitForPhoenixSpans(phoenix.url, record.trace_id, recordSpanIds(record));
      expect(spans, 'root + references + aggregator, each once').toHaveLength(record.references.length + 2);
      const byId = new Map(spans.map((s) => [s.context.span_id, s]));

      const root = byId.get(record.span_id);
      // Phoenix's trace list titles each turn by the root's name: preset and question tell turns apart.
      expect(root?.name).toBe(rootSpanName(record.preset, questionOf(record), CAPTURE_ALL));
      expect(root?.parent_id).toBeNull();
      expect(root?.span_kind, 'Phoenix lists the turn as a chain').toBe('CHAIN');
      expect(root?.attributes['input.value'], 'the user question').toBe(questionOf(record));
      expect(root?.attributes['output.value'], 'the answer').toBe(answerOf(record));
      expect(root?.attributes['session.id']).toBe(record.session_id);

      record.references.forEach((ref, index) => {
        const span = byId.get(ref.span_id);
        if (!span) throw new Error(`reference ${index} missing in Phoenix`);
        expect(span.parent_id).toBe(record.span_id);
        expectLlmSpanMatchesCall(span, ref, `reference ${index} (${ref.label})`);
        // The text, not the JSON of the response: what Phoenix's span table shows.
        expect(span.attributes['output.value'], `reference ${index} output.value`).toBe(ref.output);
      });
      const agg = byId.get(record.aggregator.span_id);
      if (!agg) throw new Error('aggregator missing in Phoenix');
      expect(agg.parent_id).toBe(record.span_id);
      expectLlmSpanMatchesCall(agg, record.aggregator, 'aggregator');
      expect(agg.attributes['output.value'], 'aggregator output.value').toBe(answerOf(record));
    }

    // The sessions view: one conversation, opened by the first question, closed by the last answer.
    const sessions = await phoenixSessions(phoenix.url);
    const session = sessions.find((s) => s.sessionId === demo.sessionId);
    expect(session, `session ${demo.sessionId} in Phoenix`).toBeDefined();
    expect(session?.numTraces).toBeGreaterThanOrEqual(records.length);
    const first = records[0];
    const last = records.at(-1);
    if (!first || !last) throw new Error('no records');
    expect(session?.firstInput?.value).toBe(questionOf(first));
    expect(session?.lastOutput?.value).toBe(answerOf(last));
  });

  it('control: the same kind of turn sent as http/json is refused by Phoenix (415) and never shows up', async () => {
    const dir = join(work, 'json-traces');
    const json = setupTestTracing({ dir, home: join(work, 'home-json'), otlpUrl: phoenix.url, protocol: 'http/json' });
    const messages: ChatMessage[] = [{ role: 'user', content: 'sent as JSON' }];
    recordScriptedTurn(json, {
      sessionId: 'phoenix-json',
      preset: 'json',
      references: [{ model: 'ref', provider: 'scripted', messages, output: 'advice' }],
      aggregator: { model: 'agg', provider: 'scripted', messages, output: 'answer' },
    });
    await json.forceFlush();
    await json.shutdown();
    // The turn itself never depends on the export: its record is there.
    const record = await onlyTurnRecord(dir);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await phoenixTraceSpans(phoenix.url, record.trace_id)).toEqual([]);
  });

  describe('a turn with more than 5 MB of messages through collector/otelcol.yaml', () => {
    let jaeger: Jaeger;
    let collector: Collector;
    let tracing: MoaTracing | undefined;

    beforeAll(async () => {
      // A receiver left at gRPC's default limit, as any stock OTLP/gRPC backend has.
      jaeger = await startJaeger(work, { maxRecvMsgSizeMib: 4 });
      collector = await startCollector(work, {
        jaegerOtlpGrpcEndpoint: jaeger.otlpGrpcEndpoint,
        spanFile: join(work, 'out', 'spans.jsonl'),
        phoenixUrl: phoenix.url,
      });
    });
    afterAll(async () => {
      await tracing?.shutdown();
      await collector?.stop();
      await jaeger?.stop();
    });

    it('reaches Phoenix whole, and a Jaeger that takes at most 4 MiB per request', async () => {
      const dir = join(work, 'large-traces');
      // moa-otel's defaults: http/protobuf, requests of at most 4 MiB.
      tracing = setupTestTracing({ dir, home: join(work, 'home-large'), otlpUrl: collector.otlpHttpUrl });
      const references: ScriptedCall[] = [0, 1, 2].map((i) => ({
        model: `ref-model-${i}`,
        provider: 'scripted',
        messages: bulkyConversation(1.3 * MB, i * 10),
        output: `advice ${i}`,
      }));
      const aggregator: ScriptedCall = { model: 'agg-model', provider: 'scripted', messages: bulkyConversation(1.4 * MB, 99), output: 'the answer' };
      expect(messageBytes([...references, aggregator])).toBeGreaterThanOrEqual(5 * MB);

      recordScriptedTurn(tracing, { sessionId: 'phoenix-large', preset: 'big', references, aggregator });
      await tracing.forceFlush();
      const record = await onlyTurnRecord(dir);

      // Each span fits one request, so nothing is cut: every message arrives as sent.
      const spans = await waitForPhoenixSpans(phoenix.url, record.trace_id, recordSpanIds(record), 120_000);
      expect(spans).toHaveLength(5);
      const byId = new Map(spans.map((s) => [s.context.span_id, s]));
      record.references.forEach((ref, index) => {
        const span = byId.get(ref.span_id);
        if (!span) throw new Error(`reference ${index} missing in Phoenix`);
        expectLlmSpanMatchesCall(span, ref, `large reference ${index}`);
        expect(span.attributes[A.MOA_CONTENT_TRUNCATED]).toBeUndefined();
      });
      const agg = byId.get(record.aggregator.span_id);
      if (!agg) throw new Error('aggregator missing in Phoenix');
      expectLlmSpanMatchesCall(agg, record.aggregator, 'large aggregator');
      expect(byId.get(record.span_id)?.span_kind).toBe('CHAIN');

      const jaegerSpans = await waitForJaegerSpans(jaeger.queryUrl, record.trace_id, recordSpanIds(record), 60_000);
      expectTurnMatchesRecord(jaegerSpans, record, { exactContent: true });
      const fileSpans = (await waitForFileSpans(collector.spanFile, recordSpanIds(record))).filter((s) => s.traceId === record.trace_id);
      expectTurnMatchesRecord(fileSpans, record, { exactContent: true });
    });
  });

  describe.skipIf(CHROMIUM_MISSING)('in Phoenix’s UI (headless Chromium)', () => {
    let browser: Browser | undefined;
    let page: Page;
    let shots: string;
    let tracing: MoaTracing | undefined;

    beforeAll(async () => {
      shots = await screenshotDir();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    });
    afterAll(async () => {
      await tracing?.shutdown();
      await browser?.close();
    });

    it('the trace list tells two turns apart by root name; a trace shows moa.references.outcomes, the failure event, moa.content.truncated and moa.cost.complete', async () => {
      const dir = join(work, 'ui-traces');
      tracing = setupTestTracing({ dir, home: join(work, 'home-ui'), otlpUrl: phoenix.url });
      const failing = { preset: 'ui-duo', question: 'Which train gets me from Lyon to Geneva before noon on Saturday?', secondReference: 'fails' } as const;
      // Past the root's 16 KiB display cap, so the root's input.value is cut.
      const long = { preset: 'ui-trio', question: `How long should I boil an egg at 1800 m altitude? ${'Some context. '.repeat(1_500)}`, secondReference: 'unpriced' } as const;
      recordUiTurn(tracing, failing);
      recordUiTurn(tracing, long);
      await tracing.forceFlush();
      const files = await sessionFiles(dir);
      const records = (await Promise.all(files.map(readTurnRecords))).flat();
      const recordOf = (preset: string) => {
        const record = records.find((r) => r.preset === preset);
        if (!record) throw new Error(`no record for ${preset}`);
        return record;
      };
      // Wait until Phoenix holds them through its API, so the page has something to show.
      for (const record of records) await waitForPhoenixSpans(phoenix.url, record.trace_id, recordSpanIds(record));

      // The trace list: one row per turn, each titled with its own preset and question.
      const failingName = rootSpanName(failing.preset, failing.question, CAPTURE_ALL);
      const longName = rootSpanName(long.preset, long.question, CAPTURE_ALL);
      expect(failingName).toMatch(/^invoke_workflow moa ui-duo: Which train gets me/);
      expect(longName).toMatch(/^invoke_workflow moa ui-trio: How long should I boil/);
      await openTraceList(page, phoenix.url, await phoenixProjectId(phoenix.url));
      await traceRows(page, failingName).first().waitFor({ timeout: UI_TIMEOUT_MS });
      await traceRows(page, longName).first().waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await traceRows(page, failingName).count()).toBe(1);
      expect(await traceRows(page, longName).count()).toBe(1);
      // At its default width Phoenix cuts the name column to "invoke_workflow m…"; widened, each row reads in full.
      const nameCells = [failingName, longName].map((name) => traceRows(page, name).getByText(name, { exact: true }));
      await screenshot(page, shots, '1-trace-list');
      await widenColumn(page, 'name', 480);
      for (const cell of nameCells) expect(await textIsCut(cell)).toBe(false);
      await screenshot(page, shots, '1b-trace-list-name-widened');

      // The failing turn: the aggregator's attributes name each reference's outcome, its events the failure.
      await traceRows(page, failingName).getByText(failingName).click();
      const failingRecord = recordOf(failing.preset);
      expect(failingRecord.references.map((r) => Boolean(r.error))).toEqual([false, true]);
      const aggregatorName = 'chat ui-aggregator';
      let panel = await openSpanTab(page, aggregatorName, 'Attributes');
      expect(await attributeShown(panel, A.MOA_REFERENCES_OUTCOMES)).toBe('ok,failed');
      await screenshot(page, shots, '2-aggregator-attributes');
      panel = await openSpanTab(page, aggregatorName, 'Events');
      const event = panel.getByText('moa.reference.failure');
      await event.first().waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await event.count()).toBe(1);
      await event.first().click();
      // Expanded, the event lists its attributes: which reference failed, and why.
      await panel.getByText(failingRecord.references[1]?.label ?? 'label?').first().waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await panel.innerText()).toContain('APITimeoutError');
      await screenshot(page, shots, '3-aggregator-failure-event');
      // The root of a turn whose priced calls all had a cost: a complete total.
      panel = await openSpanTab(page, failingName, 'Attributes');
      expect(await attributeShown(panel, A.MOA_COST_COMPLETE)).toBe('true');
      expect(await attributeShown(panel, A.MOA_REFERENCE_FAILED)).toBe('1');

      // The long turn: its root's display copy of the question is capped and marked; a call without cost makes the total partial.
      await openTraceList(page, phoenix.url, await phoenixProjectId(phoenix.url));
      await traceRows(page, longName).getByText(longName).click({ timeout: UI_TIMEOUT_MS });
      panel = await openSpanTab(page, longName, 'Attributes');
      expect(await attributeShown(panel, A.MOA_CONTENT_TRUNCATED)).toBe('true');
      expect(await attributeShown(panel, A.MOA_COST_COMPLETE)).toBe('false');
      expect(Number(await attributeShown(panel, A.MOA_COST_USD))).toBeCloseTo(0.003, 12);
      await screenshot(page, shots, '4-capped-root-attributes');
    });
  });
});
