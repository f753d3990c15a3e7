import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { byRole, recordingTracing, roots, scriptedServer, testClient, WEATHER_TOOL, type RecordingTracing } from './helpers.js';
import { waitUntil } from '../helpers/wait-until.js';

let server: ScriptedServer | undefined;
let tracing: RecordingTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
});

const LONG_ANSWER = 'Streaming answer: it will rain in Paris, so take an umbrella and a light coat.';

async function setup(aggregator: Parameters<ScriptedServer['setModel']>[1], sessionId: string) {
  server = await scriptedServer({
    'advisor-a': { reply: 'Advice A' },
    'advisor-b': { reply: 'Advice B' },
    aggregator,
  });
  tracing = recordingTracing();
  return testClient(server, tracing.instrumentation, { sessionId });
}

const messages = [{ role: 'user' as const, content: 'Weather?' }];

describe('streaming through the MoA client', () => {
  it('the caller receives every chunk unchanged; the span captures their concatenation', async () => {
    const client = await setup({ reply: LONG_ANSWER, chunkSize: 7, tokens: { cached: 3 } }, 'stream-ok');
    const stream = await client.chat.completions.create({ model: 'moa', messages, stream: true });
    const received: ChatCompletionChunk[] = [];
    for await (const chunk of stream) received.push(chunk);

    const sent = server!.requests.find((r) => r.model === 'aggregator')!.sentChunks;
    // We asked upstream for usage the caller did not request and held back only that chunk.
    const usageChunk = sent.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    // Every chunk as sent; the last one the caller gets also carries the turn's `moa` field.
    const { moa, ...last } = received.at(-1) as ChatCompletionChunk & { moa?: { trace_id: string } };
    expect(moa?.trace_id).toBe(roots(tracing!.spans())[0]!.spanContext().traceId);
    expect([...received.slice(0, -1), last]).toEqual(sent.slice(0, -1));
    const text = received.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(LONG_ANSWER);

    const [agg] = byRole(tracing!.spans(), 'aggregator');
    expect(agg?.attributes['gen_ai.request.stream']).toBe(true);
    expect(typeof agg?.attributes['gen_ai.response.time_to_first_chunk']).toBe('number');
    expect(agg?.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(3);
    const [record] = await tracing!.records('stream-ok');
    expect(record?.aggregator.output).toBe(text);
    expect(record?.aggregator.streamed).toBe(true);
    expect(record?.aggregator.output_location).toBe('inline_from_stream');
  });

  it('passes the usage chunk through when the caller asked for it', async () => {
    const client = await setup({ reply: 'short' }, 'stream-usage');
    const stream = await client.chat.completions.create({
      model: 'moa', messages, stream: true, stream_options: { include_usage: true },
    });
    const received: ChatCompletionChunk[] = [];
    for await (const chunk of stream) received.push(chunk);
    const { moa, ...last } = received.at(-1) as ChatCompletionChunk & { moa?: unknown };
    expect(moa).toBeDefined();
    expect([...received.slice(0, -1), last]).toEqual(server!.requests.find((r) => r.model === 'aggregator')!.sentChunks);
    expect(received.at(-1)?.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('assembles streamed tool-call deltas', async () => {
    const args = JSON.stringify({ city: 'Paris', unit: 'celsius' });
    const client = await setup({ reply: { toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: args }] } }, 'stream-tools');
    const stream = await client.chat.completions.create({ model: 'moa', messages, tools: [WEATHER_TOOL], stream: true });
    const pieces: string[] = [];
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) pieces.push(call.function?.arguments ?? '');
    }
    expect(pieces.filter((p) => p !== '').length).toBeGreaterThan(1); // arrived in pieces
    const [record] = await tracing!.records('stream-tools');
    expect(record?.aggregator.tool_calls).toEqual([{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: args } }]);
    expect(record?.aggregator.finish_reason).toBe('tool_calls');
    expect(record?.aggregator.output).toBeNull();
  });

  it('an abandoned stream (break) still ends the span and writes the record', async () => {
    const client = await setup({ reply: LONG_ANSWER, chunkSize: 5, chunkDelayMs: 20 }, 'stream-abandon');
    const stream = await client.chat.completions.create({ model: 'moa', messages, stream: true });
    let seen = '';
    for await (const chunk of stream) {
      seen += chunk.choices[0]?.delta.content ?? '';
      if (seen.length >= 10) break;
    }
    const records = await tracing!.records('stream-abandon');
    expect(records).toHaveLength(1);
    expect(records[0]?.aggregator.output).toBe(seen);
    expect(seen.length).toBeLessThan(LONG_ANSWER.length);
    expect(roots(tracing!.spans())).toHaveLength(1);
    // The server sees the connection close a moment after the break: wait for it (it never comes if the request is not released).
    await waitUntil(() => server!.requests.find((r) => r.model === 'aggregator')?.aborted === true, 'the server to see the aggregator request aborted');
    expect(server!.requests.find((r) => r.model === 'aggregator')?.aborted).toBe(true);
  });

  it('a stream that dies mid-way fails the aggregator span and reaches the caller as an error', async () => {
    const client = await setup({ reply: LONG_ANSWER, chunkSize: 5, chunkDelayMs: 15, cutAfterChunks: 3 }, 'stream-cut');
    const stream = await client.chat.completions.create({ model: 'moa', messages, stream: true });
    await expect((async () => { for await (const _ of stream) { /* drain */ } })()).rejects.toThrow();
    const [agg] = byRole(tracing!.spans(), 'aggregator');
    expect(agg?.status.code).toBe(2);
    const records = await tracing!.records('stream-cut');
    expect(records).toHaveLength(1);
    expect(records[0]?.aggregator.output).toBeNull();
    expect(records[0]?.aggregator.error).toMatch(/\S/);
  });
});
