import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { calcPrice } from '@pydantic/genai-prices';
import { priceCall } from '../../src/client/pricing.js';
import { exactEstimate } from '../../src/client/price-estimate.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { DecimalSum } from '../../src/record/decimal.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { recordingTracing, scriptedServer, testClient, type RecordingTracing } from './helpers.js';

const usage = (input: number, output: number, cacheRead = 0) => ({ inputTokens: input - cacheRead, outputTokens: output, cacheReadTokens: cacheRead, cacheWriteTokens: 0, reasoningTokens: 0 });

/** A cost text with more significant digits than any price times a token count has: binary-float noise. */
const NOISE = /\d*\.\d*(?:0{6,}\d|9{6,}\d)/;

describe('estimated costs are exact decimals', () => {
  it('gpt-4o, 100 input + 1 output: the table says 0.00026000000000000003, the record says 0.00026', () => {
    const table = calcPrice({ input_tokens: 100, output_tokens: 1 }, 'gpt-4o', { providerId: 'openai' })!;
    expect(String(table.total_price)).toBe('0.00026000000000000003');
    expect(priceCall({ provider: 'openai', genAiProvider: 'openai', model: 'gpt-4o', usage: usage(100, 1) }))
      .toEqual({ usd: '0.00026', status: 'estimated', source: 'genai-prices' });
  });

  it('counts cache reads at their own price, inside the input (2.5 and 1.25 per million)', () => {
    // 800 uncached × 2.5 + 200 cached × 1.25 + 500 × 10, per million.
    expect(priceCall({ provider: 'openai', genAiProvider: 'openai', model: 'gpt-4o', usage: usage(1000, 500, 200) }).usd).toBe('0.00725');
    expect(priceCall({ provider: 'openai', genAiProvider: 'openai', model: 'gpt-4o', usage: usage(107, 46) }).usd).toBe('0.0007275');
  });

  it('a model without a cache-read price counts cached tokens as input, as the table does', () => {
    const prices = { input_mtok: 3, output_mtok: 15 };
    const tokens = { input_tokens: 1000, cache_read_tokens: 400, cache_write_tokens: 0, output_tokens: 10 };
    expect(exactEstimate(prices, tokens, 0.00315)).toBe('0.00315');
  });

  it('a tiered price is chosen by the whole input', () => {
    const prices = { input_mtok: { base: 1.25, tiers: [{ start: 200_000, price: 2.5 }] }, output_mtok: 10 };
    expect(exactEstimate(prices, { input_tokens: 200_001, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: 0 }, 0.5000025)).toBe('0.5000025');
    expect(exactEstimate(prices, { input_tokens: 1000, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: 0 }, 0.00125)).toBe('0.00125');
  });

  it('when our split disagrees with the table, its total is kept without the noise', () => {
    // An unknown price key with usage we cannot count: the table's total wins, rounded to 15 digits.
    const prices = { input_mtok: 2.5, mystery_mtok: 7 };
    expect(exactEstimate(prices, { input_tokens: 100, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: 0 }, 0.00026000000000000003)).toBe('0.00026');
  });

  it('summed estimates stay exact', () => {
    const sum = new DecimalSum();
    for (const [input, output] of [[100, 1], [100, 7], [100, 22], [107, 13], [107, 16], [107, 46]] as const) {
      sum.add(priceCall({ provider: 'openai', genAiProvider: 'openai', model: 'gpt-4o', usage: usage(input, output) }).usd);
    }
    expect(sum.toString()).toBe('0.0026025');
  });
});

describe('what the file holds', () => {
  let server: ScriptedServer | undefined;
  let tracing: RecordingTracing | undefined;
  afterEach(async () => {
    await server?.close();
    await tracing?.shutdown();
  });

  it('writes every estimated cost_usd as an exact decimal, with no float noise in the line', async () => {
    server = await scriptedServer({
      'gpt-4o': { reply: 'estimated advice from gpt-4o, a little longer than the rest' },
      'gpt-4o-mini': { reply: 'more advice' },
      'gpt-4.1': { reply: 'the final answer' },
    });
    tracing = recordingTracing();
    const client = testClient(server, tracing.instrumentation, {
      providers: { openai_like: { baseURL: server.baseURL, genAiProvider: 'openai' } },
      presets: {
        test: {
          references: [{ provider: 'openai_like', model: 'gpt-4o' }, { provider: 'openai_like', model: 'gpt-4o-mini' }],
          aggregator: { provider: 'openai_like', model: 'gpt-4.1' },
        },
      },
    });
    for (const question of ['what is 2+2?', 'and 3+3, please, with a longer question this time?', 'thanks; one more: 7*6?']) {
      await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: question }] });
    }
    const [first] = await tracing.records('test-session');
    expect(first).toBeDefined();
    const text = readFileSync(sessionFilePath(tracing.dir, 'test-session'), 'utf8');
    const costs = [...text.matchAll(/"cost_usd":([^,}]+)/g)].map((m) => m[1]!);
    expect(costs.length).toBe(9);
    for (const cost of costs) {
      expect(cost).not.toBe('null');
      expect(cost).not.toMatch(NOISE);
      // At most the digits a price per million times a token count can have.
      expect(cost.replace(/^0\.0*/, '').length).toBeLessThanOrEqual(12);
    }
    // Each cost is exactly the table's prices times the recorded tokens.
    const ref = first!.references[0]!;
    const u = ref.usage!;
    const input = (u.input_tokens ?? 0) + (u.cache_read_tokens ?? 0);
    const output = u.output_tokens ?? 0;
    const table = calcPrice({ input_tokens: input, output_tokens: output }, 'gpt-4o', { providerId: 'openai' })!;
    expect(String(ref.cost_usd)).toBe(exactEstimate(table.model_price as never, {
      input_tokens: input, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: output,
    }, table.total_price));
    expect(Number(ref.cost_usd)).toBeCloseTo(table.total_price, 15);
  });
});

describe('a cost an application hands the instrumentation', () => {
  it('a double with float noise is written as the decimal it stands for', async () => {
    const tracing = recordingTracing();
    try {
      const turn = tracing.instrumentation.startTurn({ sessionId: 'app-costs', preset: 'mine' });
      turn.startReference({ index: 0, label: 'a:x', model: 'x', provider: 'a', messages: [{ role: 'user', content: 'hi' }] })
        .end({ output: 'ok', cost: { usd: 0.1 + 0.2, status: 'actual', source: 'provider' } });
      turn.startAggregator({ label: 'b:y', model: 'y', provider: 'b', messages: [{ role: 'user', content: 'hi' }] })
        .end({ output: 'done', cost: { usd: 1e-7, status: 'estimated', source: 'mine' } });
      turn.end();
      await tracing.records('app-costs');
      const line = readFileSync(sessionFilePath(tracing.dir, 'app-costs'), 'utf8');
      expect(0.1 + 0.2).toBe(0.30000000000000004);
      expect(line).toContain('"cost_usd":0.3,');
      expect(line).not.toContain('0.30000000000000004');
      expect(JSON.parse(line).aggregator.cost_usd).toBe(1e-7);
    } finally {
      await tracing.shutdown();
    }
  });
});
