/**
 * End to end: files written by the real MoA client (createMoaClient, the
 * official `openai` package over real HTTP to the scripted server, the real
 * JSONL exporter) through a tool loop, then `moa-otel insights` over them.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runConversation } from '../../../src/client/conversation.js';
import type { RecordedRequest, ScriptedReply, ScriptedServer } from '../../../src/testing/scripted-server.js';
import { runCli } from '../../../src/cli/main.js';
import type { InsightsDocument } from '../../../src/offline/insights/document.js';
import { captureIo } from '../fixtures.js';
import { recordingTracing, scriptedServer, testClient, WEATHER_TOOL, type RecordingTracing } from '../../client/helpers.js';

const TURNS = 12;

/** Deterministic words for question n and a salt, so every turn's text is its own. */
function words(n: number, salt: string): string {
  return Array.from({ length: 24 }, (_, i) => `${salt}${((n * 7919 + i * 104_729) % 99_991).toString(36)}`).join(' ');
}

function questionId(request: RecordedRequest): number {
  const ids = [...JSON.stringify(request.messages).matchAll(/\bQ(\d+)\b/g)];
  return Number(ids.at(-1)?.[1] ?? 0);
}

let server: ScriptedServer;
let tracing: RecordingTracing;

beforeAll(async () => {
  server = await scriptedServer({
    carrier: { reply: (r) => `Q${questionId(r)} ${words(questionId(r), 'c')}`, costUsd: '0.0011' },
    stray: { reply: (r) => `Q${questionId(r)} ${words(questionId(r), 's')}`, costUsd: '0.0007' },
    boss: {
      costUsd: '0.002',
      reply: (r): ScriptedReply => {
        const id = questionId(r);
        // The guidance block is the last message; before it, the caller's latest one.
        const afterTool = r.messages.at(-2)?.role === 'tool';
        // Even questions run a tool loop: ask for the weather first, answer after the result.
        if (id % 2 === 0 && !afterTool) return { content: null, toolCalls: [{ id: `call_${id}`, name: 'get_weather', arguments: '{"city":"Oslo"}' }] };
        return { content: `Here is what I found. ${words(id, 'c')}` };
      },
    },
  });
  tracing = recordingTracing();
  const client = testClient(server, tracing.instrumentation, {
    presets: {
      test: {
        references: [{ provider: 'local', model: 'carrier' }, { provider: 'local', model: 'stray' }],
        aggregator: { provider: 'local', model: 'boss' },
      },
    },
    sessionId: 'e2e-insights',
  });
  let messages: ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are a helpful agent.' }];
  for (let n = 0; n < TURNS; n++) {
    messages = [...messages, { role: 'user', content: `Q${n}: what should I know today?` }];
    const result = await runConversation({
      client, messages, tools: [WEATHER_TOOL], sessionId: 'e2e-insights',
      handlers: { get_weather: () => ({ city: 'Oslo', sky: 'clear' }) },
    });
    expect(result.stoppedBy).toBe('answer');
    messages = result.messages;
  }
  await tracing.records('e2e-insights');
}, 60_000);

afterAll(async () => {
  await server.close();
  await tracing.shutdown();
});

describe('insights over files the real client wrote', () => {
  it('names the advisor the answer uses and the one it ignores, with exact costs and the unrecorded tool-loop iterations', async () => {
    const records = await tracing.records('e2e-insights');
    // 12 user turns; the 6 tool loops each wrote their first iteration only (the second is a cache HIT).
    expect(records).toHaveLength(TURNS);
    const cap = captureIo({});
    expect(await runCli(['insights', tracing.dir, '--json'], cap.io)).toBe(0);
    const doc = JSON.parse(cap.out) as InsightsDocument;
    expect([doc.turns, doc.user_turns, doc.sessions]).toEqual([12, 12, 1]);
    expect(doc.spend).toMatchObject({ recorded_usd: '0.0456', unrecorded_iterations: 6, complete: false });
    expect(doc.spend.note).toBe('≥ 6 iterations not recorded; their spend is missing — set trace_cache_hits');
    const carrier = doc.references.find((r) => r.key === 'test/local:carrier');
    const stray = doc.references.find((r) => r.key === 'test/local:stray');
    expect(carrier).toMatchObject({ verdict: 'keep', calls: 12, cost_usd: '0.0132', measured_turns: 12 });
    // The answer is 5 words of its own and the carrier's 24: 22 of its 27 word trigrams come from the carrier.
    expect(carrier?.agreement).toBe(Math.round((22 / 27) * 1e6) / 1e6);
    expect(carrier?.cost_share).toBe(132 / 456);
    expect(stray).toMatchObject({ verdict: 'drop_candidate', calls: 12, cost_usd: '0.0084', agreement: 0, unique_contribution: 0, saving_per_1000_turns_usd: '0.7' });
    expect(doc.presets[0]).toMatchObject({ preset: 'test', user_turns: 12, references_never_helped: ['local:stray'] });
    // The timing the client recorded is enough for stragglers (two timed references per turn).
    expect(carrier?.straggler_turns).toBe(12);

    const text = captureIo({});
    await runCli(['insights', path.join(tracing.dir)], text.io);
    expect(text.out).toMatch(/^drop_candidate\s+test\/local:stray\s+12\s+0\s+\$0\.0084\s/m);
    expect(text.out).toContain('! ≥ 6 iterations not recorded; their spend is missing — set trace_cache_hits');
  });
});
