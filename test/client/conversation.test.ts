import { afterEach, describe, expect, it } from 'vitest';
import { runConversation } from '../../src/client/conversation.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { inMemoryTracing, roots, scriptedServer, testClient, WEATHER_TOOL, type TestTracing } from './helpers.js';

let server: ScriptedServer | undefined;
let tracing: TestTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
});

async function withAggregator(reply: NonNullable<Parameters<ScriptedServer['setModel']>[1]['reply']>) {
  server = await scriptedServer({ 'advisor-a': { reply: 'A' }, 'advisor-b': { reply: 'B' }, aggregator: { reply } });
  tracing = inMemoryTracing();
  return testClient(server, tracing.instrumentation);
}

describe('runConversation', () => {
  it('loops model → tool calls → handlers → tool results → model until a final answer', async () => {
    const client = await withAggregator((req) => req.messages.some((m) => m.role === 'tool')
      ? { content: 'It rains.' }
      : { toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const seen: unknown[] = [];
    const result = await runConversation({
      client,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER_TOOL],
      handlers: { get_weather: (args) => { seen.push(args); return { forecast: 'rain' }; } },
    });
    expect(result.stoppedBy).toBe('answer');
    expect(result.finalAnswer).toBe('It rains.');
    expect(result.iterations).toBe(2);
    expect(seen).toEqual([{ city: 'Oslo' }]);
    expect(result.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(result.messages[2]).toEqual({ role: 'tool', tool_call_id: 'c1', content: '{"forecast":"rain"}' });
    expect(roots(tracing!.spans())).toHaveLength(2);
  });

  it('stops at maxIterations', async () => {
    const client = await withAggregator({ toolCalls: [{ name: 'get_weather', arguments: '{}' }] });
    const result = await runConversation({
      client, messages: [{ role: 'user', content: 'loop' }], tools: [WEATHER_TOOL],
      handlers: { get_weather: () => 'again' }, maxIterations: 3,
    });
    expect(result.stoppedBy).toBe('max_iterations');
    expect(result.finalAnswer).toBeNull();
    expect(server!.requests.filter((r) => r.model === 'aggregator')).toHaveLength(3);
  });

  it('reports unknown tools and handler errors to the model as tool results', async () => {
    const client = await withAggregator((req) => req.messages.some((m) => m.role === 'tool')
      ? { content: 'done' }
      : { toolCalls: [{ id: 'x', name: 'missing_tool', arguments: '{}' }, { id: 'y', name: 'get_weather', arguments: '{}' }] });
    const result = await runConversation({
      client, messages: [{ role: 'user', content: 'go' }], tools: [WEATHER_TOOL],
      handlers: { get_weather: () => { throw new Error('weather service down'); } },
    });
    const toolMessages = result.messages.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(toolMessages).toEqual(['error: no tool named "missing_tool"', 'error: weather service down']);
    expect(result.finalAnswer).toBe('done');
  });

  it('works with streaming', async () => {
    const client = await withAggregator((req) => req.messages.some((m) => m.role === 'tool')
      ? { content: 'streamed final' }
      : { toolCalls: [{ id: 's1', name: 'get_weather', arguments: '{"city":"Rome"}' }] });
    const chunks: unknown[] = [];
    const result = await runConversation({
      client, messages: [{ role: 'user', content: 'Rome?' }], tools: [WEATHER_TOOL], stream: true,
      handlers: { get_weather: () => 'sunny' }, onChunk: (c) => chunks.push(c),
    });
    expect(result.finalAnswer).toBe('streamed final');
    expect(result.messages[1]).toMatchObject({ tool_calls: [{ id: 's1', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] });
    expect(chunks.length).toBeGreaterThan(3);
  });
});
