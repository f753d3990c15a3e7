/**
 * An aggregator whose provider speaks the Responses API (`api: responses`,
 * or `openai-codex` given a base URL and key): the caller's chat request goes
 * out as a Responses request over real HTTP (the official `openai` client's
 * `responses.create`), and the answer — plain or streamed, text or tool calls —
 * comes back as the chat completion the caller asked for, recorded as any
 * chat aggregator's is.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { sessionFilePath } from '../../src/config/paths.js';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { ProviderUnusableError } from '../../src/client/providers.js';
import { UnsupportedByResponsesError } from '../../src/client/responses-request.js';
import type { ScriptedModel, ScriptedServer } from '../../src/testing/scripted-server.js';
import { captureIo } from '../offline/fixtures.js';
import { byRole, recordingTracing, scriptedServer, testClient, testPreset, WEATHER_TOOL, type RecordingTracing } from './helpers.js';
import { waitUntil } from '../helpers/wait-until.js';

let server: ScriptedServer | undefined;
let tracing: RecordingTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
  server = undefined;
  tracing = undefined;
});

const ANSWER = 'Take an umbrella: rain in Oslo all afternoon.';
const question: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are a terse travel assistant.' },
  { role: 'user', content: 'Weather in Oslo?' },
];

/** References on the chat endpoint; the aggregator `codex-agg` on a provider that speaks the Responses API. */
async function setup(aggregator: ScriptedModel, sessionId: string, providerName = 'openai-codex') {
  server = await scriptedServer({ 'advisor-a': { reply: 'Advice A' }, 'advisor-b': { reply: 'Advice B' }, 'codex-agg': aggregator });
  tracing = recordingTracing();
  const client = testClient(server, tracing.instrumentation, {
    sessionId,
    // `openai-codex` speaks the Responses API without saying so; any other name says `api: responses`.
    providers: {
      local: { baseURL: server.baseURL },
      [providerName]: { baseURL: server.baseURL, apiKey: 'key-codex', ...(providerName === 'openai-codex' ? {} : { api: 'responses' as const }) },
    },
    presets: { test: testPreset({ aggregator: { provider: providerName, model: 'codex-agg' } }) },
  });
  return client;
}

const aggregatorRequests = () => server!.requests.filter((r) => r.model === 'codex-agg');

