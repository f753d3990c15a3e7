import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { NO_ADVICE_TEXT } from '../../src/client/guidance.js';
import { byRole, inMemoryTracing, roots, scriptedServer, testClient, type TestTracing } from './helpers.js';
import { waitUntil } from '../helpers/wait-until.js';

let server: ScriptedServer | undefined;
let tracing: TestTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
});

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Plan my day.' }];

function guidanceSent(s: ScriptedServer): string {
  const agg = s.requests.find((r) => r.model === 'aggregator');
  return String(agg?.messages.at(-1)?.content);
}

describe('fan-out failures never fail the turn', () => {
  it('a failing reference becomes [failed: ...] and is named as unavailable', async () => {
    server = await scriptedServer({
      'advisor-a': { failStatus: 500, failMessage: 'advisor exploded' },
      'advisor-b': { reply: 'Advice B' },
      aggregator: { reply: 'done' },
    });
    tracing = inMemoryTracing();
    const client = testClient(server, tracing.instrumentation);
    const response = await client.chat.completions.create({ model: 'moa', messages });
    expect(response.choices[0]?.message.content).toBe('done');

    const spans = tracing.spans();
    const failed = byRole(spans, 'reference').find((s) => s.attributes['moa.reference.index'] === 0)!;
    expect(failed.status.code).toBe(2);
    expect(failed.attributes['error.type']).toBe('500');
    expect(failed.events.some((e) => e.name === 'exception')).toBe(true);
    expect(roots(spans)[0]?.attributes['moa.reference.failed']).toBe(1);

    const guidance = guidanceSent(server);
    expect(guidance).not.toContain('Reference 1 — local:advisor-a:');
    expect(guidance).toContain('Reference 2 — local:advisor-b:\nAdvice B');
    expect(guidance).toMatch(/Unavailable: Reference 1 — local:advisor-a \([^)]*advisor exploded/);
  });

  it('a reference that hangs is aborted at its timeout; the others are kept', async () => {
    server = await scriptedServer({
      'advisor-a': { hang: true },
      'advisor-b': { reply: 'Advice B' },
      aggregator: { reply: 'done' },
    });
    tracing = inMemoryTracing();
    // Long enough for advisor-b to answer on a loaded machine (at 300 ms it could time out too).
    const client = testClient(server, tracing.instrumentation, { referenceTimeoutMs: 1_000 });
    const started = Date.now();
    await client.chat.completions.create({ model: 'moa', messages });
    expect(Date.now() - started).toBeLessThan(5000);

    const hung = server.requests.find((r) => r.model === 'advisor-a')!;
    // The AbortSignal reached the HTTP request: the server saw the client go away (a moment later than the call returned).
    await waitUntil(() => hung.aborted, 'the server to see the hung reference aborted');
    expect(hung.aborted).toBe(true);
    const span = byRole(tracing.spans(), 'reference').find((s) => s.attributes['moa.reference.index'] === 0)!;
    expect(span.status.code).toBe(2);
    expect(span.status.message).toContain('timed out after 1000 ms');
    expect(guidanceSent(server)).toMatch(/Unavailable: Reference 1 — local:advisor-a \(timed out after 1000 ms\)/);
    expect(guidanceSent(server)).toContain('Reference 2 — local:advisor-b:\nAdvice B');
  });

  it('when every reference fails the aggregator is told plainly that no advice is available', async () => {
    server = await scriptedServer({
      'advisor-a': { failStatus: 429 },
      'advisor-b': { failStatus: 500 },
      aggregator: { reply: 'on my own' },
    });
    tracing = inMemoryTracing();
    const client = testClient(server, tracing.instrumentation);
    const response = await client.chat.completions.create({ model: 'moa', messages });
    expect(response.choices[0]?.message.content).toBe('on my own');
    const guidance = guidanceSent(server);
    expect(guidance).toContain(NO_ADVICE_TEXT);
    expect(guidance).not.toMatch(/Reference \d — [^\n]*:\n/);
    expect(guidance).toContain('Unavailable: Reference 1 — local:advisor-a');
    expect(roots(tracing.spans())[0]?.attributes['moa.reference.failed']).toBe(2);
  });

  it('results follow preset order even when later references finish first', async () => {
    server = await scriptedServer({
      'advisor-a': { reply: 'slow A', delayMs: 200 },
      'advisor-b': { reply: 'fast B' },
      aggregator: { reply: 'ok' },
    });
    tracing = inMemoryTracing();
    const client = testClient(server, tracing.instrumentation);
    await client.chat.completions.create({ model: 'moa', messages });
    const guidance = guidanceSent(server);
    expect(guidance.indexOf('slow A')).toBeGreaterThan(-1);
    expect(guidance.indexOf('slow A')).toBeLessThan(guidance.indexOf('fast B'));
  });

  it('a reference on a provider without its key fails alone', async () => {
    server = await scriptedServer();
    tracing = inMemoryTracing();
    const client = testClient(server, tracing.instrumentation, {
      providers: { local: { baseURL: server.baseURL }, keyed: { baseURL: server.baseURL, apiKeyEnv: 'SOME_MISSING_KEY' } },
      presets: { test: { references: [{ provider: 'keyed', model: 'advisor-a' }, { provider: 'local', model: 'advisor-b' }], aggregator: { provider: 'local', model: 'aggregator' } } },
    });
    await client.chat.completions.create({ model: 'moa', messages });
    expect(guidanceSent(server)).toContain('set SOME_MISSING_KEY');
    expect(server.requests.some((r) => r.model === 'advisor-a')).toBe(false);
  });
});

