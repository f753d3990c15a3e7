/**
 * Usage and cost as providers really report them: cache counts under each
 * provider's own names, and costs as exact decimal text kept digit for digit
 * in the record.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeUsage } from '../../src/client/usage.js';
import { priceCall, reportedCost } from '../../src/client/pricing.js';
import { sessionFilePath } from '../../src/config/paths.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { byRole, recordingTracing, roots, scriptedServer, testClient, type RecordingTracing } from './helpers.js';

const usageOf = (raw: unknown) => normalizeUsage(raw)?.usage;

describe('cache counts under each provider\'s names', () => {
  it('DeepSeek: prompt_cache_hit_tokens are cache reads, not full-price input', () => {
    expect(usageOf({ prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_cache_hit_tokens: 800, prompt_cache_miss_tokens: 200 }))
      .toEqual({ inputTokens: 200, outputTokens: 50, cacheReadTokens: 800, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it('chat completions with Anthropic-native cache keys (gateways in front of Claude)', () => {
    expect(usageOf({ prompt_tokens: 1000, completion_tokens: 5, cache_read_input_tokens: 600, cache_creation_input_tokens: 100 }))
      .toEqual({ inputTokens: 300, outputTokens: 5, cacheReadTokens: 600, cacheWriteTokens: 100, reasoningTokens: 0 });
  });

  it('a top-level cached_tokens', () => {
    expect(usageOf({ prompt_tokens: 500, completion_tokens: 5, cached_tokens: 200 }))
      .toEqual({ inputTokens: 300, outputTokens: 5, cacheReadTokens: 200, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it('a zero in a generic details object does not hide the provider\'s own count', () => {
    expect(usageOf({ prompt_tokens: 1000, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 0 }, prompt_cache_hit_tokens: 900 })?.cacheReadTokens).toBe(900);
  });

  it('Responses usage: input_tokens_details decides even when a gateway adds Anthropic-native keys', () => {
    expect(normalizeUsage({
      input_tokens: 90, input_tokens_details: { cached_tokens: 60 }, output_tokens: 12, output_tokens_details: { reasoning_tokens: 4 },
      cache_creation_input_tokens: 0,
    })).toEqual({ shape: 'responses', usage: { inputTokens: 30, outputTokens: 12, cacheReadTokens: 60, cacheWriteTokens: 0, reasoningTokens: 4 } });
  });

  it('a DeepSeek cache hit is priced as a cache read (cheaper than full input)', () => {
    const raw = { prompt_tokens: 100_000, completion_tokens: 1000, prompt_cache_hit_tokens: 90_000, prompt_cache_miss_tokens: 10_000 };
    const withCache = priceCall({ provider: 'deepseek', model: 'deepseek-chat', usage: usageOf(raw)!, rawUsage: raw });
    const allMiss = priceCall({ provider: 'deepseek', model: 'deepseek-chat', usage: usageOf({ prompt_tokens: 100_000, completion_tokens: 1000 })! });
    expect(withCache.status).toBe('estimated');
    expect(Number(withCache.usd)).toBeLessThan(Number(allMiss.usd));
  });
});

describe('exact costs', () => {
  it('a decimal-string cost keeps its digits; bad text is not a cost', () => {
    expect(reportedCost({ cost: '0.1234567890123456789' })).toBe('0.1234567890123456789');
    expect(reportedCost({ cost: ' 1e-7 ' })).toBe('0.0000001');
    expect(reportedCost({ cost: '0.5"}, "x": {"' })).toBeNull();
    expect(reportedCost({ cost: '-1' })).toBeNull();
    expect(reportedCost({ total_cost: 0.25 })).toBe(0.25);
  });

  let server: ScriptedServer | undefined;
  let tracing: RecordingTracing | undefined;
  afterEach(async () => {
    await server?.close();
    await tracing?.shutdown();
  });

  it('writes a provider\'s decimal-string cost into the record with its exact digits and sums exactly', async () => {
    server = await scriptedServer({
      'advisor-a': { reply: 'A', costUsd: '0.1234567890123456789' },
      'advisor-b': { reply: 'B', costUsd: '0.1' },
      aggregator: { reply: 'done', costUsd: '0.2' },
    });
    tracing = recordingTracing();
    const client = testClient(server, tracing.instrumentation, { sessionId: 'exact-cost' });
    await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'hi' }] });
    await tracing.records('exact-cost');
    const line = readFileSync(sessionFilePath(tracing.dir, 'exact-cost'), 'utf8');
    expect(line).toContain('"cost_usd":0.1234567890123456789,');
    expect(line).toContain('"cost_usd":0.1,');
    expect(line).toContain('"cost_usd":0.2,');
    // The spans hold the nearest float; the turn total is the exact sum 0.3, not 0.30000000000000004.
    const ref = byRole(tracing.spans(), 'reference').find((s) => s.attributes['moa.reference.index'] === 0)!;
    expect(ref.attributes['moa.cost.usd']).toBe(0.12345678901234568);
    const [root] = roots(tracing.spans());
    expect(root!.attributes['moa.cost.usd']).toBe(0.4234567890123457);
    expect(0.1 + 0.2 + 0.1234567890123456789).not.toBe(0.4234567890123457);
  });
});
