/**
 * Real client libraries against a real gateway: the Vercel AI SDK and
 * LangChain (on Node 24, in child processes) and Python's `openai` package
 * from PyPI, each running a tool-using agent, streamed and not. Every
 * conversation must come out as a MoA turn per request — one session per
 * conversation, the tool iteration a cache HIT of its user turn — in the
 * JSONL records and in the spans the OTLP receiver got.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnRecord } from '../../src/record/schema.js';
import { node24, pyClientArgs, pythonWithOpenai, runClient, tsClientArgs } from './client-runtimes.js';
import { recordsMentioning, spanTreeOf, startGateway, TOOL_ANSWER, WEATHER_ARGS, type GatewayHarness } from './harness.js';

const TOKEN = 'clients-test-token-0123456789';
let h: GatewayHarness;
let node: string;
let python: string;

beforeAll(async () => {
  node = node24();
  python = pythonWithOpenai();
  h = await startGateway({ token: TOKEN });
}, 300_000);
afterAll(async () => { await h?.close(); });

/**
 * The two requests of one agent round trip (tool call, then the answer from
 * the tool result) are two records of one session: iteration 1 a cache MISS
 * that ran both references and returned the tool call, iteration 2 a HIT
 * that answered from the tool result. Their span trees match.
 */
async function expectToolRoundTrip(marker: string, streamed: [boolean, boolean]): Promise<TurnRecord[]> {
  const records = recordsMentioning(await h.records(), marker);
  expect(records.map((r) => [r.iteration, r.cache, r.references.length, r.aggregator.streamed])).toEqual([
    [1, 'miss', 2, streamed[0]],
    [2, 'hit', 0, streamed[1]],
  ]);
  const [first, second] = records as [TurnRecord, TurnRecord];
  expect(second.session_id).toBe(first.session_id);
  expect(first.session_id).toMatch(/^chat-[0-9a-f]{16}$/);
  expect(first.aggregator.tool_calls).toEqual([expect.objectContaining({ function: { name: 'get_weather', arguments: WEATHER_ARGS } })]);
  expect(second.aggregator.output).toBe(TOOL_ANSWER);
  expect(first.references.every((r) => r.output && !r.output.startsWith('[failed'))).toBe(true);
  const spans = await h.spans();
  expect(records.map((r) => spanTreeOf(spans, r)).map((t) => [t.sessionId, t.cache, t.references, t.aggregators])).toEqual([
    [first.session_id, 'miss', 2, 1],
    [first.session_id, 'hit', 0, 1],
  ]);
  return records;
}

describe('Vercel AI SDK (ai + @ai-sdk/openai-compatible)', () => {
  it('generateText and streamText run a tool loop through MoA turns', async () => {
    const marker = '[ai-sdk]';
    const result = await runClient<{
      generate: { text: string; steps: { toolCalls: unknown[]; sessionId: string | null }[]; inputTokens: number | null };
      stream: { text: string; steps: { toolCalls: unknown[]; sessionId: string | null }[]; inputTokens: number | null };
      executed: unknown[];
    }>(node, tsClientArgs('ai-sdk.ts', { baseURL: h.url, apiKey: TOKEN, marker }));

    expect(result.executed).toEqual([{ city: 'Paris' }, { city: 'Paris' }]);
    for (const [label, run, streamed] of [['generate', result.generate, false], ['stream', result.stream, true]] as const) {
      expect(run.text).toBe(TOOL_ANSWER);
      expect(run.steps.map((s) => s.toolCalls)).toEqual([[['get_weather', { city: 'Paris' }]], []]);
      expect(run.inputTokens).toBeGreaterThan(0);
      const records = await expectToolRoundTrip(`${marker} ${label}`, [streamed, streamed]);
      // The SDK saw the session it was recorded under.
      expect(run.steps.map((s) => s.sessionId)).toEqual([records[0]?.session_id, records[0]?.session_id]);
    }
    // includeUsage: the SDK asked for the usage chunk and got it (inputTokens above).
    const streamedAggregatorCalls = h.upstream.requests.filter((r) => r.model === 'aggregator' && r.stream);
    expect(streamedAggregatorCalls.length).toBeGreaterThanOrEqual(2);
  });
});

describe('LangChain (@langchain/openai ChatOpenAI)', () => {
  it('invoke and stream with bound tools run MoA turns', async () => {
    const marker = '[langchain]';
    const result = await runClient<Record<'invoke' | 'stream', { toolCalls: unknown[]; text: string; inputTokens: number | null }>>(
      node, tsClientArgs('langchain.ts', { baseURL: h.url, apiKey: TOKEN, marker }),
    );
    for (const [label, run, streamed] of [['invoke', result.invoke, false], ['stream', result.stream, true]] as const) {
      expect(run.toolCalls).toEqual([['get_weather', { city: 'Paris' }]]);
      expect(run.text).toBe(TOOL_ANSWER);
      expect(run.inputTokens).toBeGreaterThan(0);
      await expectToolRoundTrip(`${marker} ${label}`, [streamed, streamed]);
    }
  });
});

describe("Python's openai package", () => {
  it('tool call, streamed answer with usage, session header and errors as its own exceptions', async () => {
    const marker = '[python]';
    const result = await runClient<{
      finish_reason: string; tool_call: [string, string]; session_header: string; text: string; chunks: number;
      usage_total: number | null; headed: string; not_found: Record<string, unknown> | null;
    }>(python, pyClientArgs('python_openai.py', { baseURL: h.url, apiKey: TOKEN, marker }));

    expect(result).toMatchObject({ finish_reason: 'tool_calls', tool_call: ['get_weather', WEATHER_ARGS], text: TOOL_ANSWER });
    expect(result.chunks).toBeGreaterThan(2);
    expect(result.usage_total).toBeGreaterThan(0);
    expect(result.not_found).toEqual({ status: 404, code: 'model_not_found', type: 'invalid_request_error', param: 'model' });
    const records = await expectToolRoundTrip(`${marker} python`, [false, true]);
    expect(result.session_header).toBe(records[0]?.session_id);

    const [headed] = recordsMentioning(await h.records(), `${marker} via header`);
    expect(headed).toMatchObject({ session_id: `py-session ${marker}`, preset: 'solo' });
    expect(headed?.aggregator.output).toBe(result.headed);
  });
});
