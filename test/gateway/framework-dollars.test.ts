/**
 * Where the turn's dollars reach the three agent frameworks, measured with
 * the real packages against a real gateway (documented in docs/frameworks.md):
 * the gateway answers with the requested model id and puts the whole turn's
 * cost in `usage.cost`, OpenRouter's field, which each framework carries in
 * its raw usage. The scripted upstream bills 0.001 + 0.002 + 0.004 dollars.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node24, runClient, tsClientArgs } from './client-runtimes.js';
import { ADVICE_A, ADVICE_B, PLAIN_ANSWER, recordsMentioning, startGateway, type GatewayHarness } from './harness.js';

const TOKEN = 'dollars-test-token-0123456789';
const TURN_COST = 0.007;
let h: GatewayHarness;
let node: string;

beforeAll(async () => {
  node = node24();
  h = await startGateway({
    token: TOKEN,
    models: {
      'advisor-a': { reply: ADVICE_A, costUsd: '0.001' },
      'advisor-b': { reply: ADVICE_B, costUsd: '0.002' },
      aggregator: { reply: PLAIN_ANSWER, costUsd: '0.004', chunkSize: 8 },
    },
  });
}, 300_000);
afterAll(async () => { await h?.close(); });

/** Every turn of `marker` cost the same 0.007 in the records as well. */
async function recordedCost(marker: string): Promise<string[]> {
  return recordsMentioning(await h.records(), marker).map((r) => {
    const costs = [...r.references.map((c) => c.cost_usd), r.aggregator.cost_usd].map(String);
    return costs.join('+');
  });
}

describe('the gateway answers as the requested model with the turn\'s cost in usage.cost', () => {
  it('plain fetch: model moa/duo, usage.cost 0.007 (non-streamed and in the usage chunk)', async () => {
    const post = (body: Record<string, unknown>) => fetch(`${h.url}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body),
    });
    const json = await (await post({ model: 'moa/duo', messages: [{ role: 'user', content: 'What now? [dollars fetch]' }] })).json() as { model: string; usage: { cost: number } };
    expect(json.model).toBe('moa/duo');
    expect(json.usage.cost).toBe(TURN_COST);
    const events = await (await post({ model: 'moa', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'What now? [dollars sse]' }] })).text();
    const chunks = events.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { model: string; usage?: { cost?: number } });
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(['moa']));
    expect(chunks.filter((c) => c.usage).map((c) => c.usage!.cost)).toEqual([TURN_COST]);
  });
});

describe('Vercel AI SDK', () => {
  it('usage.raw.cost of each call (and of the single step\'s totalUsage); modelId is the preset', async () => {
    const result = await runClient<Record<'generate' | 'stream', Record<string, unknown>>>(node, tsClientArgs('dollars-ai-sdk.ts', { baseURL: h.url, apiKey: TOKEN }));
    expect(result.generate).toMatchObject({
      usageRawCost: TURN_COST, stepUsageRawCost: TURN_COST, totalUsageRawCost: TURN_COST, responseModelId: 'moa/duo', providerMetadata: { moa: {} },
    });
    expect(result.stream).toMatchObject({ usageRawCost: TURN_COST, totalUsageRawCost: TURN_COST, responseModelId: 'moa/duo' });
    expect(await recordedCost('[dollars ai-sdk')).toEqual(['0.001+0.002+0.004', '0.001+0.002+0.004']);
  }, 120_000);
});

describe('LangChain ChatOpenAI', () => {
  it('response_metadata.usage.cost, invoked and streamed; usage_metadata has tokens only; model_name is the preset', async () => {
    const result = await runClient<Record<'invoke' | 'stream', { responseMetadataUsageCost: number | null; usageMetadata: Record<string, unknown> | null; modelName: string | null }>>(
      node, tsClientArgs('dollars-langchain.ts', { baseURL: h.url, apiKey: TOKEN }),
    );
    for (const run of [result.invoke, result.stream]) {
      expect(run.responseMetadataUsageCost).toBe(TURN_COST);
      expect(run.usageMetadata).not.toHaveProperty('cost');
      expect(run.modelName).toBe('moa/duo');
    }
  }, 120_000);
});

describe('OpenAI Agents SDK (OpenAIChatCompletionsModel over the gateway)', () => {
  it('rawResponses[i].providerData.usage.cost (plain runs); rawResponses[i].rawUsage.cost with preserveRawUsage (plain and streamed)', async () => {
    const result = await runClient<Record<string, Record<string, unknown>>>(node, tsClientArgs('dollars-agents.ts', { baseURL: h.url, apiKey: TOKEN }));
    expect(result.plain).toMatchObject({ providerDataUsageCost: TURN_COST, rawUsageCost: null });
    // The run's Usage object counts tokens and requests only.
    expect(result.plain!.runUsageKeys).not.toContain('cost');
    expect(result.preserveRawUsage).toMatchObject({ rawUsageCost: TURN_COST, providerDataUsageCost: TURN_COST });
    expect(result.streamedPreserveRawUsage).toMatchObject({ rawUsageCost: TURN_COST });
  }, 120_000);
});
