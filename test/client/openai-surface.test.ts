/**
 * What callers and frameworks touch: the `moa` field with the whole turn's
 * spend, `usage` as turn totals on request, the promise's `.withResponse()` /
 * `.asResponse()`, per-call options, `parse()`, and the endpoints MoA does not
 * serve.
 */
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { MoaTurnReport } from '../../src/client/turn-report.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { byRole, inMemoryTracing, roots, scriptedServer, testClient, WEATHER_TOOL, type TestTracing } from './helpers.js';

let server: ScriptedServer;
let tracing: TestTracing;
beforeEach(async () => {
  server = await scriptedServer({
    'advisor-a': { reply: 'Advice A', costUsd: '0.001' },
    'advisor-b': { reply: 'Advice B', costUsd: '0.002' },
    aggregator: { reply: 'The answer.', costUsd: '0.004', tokens: { cached: 2 } },
  });
  tracing = inMemoryTracing();
});
afterEach(async () => {
  await server.close();
  await tracing.shutdown();
});

const question: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What now?' }];
/** Prompt and completion tokens the server billed per model, from the spans. */
function spanTokens(role: string) {
  return byRole(tracing.spans(), role).map((s) => ({
    prompt: Number(s.attributes['gen_ai.usage.input_tokens']), completion: Number(s.attributes['gen_ai.usage.output_tokens']),
  }));
}

describe('the moa field', () => {
  it('reports every call and the turn totals: tokens, exact cost, failures, cache, trace id', async () => {
    server.setModel('advisor-b', { failStatus: 503, failMessage: 'overloaded' });
    const client = testClient(server, tracing.instrumentation);
    const response = await client.chat.completions.create({ model: 'moa', messages: question });
    const moa: MoaTurnReport = response.moa;
    expect(moa.trace_id).toBe(roots(tracing.spans())[0]!.spanContext().traceId);
    expect([moa.preset, moa.cache, moa.iteration, moa.session_id]).toEqual(['test', 'miss', 1, 'test-session']);
    expect(moa.calls.map((c) => [c.role, c.model, c.cost_usd_exact, c.error === null, c.cached])).toEqual([
      ['reference', 'advisor-a', '0.001', true, false],
      ['reference', 'advisor-b', null, false, false],
      ['aggregator', 'aggregator', '0.004', true, false],
    ]);
    expect(moa.calls[1]!.error).toContain('overloaded');
    const tokens = [...spanTokens('reference'), ...spanTokens('aggregator')].filter((t) => t.prompt > 0);
    expect(moa.totals.usage.input_tokens + moa.totals.usage.cache_read_tokens).toBe(tokens.reduce((n, t) => n + t.prompt, 0));
    expect(moa.totals.usage.output_tokens).toBe(tokens.reduce((n, t) => n + t.completion, 0));
    expect(moa.totals.usage.cache_read_tokens).toBe(2);
    expect(moa.totals).toMatchObject({ cost_usd: 0.005, cost_usd_exact: '0.005', cost_complete: true, calls: 3, failures: 1 });
  });

  it('on a cache hit the references are reused and add nothing to the totals', async () => {
    const client = testClient(server, tracing.instrumentation);
    const first = await client.chat.completions.create({ model: 'moa', messages: question, tools: [WEATHER_TOOL] });
    // A tool iteration of the same user turn: the advice is reused (fanout user_turn).
    const second = await client.chat.completions.create({
      model: 'moa', tools: [WEATHER_TOOL],
      messages: [
        ...question,
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'rain' },
      ],
    });
    expect(first.moa.cache).toBe('miss');
    expect(second.moa.cache).toBe('hit');
    expect(second.moa.calls.filter((c) => c.role === 'reference').every((c) => c.cached && c.usage === null)).toBe(true);
    expect(second.moa.totals).toMatchObject({ calls: 1, cost_usd_exact: '0.004' });
  });
});

