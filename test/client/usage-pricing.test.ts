import { afterEach, describe, expect, it } from 'vitest';
import { calcPrice } from '@pydantic/genai-prices';
import { normalizeUsage } from '../../src/client/usage.js';
import { priceCall, reportedCost } from '../../src/client/pricing.js';
import type { ScriptedServer, UsageVariant } from '../../src/testing/scripted-server.js';
import { byRole, inMemoryTracing, scriptedServer, testClient, type TestTracing } from './helpers.js';

describe('normalizeUsage', () => {
  it('chat completions: uncached input = prompt_tokens - cached', () => {
    expect(normalizeUsage({
      prompt_tokens: 100, completion_tokens: 40, total_tokens: 140,
      prompt_tokens_details: { cached_tokens: 30 }, completion_tokens_details: { reasoning_tokens: 10 },
    })).toEqual({ shape: 'chat_completions', usage: { inputTokens: 70, outputTokens: 40, cacheReadTokens: 30, cacheWriteTokens: 0, reasoningTokens: 10 } });
  });
  it('Anthropic: input_tokens already excludes cache reads and writes', () => {
    expect(normalizeUsage({ input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 50, cache_creation_input_tokens: 7 }))
      .toEqual({ shape: 'anthropic', usage: { inputTokens: 20, outputTokens: 5, cacheReadTokens: 50, cacheWriteTokens: 7, reasoningTokens: 0 } });
  });
  it('Responses: input_tokens includes input_tokens_details.cached_tokens', () => {
    expect(normalizeUsage({
      input_tokens: 90, input_tokens_details: { cached_tokens: 60 }, output_tokens: 12, output_tokens_details: { reasoning_tokens: 4 },
    })).toEqual({ shape: 'responses', usage: { inputTokens: 30, outputTokens: 12, cacheReadTokens: 60, cacheWriteTokens: 0, reasoningTokens: 4 } });
  });
  it('returns null without token counts', () => {
    expect(normalizeUsage(undefined)).toBeNull();
    expect(normalizeUsage({ foo: 1 })).toBeNull();
  });
});

const usage = { inputTokens: 800, outputTokens: 500, cacheReadTokens: 200, cacheWriteTokens: 0, reasoningTokens: 0 };

describe('priceCall', () => {
  it('prefers a provider-reported cost (actual)', () => {
    expect(priceCall({ provider: 'openrouter', model: 'gpt-4o', usage, rawUsage: { cost: 0.0123 } }))
      .toEqual({ usd: 0.0123, status: 'actual', source: 'provider' });
    expect(reportedCost({ cost: '0.5' })).toBe('0.5');
  });
  it('estimates from genai-prices with cached tokens counted inside input', () => {
    const cost = priceCall({ provider: 'my-openai', genAiProvider: 'openai', model: 'gpt-4o', usage });
    const expected = calcPrice({ input_tokens: 1000, cache_read_tokens: 200, output_tokens: 500, cache_write_tokens: 0 }, 'gpt-4o', { providerId: 'openai' });
    expect(cost.status).toBe('estimated');
    expect(cost.source).toBe('genai-prices');
    expect(cost.usd).toBeCloseTo(expected!.total_price, 12);
    // Cached tokens are cheaper than uncached ones: counting them as uncached would cost more.
    const allUncached = priceCall({ provider: 'x', genAiProvider: 'openai', model: 'gpt-4o', usage: { ...usage, inputTokens: 1000, cacheReadTokens: 0 } });
    expect(Number(allUncached.usd)).toBeGreaterThan(Number(cost.usd));
  });
  it('identifies the provider by API URL first', () => {
    const cost = priceCall({ provider: 'router', baseURL: 'https://openrouter.ai/api/v1', model: 'openai/gpt-4o', usage });
    expect(cost.status).toBe('estimated');
  });
  it('subscription providers are included', () => {
    expect(priceCall({ provider: 'sub', genAiProvider: 'openai', model: 'gpt-4o', usage, included: true }))
      .toEqual({ usd: 0, status: 'included', source: 'subscription' });
  });
  it('zero-price routes are included', () => {
    const cost = priceCall({ provider: 'openrouter', model: 'meta-llama/llama-3.3-70b-instruct:free', usage });
    expect(cost).toEqual({ usd: 0, status: 'included', source: 'genai-prices' });
  });
  it('unknown provider or model → unknown with null cost (no guessing by model name)', () => {
    expect(priceCall({ provider: 'my-local-box', model: 'gpt-4o', usage })).toEqual({ usd: null, status: 'unknown', source: null });
    expect(priceCall({ provider: 'openai', model: 'no-such-model-xyz', usage }).status).toBe('unknown');
    expect(priceCall({ provider: 'openai', model: 'gpt-4o', usage: null }).status).toBe('unknown');
  });
});

