/**
 * Record and cache details where moa-otel follows the original feature:
 * raw session ids, whole failure reasons, empty replies, tool-call-only
 * answers, the every_n cadence under retries, whole tool-call arguments.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { buildAdvisoryView } from '../../src/client/advisory-view.js';
import { sessionFilePath } from '../../src/config/paths.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { byRole, recordingTracing, roots, scriptedServer, testClient, WEATHER_TOOL, type RecordingTracing } from './helpers.js';

let server: ScriptedServer | undefined;
let tracing: RecordingTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
});

const ask: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What now?' }];

describe('record details', () => {
  it('writes a numeric session id raw and names its file by its text', async () => {
    tracing = recordingTracing();
    const turn = tracing.instrumentation.startTurn({ sessionId: 42, preset: 'p' });
    turn.startAggregator({ model: 'm', provider: 'local', messages: [] }).end({ output: 'ok' });
    turn.end();
    await tracing.provider.forceFlush();
    const line = readFileSync(sessionFilePath(tracing.dir, '42'), 'utf8');
    expect(line).toMatch(/^\{"ts":[\d.]+,"session_id":42,"preset":"p",/);
    expect(roots(tracing.spans())[0]!.attributes['gen_ai.conversation.id']).toBe('42');
  });

  it('writes a failure reason whole; the span status keeps one line', async () => {
    server = await scriptedServer({
      'advisor-a': { failStatus: 500, failMessage: 'upstream exploded\nretry budget: 0\ntrace: abc' },
      'advisor-b': { reply: 'B' },
      aggregator: { reply: 'done' },
    });
    tracing = recordingTracing();
    await testClient(server, tracing.instrumentation, { sessionId: 'fail' }).chat.completions.create({ model: 'moa', messages: ask });
    const [record] = await tracing.records('fail');
    const failed = record!.references[0]!;
    expect(failed.error).toBe('500 upstream exploded\nretry budget: 0\ntrace: abc');
    expect(failed.output).toBe('[failed: 500 upstream exploded\nretry budget: 0\ntrace: abc]');
    const span = byRole(tracing.spans(), 'reference').find((s) => s.attributes['moa.reference.index'] === 0)!;
    expect(span.status.message).toBe('500 upstream exploded');
  });

  it('an empty reference reply is "(empty response)" in the record and the guidance', async () => {
    server = await scriptedServer({ 'advisor-a': { reply: '  ' }, 'advisor-b': { reply: 'B' }, aggregator: { reply: 'done' } });
    tracing = recordingTracing();
    await testClient(server, tracing.instrumentation, { sessionId: 'empty' }).chat.completions.create({ model: 'moa', messages: ask });
    const [record] = await tracing.records('empty');
    expect(record!.references[0]!.output).toBe('(empty response)');
    expect(record!.references[0]!.error).toBeNull();
    const guidance = String(server.requests.find((r) => r.model === 'aggregator')!.messages.at(-1)!.content);
    expect(guidance).toContain('Reference 1 — local:advisor-a:\n(empty response)');
  });

  it('a non-streamed tool-call-only aggregator answer records output "" inline', async () => {
    server = await scriptedServer({
      'advisor-a': { reply: 'A' }, 'advisor-b': { reply: 'B' },
      aggregator: { reply: { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] } },
    });
    tracing = recordingTracing();
    await testClient(server, tracing.instrumentation, { sessionId: 'tools' }).chat.completions.create({ model: 'moa', messages: ask, tools: [WEATHER_TOOL] });
    const [record] = await tracing.records('tools');
    expect(record!.aggregator.output).toBe('');
    expect(record!.aggregator.output_location).toBe('inline');
    expect(record!.aggregator.tool_calls).toHaveLength(1);
  });
});

describe('every_n cadence', () => {
  it('an identical retry of an iteration does not use up a slot (miss, hit, hit, miss)', async () => {
    server = await scriptedServer({ 'advisor-a': { reply: 'A' }, 'advisor-b': { reply: 'B' }, aggregator: { reply: 'ok' } });
    tracing = recordingTracing();
    const client = testClient(server, tracing.instrumentation, { fanout: 'every_n:2', sessionId: 'retry' });
    const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'get_weather', arguments: `{"city":"${id}"}` } });
    const step = (n: number): ChatCompletionMessageParam[] => [
      ...ask,
      ...Array.from({ length: n }, (_, i): ChatCompletionMessageParam[] => [
        { role: 'assistant', content: null, tool_calls: [call(`c${i}`)] },
        { role: 'tool', tool_call_id: `c${i}`, content: `result ${i}` },
      ]).flat(),
    ];
    for (const messages of [step(0), step(0), step(1), step(2)]) {
      await client.chat.completions.create({ model: 'moa', messages, tools: [WEATHER_TOOL] });
    }
    const rootSpans = roots(tracing.spans()).sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]));
    expect(rootSpans.map((r) => r.attributes['moa.cache'])).toEqual(['miss', 'hit', 'hit', 'miss']);
    expect(rootSpans.map((r) => r.attributes['moa.iteration'])).toEqual([1, 1, 2, 3]);
  });
});

describe('advisory view', () => {
  it('keeps tool-call arguments whole; only tool results get the budget', () => {
    const args = JSON.stringify({ patch: 'x'.repeat(300) });
    const view = buildAdvisoryView([
      { role: 'user', content: 'fix it' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'apply_patch', arguments: args } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'y'.repeat(300) },
    ], { toolResultBudget: 100 });
    expect(view[1]!.content).toContain(`[tool call] apply_patch(${args})`);
    expect(view[1]!.content).toContain('[… 200 of 300 characters omitted …]');
  });
});