describe('usage', () => {
  it('is the aggregator\'s own by default, the turn\'s totals with usage: "turn" (client or call)', async () => {
    const byDefault = await testClient(server, tracing.instrumentation).chat.completions.create({ model: 'moa', messages: question });
    const aggregatorPrompt = server.requests.filter((r) => r.model === 'aggregator').length;
    expect(aggregatorPrompt).toBe(1);
    expect(byDefault.usage?.prompt_tokens).toBe(spanTokens('aggregator')[0]!.prompt);

    const turnClient = testClient(server, tracing.instrumentation, { usage: 'turn', sessionId: 'turn-usage' });
    const turn = await turnClient.chat.completions.create({ model: 'moa', messages: question });
    const totals = turn.moa.totals.usage;
    expect(turn.usage).toEqual({
      prompt_tokens: totals.input_tokens + totals.cache_read_tokens + totals.cache_write_tokens,
      completion_tokens: totals.output_tokens,
      total_tokens: totals.total_tokens,
      prompt_tokens_details: { cached_tokens: totals.cache_read_tokens },
      completion_tokens_details: { reasoning_tokens: totals.reasoning_tokens },
      cost: 0.007,
    });
    expect(turn.usage!.prompt_tokens).toBeGreaterThan(byDefault.usage!.prompt_tokens);
    const perCall = await testClient(server, tracing.instrumentation, { sessionId: 'per-call' })
      .chat.completions.create({ model: 'moa', messages: question }, { usage: 'turn' });
    expect(perCall.usage?.total_tokens).toBe(perCall.moa.totals.usage.total_tokens);
  });

  it('streaming: the last chunk carries moa; the usage chunk the caller asked for holds turn totals in turn mode', async () => {
    const client = testClient(server, tracing.instrumentation, { usage: 'turn' });
    const stream = await client.chat.completions.create({ model: 'moa', messages: question, stream: true, stream_options: { include_usage: true } });
    const chunks: (ChatCompletionChunk & { moa?: MoaTurnReport })[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(chunks.slice(0, -1).every((c) => c.moa === undefined)).toBe(true);
    expect(last.moa?.totals.cost_usd_exact).toBe('0.007');
    expect(last.moa?.calls.at(-1)?.usage?.output_tokens).toBeGreaterThan(0);
    expect(last.usage?.total_tokens).toBe(last.moa?.totals.usage.total_tokens);
  });
});

describe('the turn\'s dollars in usage.cost (OpenRouter\'s field), in every usage mode', () => {
  it('non-streamed: the aggregator\'s tokens, the whole turn\'s cost (its own 0.004 replaced by 0.007)', async () => {
    const response = await testClient(server, tracing.instrumentation).chat.completions.create({ model: 'moa', messages: question });
    const usage = response.usage as (typeof response.usage & { cost?: number });
    expect(usage.prompt_tokens).toBe(spanTokens('aggregator')[0]!.prompt);
    expect(usage.cost).toBe(0.007);
    expect(usage.cost).toBe(response.moa.totals.cost_usd);
  });

  it('streamed: the usage chunk the caller asked for has the turn\'s cost', async () => {
    const stream = await testClient(server, tracing.instrumentation)
      .chat.completions.create({ model: 'moa', messages: question, stream: true, stream_options: { include_usage: true } });
    const chunks: (ChatCompletionChunk & { moa?: MoaTurnReport })[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const withUsage = chunks.filter((c) => c.usage);
    expect(withUsage).toHaveLength(1);
    expect((withUsage[0]!.usage as { cost?: number }).cost).toBe(0.007);
    expect(withUsage[0]!.usage!.prompt_tokens).toBe(spanTokens('aggregator')[0]!.prompt);
  });

  it('no known cost: no cost in usage (a provider\'s figure for the aggregator alone is not the turn\'s)', async () => {
    for (const model of ['advisor-a', 'advisor-b']) server.setModel(model, { reply: 'no price' });
    server.setModel('aggregator', { reply: 'The answer.' });
    const response = await testClient(server, tracing.instrumentation).chat.completions.create({ model: 'moa', messages: question });
    expect(response.usage).not.toHaveProperty('cost');
    expect(response.moa.totals.cost_usd).toBeNull();
  });
});

describe('the OpenAI client surface', () => {
  it('is an OpenAI instance; withResponse() and asResponse() describe the answer', async () => {
    const client = testClient(server, tracing.instrumentation);
    expect(client).toBeInstanceOf(OpenAI);
    const { data, response, request_id } = await client.chat.completions.create({ model: 'moa', messages: question }).withResponse();
    expect(data.choices[0]!.message.content).toBe('The answer.');
    expect(request_id).toBeNull(); // the scripted server sends no x-request-id
    expect(response.headers.get('x-moa-trace-id')).toBe(data.moa.trace_id);
    const raw = await client.chat.completions.create({ model: 'moa', messages: question }).asResponse();
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(((await raw.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('The answer.');

    const streamed = await client.chat.completions.create({ model: 'moa', messages: question, stream: true }).asResponse();
    const events = await streamed.text();
    expect(events.trim().split('\n\n').at(-1)).toBe('data: [DONE]');
    expect(events).toContain('"moa":{');
  });

  it('parse() works on it (structured output through MoA)', async () => {
    server.setModel('aggregator', { reply: '{"city":"Oslo"}' });
    const client = testClient(server, tracing.instrumentation);
    const parsed = await client.chat.completions.parse({
      model: 'moa', messages: question,
      response_format: { type: 'json_schema', json_schema: { name: 'place', strict: true, schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } },
    });
    expect(parsed.choices[0]!.message.parsed).toEqual({ city: 'Oslo' });
  });

  it('per-call options: headers (never credentials) reach every call; timeout, maxRetries and signal apply', async () => {
    const client = testClient(server, tracing.instrumentation, { providers: { local: { baseURL: server.baseURL, apiKey: 'sk-provider-own-key' } } });
    await client.chat.completions.create({ model: 'moa', messages: question }, {
      headers: { 'x-team': 'blue', authorization: 'Bearer sk-caller-secret', 'x-moa-session-id': 'from-header' },
    });
    for (const request of server.requests) {
      expect(request.headers['x-team']).toBe('blue');
      expect(request.headers.authorization).toBe('Bearer sk-provider-own-key');
    }
    expect(roots(tracing.spans())[0]!.attributes['moa.session_id']).toBe('from-header');

    server.setModel('aggregator', { failStatus: 500, failMessage: 'flaky' });
    const before = server.requests.length;
    await expect(client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'retry?' }] }, { maxRetries: 1 })).rejects.toThrow(/flaky/);
    expect(server.requests.slice(before).filter((r) => r.model === 'aggregator')).toHaveLength(2);

    server.setModel('aggregator', { hang: true });
    const started = Date.now();
    await expect(client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'slow?' }] }, { timeout: 300 })).rejects.toThrow(/timed out/i);
    expect(Date.now() - started).toBeLessThan(5000);

    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'cancel?' }] }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toThrow(/abort/i);
  });

  it('an endpoint MoA does not serve fails with a clear 404 and sends nothing', async () => {
    const client = testClient(server, tracing.instrumentation);
    await expect(client.embeddings.create({ model: 'moa', input: 'x' })).rejects.toThrow(/serves chat\.completions\.create only; \/embeddings/);
    expect(server.requests).toHaveLength(0);
  });
});