describe('usage shapes and cost statuses over HTTP', () => {
  let server: ScriptedServer | undefined;
  let tracing: TestTracing | undefined;
  afterEach(async () => {
    await server?.close();
    await tracing?.shutdown();
  });

  for (const variant of ['chat_completions', 'anthropic', 'responses'] as UsageVariant[]) {
    it(`normalizes the ${variant} usage shape onto the spans`, async () => {
      server = await scriptedServer({
        'advisor-a': { reply: 'A', usage: variant, tokens: { cached: 5, reasoning: 3, cacheWrite: variant === 'anthropic' ? 2 : 0 } },
        'advisor-b': { reply: 'B' },
        aggregator: { reply: 'done', usage: variant, tokens: { cached: 4 } },
      });
      tracing = inMemoryTracing();
      const client = testClient(server, tracing.instrumentation);
      await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'hello there' }] });
      const ref = byRole(tracing.spans(), 'reference').find((s) => s.attributes['moa.reference.index'] === 0)!;
      const promptTokens = Math.ceil(JSON.stringify(server.requests.find((r) => r.model === 'advisor-a')!.messages).length / 4);
      const cacheWrite = variant === 'anthropic' ? 2 : 0;
      // GenAI meaning on spans: input includes cached (and written) tokens.
      expect(ref.attributes['gen_ai.usage.input_tokens']).toBe(promptTokens + cacheWrite);
      expect(ref.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(5);
      expect(ref.attributes['gen_ai.usage.reasoning.output_tokens']).toBe(3);
      if (variant === 'anthropic') expect(ref.attributes['gen_ai.usage.cache_creation.input_tokens']).toBe(2);
      const agg = byRole(tracing.spans(), 'aggregator')[0]!;
      expect(agg.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(4);
    });
  }

  it('prices each call with its own provider and model', async () => {
    server = await scriptedServer({
      'gpt-4o-mini': { reply: 'estimated advice' },
      'routed-model': { reply: 'routed advice', costUsd: 0.0042 },
      'house-model': { reply: 'final' },
    });
    tracing = inMemoryTracing();
    const client = testClient(server, tracing.instrumentation, {
      providers: {
        openai_like: { baseURL: server.baseURL, genAiProvider: 'openai' },
        router: { baseURL: server.baseURL },
        plan: { baseURL: server.baseURL, included: true },
        mystery: { baseURL: server.baseURL },
      },
      presets: {
        test: {
          references: [
            { provider: 'openai_like', model: 'gpt-4o-mini' },
            { provider: 'router', model: 'routed-model' },
            { provider: 'mystery', model: 'house-model' },
          ],
          aggregator: { provider: 'plan', model: 'house-model' },
        },
      },
    });
    await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'hi' }] });
    const spans = tracing.spans();
    const ref = (i: number) => byRole(spans, 'reference').find((s) => s.attributes['moa.reference.index'] === i)!;
    expect(ref(0).attributes['moa.cost.status']).toBe('estimated');
    expect(ref(0).attributes['moa.cost.source']).toBe('genai-prices');
    expect(Number(ref(0).attributes['moa.cost.usd'])).toBeGreaterThan(0);
    expect(ref(1).attributes['moa.cost.status']).toBe('actual');
    expect(ref(1).attributes['moa.cost.usd']).toBe(0.0042);
    expect(ref(2).attributes['moa.cost.status']).toBe('unknown');
    expect(ref(2).attributes['moa.cost.usd']).toBeUndefined();
    const agg = byRole(spans, 'aggregator')[0]!;
    expect(agg.attributes['moa.cost.status']).toBe('included');
    expect(agg.attributes['moa.cost.usd']).toBe(0);
  });
});