describe('caller abort', () => {
  /** Both advisors hang until aborted; the reference timeout is far away. */
  async function clientWithHangingAdvisors() {
    const started = await scriptedServer({
      'advisor-a': { hang: true },
      'advisor-b': { hang: true },
      aggregator: { reply: 'never' },
    });
    const memory = inMemoryTracing();
    server = started; // closed by afterEach
    tracing = memory;
    return { server: started, tracing: memory, client: testClient(started, memory.instrumentation, { referenceTimeoutMs: 60_000 }) };
  }

  it("the caller's AbortSignal aborts the fan-out and the call; the turn still ends", async () => {
    const { client, server, tracing } = await clientWithHangingAdvisors();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(client.chat.completions.create({ model: 'moa', messages }, { signal: controller.signal })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    const advisorsAborted = () => server.requests.filter((r) => r.model.startsWith('advisor')).every((r) => r.aborted);
    await waitUntil(advisorsAborted, 'the server to see every advisor request aborted');
    expect(advisorsAborted()).toBe(true);
    expect(server.requests.some((r) => r.model === 'aggregator')).toBe(false);
    expect(roots(tracing.spans())).toHaveLength(1);
  });

  it('a signal aborted before the call stops the references at once', async () => {
    const { client, server, tracing } = await clientWithHangingAdvisors();
    const started = Date.now();
    await expect(client.chat.completions.create({ model: 'moa', messages }, { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.requests.some((r) => r.model === 'aggregator')).toBe(false);
    expect(byRole(tracing.spans(), 'reference').map((s) => s.status.code)).toEqual([2, 2]);
    expect(roots(tracing.spans())).toHaveLength(1);
  });
});

describe('credentials', () => {
  it('an API key echoed in a provider error never reaches spans', async () => {
    const key = 'sk-very-secret-key-0123456789';
    server = await scriptedServer({
      'advisor-a': { failStatus: 401, failMessage: `Incorrect API key provided: ${key}` },
      'advisor-b': { reply: 'B' },
      aggregator: { failStatus: 401, failMessage: `Incorrect API key provided: ${key}` },
    });
    tracing = inMemoryTracing();
    const client = testClient(server, tracing.instrumentation, {
      providers: { local: { baseURL: server.baseURL, apiKeyEnv: 'LOCAL_KEY' } },
      env: { LOCAL_KEY: key },
    });
    await expect(client.chat.completions.create({ model: 'moa', messages })).rejects.toThrow();
    const dump = JSON.stringify(tracing.spans().map((s) => ({ a: s.attributes, st: s.status, ev: s.events })));
    expect(dump).toContain('[REDACTED]');
    expect(dump).not.toContain(key);
    expect(byRole(tracing.spans(), 'reference').find((s) => s.attributes['moa.reference.index'] === 0)?.attributes['error.type']).toBe('401');
  });
});
