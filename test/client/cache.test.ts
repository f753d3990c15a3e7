import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runConversation } from '../../src/client/conversation.js';
import type { RecordedRequest, ScriptedServer } from '../../src/testing/scripted-server.js';
import { ReferenceCache, parseFanout } from '../../src/client/cache.js';
import { byRole, recordingTracing, roots, scriptedServer, testClient, WEATHER_TOOL, type RecordingTracing } from './helpers.js';

let server: ScriptedServer | undefined;
let tracing: RecordingTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
});

/** The aggregator calls the weather tool `toolRounds` times per user turn, then answers. */
function toolCallingAggregator(toolRounds: number) {
  return (request: RecordedRequest) => {
    const msgs = request.messages.slice(0, -1); // without the guidance block
    let lastUser = -1;
    msgs.forEach((m, i) => { if (m.role === 'user') lastUser = i; });
    const toolResults = msgs.slice(lastUser + 1).filter((m) => m.role === 'tool').length;
    if (toolResults < toolRounds) {
      return { toolCalls: [{ name: 'get_weather', arguments: JSON.stringify({ city: `City${toolResults}` }) }] };
    }
    return { content: `answer after ${toolResults} tool results` };
  };
}

async function converse(fanout: string, toolRounds: number, sessionId: string, traceCacheHits = false) {
  server = await scriptedServer({
    'advisor-a': { reply: 'Advice A' },
    'advisor-b': { reply: 'Advice B' },
    aggregator: { reply: toolCallingAggregator(toolRounds) },
  });
  tracing = recordingTracing({ traceCacheHits });
  const client = testClient(server, tracing.instrumentation, { fanout, sessionId });
  const handlers = { get_weather: (args: unknown) => ({ city: (args as { city: string }).city, forecast: 'rain' }) };
  let messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
  const first = await runConversation({ client, messages, tools: [WEATHER_TOOL], handlers, sessionId });
  expect(first.stoppedBy).toBe('answer');
  messages = [...first.messages, { role: 'user', content: 'And tomorrow?' }];
  const second = await runConversation({ client, messages, tools: [WEATHER_TOOL], handlers, sessionId });
  expect(second.finalAnswer).toBe(`answer after ${toolRounds} tool results`);
  const spans = tracing.spans();
  const rootSpans = roots(spans).sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]));
  return {
    cache: rootSpans.map((r) => r.attributes['moa.cache']),
    iterations: rootSpans.map((r) => r.attributes['moa.iteration']),
    referenceSpans: byRole(spans, 'reference').length,
    referenceRequests: server.requests.filter((r) => r.model.startsWith('advisor')).length,
    records: await tracing.records(sessionId),
  };
}

describe('reference cache across tool iterations', () => {
  it('user_turn (default): tool iterations of one user turn are HITs', async () => {
    const run = await converse('user_turn', 1, 'ut');
    expect(run.cache).toEqual(['miss', 'hit', 'miss', 'hit']);
    expect(run.iterations).toEqual([1, 2, 1, 2]);
    expect(run.referenceRequests).toBe(4);
    expect(run.referenceSpans).toBe(4);
    expect(run.records.map((r) => [r.cache, r.iteration])).toEqual([['miss', 1], ['miss', 1]]);
    expect(run.records[0]?.references.map((r) => r.output)).toEqual(['Advice A', 'Advice B']);
    expect(run.records[0]?.aggregator.tool_calls).toHaveLength(1);
    expect(run.records[1]?.aggregator.tool_calls).toHaveLength(1);
    expect(JSON.stringify(run.records[1]?.aggregator.input_messages)).toContain('And tomorrow?');
  });

  it('HIT iterations reuse the same guidance', async () => {
    await converse('user_turn', 1, 'same');
    const aggRequests = server!.requests.filter((r) => r.model === 'aggregator');
    expect(aggRequests[0]?.messages.at(-1)).toEqual(aggRequests[1]?.messages.at(-1));
  });

  it('per_iteration: every iteration runs the references', async () => {
    const run = await converse('per_iteration', 1, 'pi');
    expect(run.cache).toEqual(['miss', 'miss', 'miss', 'miss']);
    expect(run.iterations).toEqual([1, 2, 1, 2]);
    expect(run.referenceRequests).toBe(8);
    expect(run.records).toHaveLength(4);
    // The second iteration's advisors saw the tool result.
    const adviceRequests = server!.requests.filter((r) => r.model === 'advisor-a');
    expect(JSON.stringify(adviceRequests[1]?.messages)).toContain('[tool result] get_weather');
  });

  it('every_n:2: references rerun on iterations 1, 3, 5 of a user turn', async () => {
    const run = await converse('every_n:2', 3, 'en');
    expect(run.cache).toEqual(['miss', 'hit', 'miss', 'hit', 'miss', 'hit', 'miss', 'hit']);
    expect(run.iterations).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(run.referenceRequests).toBe(8);
    expect(run.records.map((r) => r.iteration)).toEqual([1, 3, 1, 3]);
  });

  it('trace_cache_hits writes HIT iterations too, without reference calls', async () => {
    const run = await converse('user_turn', 1, 'hits', true);
    expect(run.records.map((r) => r.cache)).toEqual(['miss', 'hit', 'miss', 'hit']);
    expect(run.records[1]?.references).toEqual([]);
    expect(run.records[1]?.aggregator.output).toBe('answer after 1 tool results');
  });
});

describe('reference cache across sessions', () => {
  it('another session asking the same question runs its own fan-out and is recorded', async () => {
    server = await scriptedServer();
    tracing = recordingTracing();
    const client = testClient(server, tracing.instrumentation);
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Same question' }];
    await client.chat.completions.create({ model: 'moa', messages }, { sessionId: 'first' });
    await client.chat.completions.create({ model: 'moa', messages }, { sessionId: 'second' });
    expect(roots(tracing.spans()).map((r) => r.attributes['moa.cache'])).toEqual(['miss', 'miss']);
    expect(server.requests.filter((r) => r.model.startsWith('advisor'))).toHaveLength(4);
    expect(await tracing.records('second')).toHaveLength(1);
  });
});

describe('ReferenceCache', () => {
  it('keys include session, preset and reference labels', () => {
    const cache = new ReferenceCache();
    const messages = [{ role: 'user', content: 'x' }];
    const a = cache.plan({ sessionId: 's', preset: 'p', fanout: 'user_turn', messages, labels: ['a:1'] });
    const b = cache.plan({ sessionId: 's', preset: 'q', fanout: 'user_turn', messages, labels: ['a:1'] });
    const c = cache.plan({ sessionId: 's', preset: 'p', fanout: 'user_turn', messages, labels: ['a:2'] });
    const d = cache.plan({ sessionId: 't', preset: 'p', fanout: 'user_turn', messages, labels: ['a:1'] });
    expect(new Set([a.key, b.key, c.key, d.key]).size).toBe(4);
  });
  it('parses fan-out modes', () => {
    expect(parseFanout('every_n:3')).toEqual({ mode: 'every_n', every: 3 });
    expect(parseFanout('per_iteration').mode).toBe('per_iteration');
    expect(parseFanout('user_turn').mode).toBe('user_turn');
  });
});
