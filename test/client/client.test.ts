import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ADVISOR_SYSTEM_PROMPT } from '../../src/client/advisory-view.js';
import { createMoaClient } from '../../src/client/client.js';
import { MoaSetupError } from '../../src/client/providers.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { byRole, inMemoryTracing, ns, roots, scriptedServer, testClient, testPreset, type TestTracing } from './helpers.js';

let server: ScriptedServer;
let tracing: TestTracing;

beforeEach(async () => {
  server = await scriptedServer({
    'advisor-a': { reply: 'Advice A', delayMs: 150 },
    'advisor-b': { reply: 'Advice B', delayMs: 150 },
    aggregator: { reply: 'The final answer.' },
  });
  tracing = inMemoryTracing();
});
afterEach(async () => {
  await server.close();
  await tracing.shutdown();
});

const question: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are a helpful agent.' },
  { role: 'user', content: 'What is 2+2?' },
];

describe('createMoaClient', () => {
  it('returns the aggregator ChatCompletion and records one span tree', async () => {
    const client = testClient(server, tracing.instrumentation);
    const response = await client.chat.completions.create({ model: 'moa', messages: question });
    expect(response.object).toBe('chat.completion');
    expect(response.choices[0]?.message.content).toBe('The final answer.');

    const spans = tracing.spans();
    const [root] = roots(spans);
    expect(root?.attributes['moa.preset']).toBe('test');
    expect(root?.attributes['moa.cache']).toBe('miss');
    expect(root?.attributes['moa.iteration']).toBe(1);
    const refs = byRole(spans, 'reference');
    const [agg] = byRole(spans, 'aggregator');
    expect(refs).toHaveLength(2);
    for (const span of [...refs, agg!]) expect(span.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(agg?.links.map((l) => l.context.spanId).sort()).toEqual(refs.map((r) => r.spanContext().spanId).sort());
  });

  it('runs references concurrently (their span intervals overlap)', async () => {
    const client = testClient(server, tracing.instrumentation);
    await client.chat.completions.create({ model: 'moa', messages: question });
    const [a, b] = byRole(tracing.spans(), 'reference').sort((x, y) => Number(x.attributes['moa.reference.index']) - Number(y.attributes['moa.reference.index']));
    expect(a && b).toBeTruthy();
    // Each takes >= 150 ms; run one after the other they could not overlap.
    expect(ns(a!.startTime) < ns(b!.endTime) && ns(b!.startTime) < ns(a!.endTime)).toBe(true);
    const [ra, rb] = server.requests.filter((r) => r.model.startsWith('advisor'));
    expect(ra!.receivedAt).toBeLessThan(rb!.finishedAt!);
    expect(rb!.receivedAt).toBeLessThan(ra!.finishedAt!);
  });

  it('sends references the advisory view without tools, and the aggregator the full conversation plus guidance', async () => {
    const client = testClient(server, tracing.instrumentation);
    const tools = [{ type: 'function' as const, function: { name: 'noop', parameters: { type: 'object', properties: {} } } }];
    await client.chat.completions.create({ model: 'moa', messages: question, tools, max_tokens: 99 });
    const refRequest = server.requests.find((r) => r.model === 'advisor-a')!;
    expect(refRequest.body.tools).toBeUndefined();
    expect(refRequest.body.temperature).toBe(0.3);
    expect(refRequest.messages[0]).toEqual({ role: 'system', content: ADVISOR_SYSTEM_PROMPT });
    expect(refRequest.messages.slice(1)).toEqual([{ role: 'user', content: 'What is 2+2?' }]);

    const aggRequest = server.requests.find((r) => r.model === 'aggregator')!;
    expect(aggRequest.body.tools).toEqual(tools);
    expect(aggRequest.body.max_tokens).toBe(99);
    expect(aggRequest.messages.slice(0, 2)).toEqual(question);
    const guidance = String(aggRequest.messages[2]?.content);
    expect(aggRequest.messages[2]?.role).toBe('user');
    expect(guidance).toContain('Reference 1 — local:advisor-a:\nAdvice A');
    expect(guidance).toContain('Reference 2 — local:advisor-b:\nAdvice B');
    expect(guidance).toContain('"test"');
    expect(guidance).toContain('local:aggregator');
  });

  it('selects the preset from the model param, else the default preset', async () => {
    const client = testClient(server, tracing.instrumentation, {
      presets: { test: testPreset(), solo: testPreset({ references: [{ provider: 'local', model: 'advisor-b' }] }) },
    });
    await client.chat.completions.create({ model: 'solo', messages: question });
    await client.chat.completions.create({ model: 'something-else', messages: [{ role: 'user', content: 'other' }] });
    const presets = roots(tracing.spans()).map((r) => r.attributes['moa.preset']);
    expect(presets).toEqual(['solo', 'test']);
    expect(client.resolvePreset('solo').preset.references).toHaveLength(1);
  });

  it('refuses an aggregator (or a provider URL) that is the MoA client itself', async () => {
    const viaName = testClient(server, tracing.instrumentation, {
      presets: { test: testPreset({ aggregator: { provider: 'moa', model: 'test' } }) },
    });
    await expect(viaName.chat.completions.create({ model: 'moa', messages: question })).rejects.toThrow(/no recursion/);
    await expect(viaName.chat.completions.create({ model: 'moa', messages: question })).rejects.toBeInstanceOf(MoaSetupError);

    const viaUrl = testClient(server, tracing.instrumentation, {
      providers: { local: { baseURL: server.baseURL }, loop: { baseURL: 'http://127.0.0.1:9/v1' } },
      presets: { test: testPreset({ references: [{ provider: 'loop', model: 'x' }] }) },
      selfBaseURLs: ['http://127.0.0.1:9/v1/'],
    });
    await expect(viaUrl.chat.completions.create({ model: 'moa', messages: question })).rejects.toThrow(/points at this MoA client/);
    expect(server.requests).toHaveLength(0);
    expect(tracing.spans()).toHaveLength(0);
  });

  it('loads presets and providers from the config file', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'moa-home-'));
    writeFileSync(path.join(home, 'config.yaml'), [
      'moa:',
      '  default_preset: fromfile',
      '  providers:',
      `    filed: { base_url: "${server.baseURL}" }`,
      '  presets:',
      '    fromfile:',
      '      references: [{ provider: filed, model: advisor-a }]',
      '      aggregator: { provider: filed, model: aggregator }',
    ].join('\n'));
    const client = createMoaClient({ instrumentation: tracing.instrumentation, env: { MOA_HOME: home }, maxRetries: 0 });
    const response = await client.chat.completions.create({ model: 'moa', messages: question });
    expect(response.choices[0]?.message.content).toBe('The final answer.');
    expect(roots(tracing.spans())[0]?.attributes['moa.preset']).toBe('fromfile');
  });

  it('fails the call (not silently) when the aggregator fails, and still ends the turn', async () => {
    server.setModel('aggregator', { failStatus: 503 });
    const client = testClient(server, tracing.instrumentation);
    await expect(client.chat.completions.create({ model: 'moa', messages: question })).rejects.toThrow(/503/);
    const [agg] = byRole(tracing.spans(), 'aggregator');
    expect(agg?.status.code).toBe(2);
    expect(roots(tracing.spans())).toHaveLength(1);
  });

  it('honours tool_result_budget for the advisory view and a preset-level fan-out mode', async () => {
    const client = testClient(server, tracing.instrumentation, {
      toolResultBudget: 40,
      presets: { test: testPreset({ fanout: 'per_iteration' }) },
    });
    const conversation: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Read the log.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'read_log', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'L'.repeat(500) },
    ];
    await client.chat.completions.create({ model: 'moa', messages: conversation });
    const advisor = server.requests.find((r) => r.model === 'advisor-a')!;
    expect(JSON.stringify(advisor.messages)).toContain('[… 460 of 500 characters omitted …]');
    // The aggregator still gets the tool result exactly as sent.
    const aggregator = server.requests.find((r) => r.model === 'aggregator')!;
    expect(aggregator.messages[2]).toEqual(conversation[2]);
    expect(roots(tracing.spans())[0]?.attributes['moa.fanout']).toBe('per_iteration');
  });
});