describe('a Responses-API aggregator', () => {
  it('answers a non-streamed turn: instructions, input, limits out; a chat completion with chat usage back', async () => {
    const client = await setup({ reply: ANSWER, tokens: { cached: 4, reasoning: 3 } }, 'resp-plain');
    const completion = await client.chat.completions.create({ model: 'moa', messages: question, max_tokens: 300, temperature: 0.2 });

    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toBe(ANSWER);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    const [request] = aggregatorRequests();
    expect(request!.endpoint).toBe('responses');
    expect(request!.headers.authorization).toBe('Bearer key-codex');
    const body = request!.body;
    expect(body.instructions).toBe('You are a terse travel assistant.');
    expect(body).toMatchObject({ model: 'codex-agg', max_output_tokens: 300, temperature: 0.2, store: false, stream: false });
    expect(body).not.toHaveProperty('messages');
    expect(body).not.toHaveProperty('max_tokens');
    const input = body.input as { role: string; content: string }[];
    expect(input[0]).toEqual({ role: 'user', content: 'Weather in Oslo?' });
    // The guidance block follows the question, as for a chat aggregator.
    expect(input[1]!.role).toBe('user');
    expect(input[1]!.content).toContain('Advice A');

    // Usage in the chat shape: prompt_tokens includes the cached ones, as input_tokens did.
    expect(completion.usage).toMatchObject({
      prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number),
      prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 },
    });
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
    const aggregatorCall = completion.moa.calls.find((c) => c.role === 'aggregator')!;
    expect(aggregatorCall.usage).toMatchObject({ input_tokens: completion.usage!.prompt_tokens - 4, cache_read_tokens: 4, reasoning_tokens: 3 });
  });

  it('a streamed turn yields chunks the openai package reassembles, with a usage chunk only when asked', async () => {
    const client = await setup({ reply: ANSWER, chunkSize: 5 }, 'resp-stream', 'my-codex');
    const stream = await client.chat.completions.create({ model: 'moa', messages: question, stream: true, stream_options: { include_usage: true } });
    // The openai package's own stream assembler reads the stream and makes its completion.
    const assembled = ChatCompletionStream.fromReadableStream(stream.toReadableStream());
    const received: ChatCompletionChunk[] = [];
    assembled.on('chunk', (chunk) => received.push(chunk));
    const final = await assembled.finalChatCompletion();
    expect(aggregatorRequests()[0]!.endpoint).toBe('responses');
    expect(aggregatorRequests()[0]!.stream).toBe(true);
    expect(received.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    // Text arrived in pieces, as the provider sent them.
    expect(received.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(5);

    expect(final.choices[0]!.message.content).toBe(ANSWER);
    expect(final.choices[0]!.finish_reason).toBe('stop');
    const usageChunk = received.at(-1)! as ChatCompletionChunk & { moa?: { totals: { calls: number } } };
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(usageChunk.moa!.totals.calls).toBe(3);

    // Not asked: no usage chunk reaches the caller, but the span still has the tokens.
    const plain = await client.chat.completions.create({ model: 'moa', messages: [...question, { role: 'user', content: 'And tomorrow?' }], stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of plain) chunks.push(chunk);
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    // The finish chunk is the last the caller gets: it carries the turn's `moa` field.
    expect((chunks.at(-1) as ChatCompletionChunk & { moa?: { preset: string } }).moa?.preset).toBe('test');
    const spans = byRole(tracing!.spans(), 'aggregator');
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(span.attributes['gen_ai.response.id']).toMatch(/^resp_scripted_/);
      // Read to its end, not cut off: a whole stream is no failure.
      expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
      expect(span.status.code).not.toBe(2);
    }
  });

  it('a Responses stream cut mid-answer fails the caller\'s stream and the aggregator entry', async () => {
    const client = await setup({ reply: ANSWER, chunkSize: 5, chunkDelayMs: 10, cutAfterChunks: 5 }, 'resp-cut');
    const stream = await client.chat.completions.create({ model: 'moa', messages: question, stream: true });
    await expect((async () => { for await (const _ of stream) { /* drain */ } })()).rejects.toThrow();
    expect(byRole(tracing!.spans(), 'aggregator')[0]!.status.code).toBe(2);
    const [record] = await tracing!.records('resp-cut');
    expect(record!.aggregator.error).toMatch(/\S/);
  });

  it('a stream the caller abandons (break) ends the span with what arrived and releases the Responses request', async () => {
    const client = await setup({ reply: ANSWER, chunkSize: 4, chunkDelayMs: 20 }, 'resp-abandon');
    const stream = await client.chat.completions.create({ model: 'moa', messages: question, stream: true });
    let seen = '';
    for await (const chunk of stream) {
      seen += chunk.choices[0]?.delta.content ?? '';
      if (seen.length >= 8) break;
    }
    const [record] = await tracing!.records('resp-abandon');
    expect(record!.aggregator.output).toBe(seen);
    expect(seen.length).toBeLessThan(ANSWER.length);
    // The server sees the connection close a moment after the break: wait for it (it never comes if the request is not released).
    await waitUntil(() => aggregatorRequests()[0]?.aborted === true, 'the server to see the Responses request aborted');
    expect(aggregatorRequests()[0]!.aborted).toBe(true);
  });

  for (const streamed of [false, true]) {
    it(`a tool-calling turn round-trips${streamed ? ' (streamed)' : ''}: the call out, its result back in the next turn`, async () => {
      const args = '{"city":"Oslo","unit":"celsius"}';
      const client = await setup({
        reply: (request) => (request.messages.some((m) => m.type === 'function_call_output')
          ? 'It is 4 °C and raining in Oslo.'
          : { toolCalls: [{ id: 'call_weather_1', name: 'get_weather', arguments: args }] }),
      }, `resp-tools-${streamed}`);
      const params = { model: 'moa', messages: question, tools: [WEATHER_TOOL], tool_choice: { type: 'function' as const, function: { name: 'get_weather' } } };
      let message;
      if (streamed) {
        const stream = await client.chat.completions.create({ ...params, stream: true });
        const final = await ChatCompletionStream.fromReadableStream(stream.toReadableStream()).finalChatCompletion();
        expect(final.choices[0]!.finish_reason).toBe('tool_calls');
        message = final.choices[0]!.message;
      } else {
        const completion = await client.chat.completions.create(params);
        expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
        message = completion.choices[0]!.message;
      }
      expect(message.tool_calls).toEqual([{ id: 'call_weather_1', type: 'function', function: { name: 'get_weather', arguments: args } }]);
      const first = aggregatorRequests()[0]!.body;
      expect(first.tools).toEqual([{
        type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.function.parameters, strict: false,
      }]);
      expect(first.tool_choice).toEqual({ type: 'function', name: 'get_weather' });

      // The caller runs the tool and sends the result back.
      const next = await client.chat.completions.create({
        ...params,
        tool_choice: 'auto',
        messages: [
          ...question,
          { role: 'assistant', content: null, tool_calls: message.tool_calls },
          { role: 'tool', tool_call_id: 'call_weather_1', content: '4 °C, rain' },
        ],
      });
      expect(next.choices[0]!.message.content).toBe('It is 4 °C and raining in Oslo.');
      const second = aggregatorRequests()[1]!.body;
      const items = second.input as Record<string, unknown>[];
      expect(items.slice(0, 3)).toEqual([
        { role: 'user', content: 'Weather in Oslo?' },
        { type: 'function_call', call_id: 'call_weather_1', name: 'get_weather', arguments: args },
        { type: 'function_call_output', call_id: 'call_weather_1', output: '4 °C, rain' },
      ]);
      expect(second.tool_choice).toBe('auto');
      const records = await tracing!.records(`resp-tools-${streamed}`);
      expect(records[0]!.aggregator.tool_calls).toEqual([expect.objectContaining({ id: 'call_weather_1', function: { name: 'get_weather', arguments: args } })]);
    });
  }

  it('the JSONL aggregator entry has the tokens and the cost, with the same fields as a chat aggregator', async () => {
    const client = await setup({ reply: ANSWER, costUsd: '0.0042', tokens: { cached: 2 } }, 'resp-record');
    await client.chat.completions.create({ model: 'moa', messages: question });
    const [record] = await tracing!.records('resp-record');
    const agg = record!.aggregator;
    expect(agg.output).toBe(ANSWER);
    expect(agg.provider).toBe('openai-codex');
    expect(agg.usage!.input_tokens).toBeGreaterThan(0);
    expect(agg.usage!.cache_read_tokens).toBe(2);
    expect(agg.usage!.output_tokens).toBeGreaterThan(0);
    expect(Number(agg.cost_usd)).toBe(0.0042);
    expect(agg.cost_status).toBe('actual');
    const responsesSpan = byRole(tracing!.spans(), 'aggregator')[0]!;
    await server!.close();
    await tracing!.shutdown();

    // The same turn through a chat-completions aggregator: the same keys in the record and on the span.
    server = await scriptedServer({ 'advisor-a': { reply: 'Advice A' }, 'advisor-b': { reply: 'Advice B' }, aggregator: { reply: ANSWER, costUsd: '0.0042', tokens: { cached: 2 } } });
    tracing = recordingTracing();
    await testClient(server, tracing.instrumentation, { sessionId: 'chat-record' }).chat.completions.create({ model: 'moa', messages: question });
    const [chat] = await tracing.records('chat-record');
    expect(Object.keys(agg).sort()).toEqual(Object.keys(chat!.aggregator).sort());
    expect(Object.keys(agg.usage!).sort()).toEqual(Object.keys(chat!.aggregator.usage!).sort());
    const chatSpan = byRole(tracing.spans(), 'aggregator')[0]!;
    expect(Object.keys(responsesSpan.attributes).sort()).toEqual(Object.keys(chatSpan.attributes).sort());
  });

  it('a request the Responses API cannot carry fails with one error naming the parameter, before any call', async () => {
    const client = await setup({ reply: ANSWER }, 'resp-refused');
    await expect(client.chat.completions.create({ model: 'moa', messages: question, n: 2 }))
      .rejects.toThrow(new UnsupportedByResponsesError('n', 'a Responses call returns one answer (use n: 1)'));
    await expect(client.chat.completions.create({ model: 'moa', messages: question, logprobs: true }))
      .rejects.toThrow(/cannot carry `logprobs`/);
    expect(server!.requests).toEqual([]);
    // What asks for nothing passes: n: 1, logprobs: false.
    const ok = await client.chat.completions.create({ model: 'moa', messages: question, n: 1, logprobs: false });
    expect(ok.choices[0]!.message.content).toBe(ANSWER);
  });

  it('an OAuth-only aggregator (openai-codex without a key) fails the turn with the sign-in it needs, calling nothing', async () => {
    server = await scriptedServer({ 'advisor-a': { reply: 'Advice A' }, 'advisor-b': { reply: 'Advice B' } });
    tracing = recordingTracing();
    const client = testClient(server, tracing.instrumentation, {
      sessionId: 'resp-oauth',
      presets: { test: testPreset({ aggregator: { provider: 'openai-codex', model: 'gpt-5.5' } }) },
    });
    const failure = client.chat.completions.create({ model: 'moa', messages: question });
    await expect(failure).rejects.toBeInstanceOf(ProviderUnusableError);
    await expect(failure).rejects.toThrow(/^provider "openai-codex" is reached through a ChatGPT sign-in \(OAuth\), which moa-otel cannot use; to call it, define "openai-codex" under providers: with a base_url and an api_key$/);
    expect(server.requests).toEqual([]);
  });

  it('a hermes config.yaml whose aggregator is openai-codex given a key (or a codex_responses provider) runs with `ask`', async () => {
    server = await scriptedServer({ 'advisor-a': { reply: 'Advice A' }, 'gpt-5.5': { reply: 'Codex says: ship it.', costUsd: '0.0007' }, 'house-agg': { reply: 'House says: wait.' } });
    const home = mkdtempSync(path.join(tmpdir(), 'hermes-codex-agg-'));
    const traces = mkdtempSync(path.join(tmpdir(), 'hermes-codex-traces-'));
    // The original's own sections: `providers:` with `api:` as the URL, and a custom provider speaking codex_responses.
    writeFileSync(path.join(home, 'config.yaml'), toYaml({
      providers: { 'openai-codex': { api: server.baseURL, api_key: '${CODEX_KEY}' } },
      custom_providers: [{ name: 'House', base_url: server.baseURL, api_mode: 'codex_responses' }],
      moa: {
        save_traces: true, trace_dir: traces, default_preset: 'codex',
        presets: {
          codex: { reference_models: [{ provider: 'custom:house', model: 'advisor-a' }], aggregator: { provider: 'openai-codex', model: 'gpt-5.5' } },
          house: { reference_models: [{ provider: 'openai-codex', model: 'advisor-a' }], aggregator: { provider: 'custom:house', model: 'house-agg' } },
        },
      },
    }));
    const env = { HERMES_HOME: home, MOA_HOME: home, CODEX_KEY: 'key-codex' };
    for (const [preset, answer, model] of [['codex', 'Codex says: ship it.', 'gpt-5.5'], ['house', 'House says: wait.', 'house-agg']] as const) {
      const cap = captureIo(env);
      const code = await runCli(['ask', 'Ship today?', '--preset', preset, '--session', `hermes-${preset}`], cap.io);
      expect(code, cap.err).toBe(0);
      expect(cap.out).toBe(`${answer}\n`);
      expect(server.requests.filter((r) => r.model === model).map((r) => r.endpoint)).toEqual(['responses']);
    }
    expect(server.requests.find((r) => r.model === 'gpt-5.5')!.headers.authorization).toBe('Bearer key-codex');
    const line = JSON.parse(readFileSync(sessionFilePath(traces, 'hermes-codex'), 'utf8').trim()) as { aggregator: { provider: string; output: string; cost_usd: unknown } };
    expect(line.aggregator).toMatchObject({ provider: 'openai-codex', output: 'Codex says: ship it.' });
    expect(Number(line.aggregator.cost_usd)).toBe(0.0007);
  });
});
