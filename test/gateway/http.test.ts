/**
 * The gateway at the HTTP level: OpenAI's wire format (JSON, SSE framing,
 * error bodies and statuses), models, sessions, limits, access, disconnects
 * and shutdown, each checked against the records and spans it produced.
 */
import { request as httpRequest } from 'node:http';
import OpenAI, { NotFoundError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationSessionId } from '../../src/gateway/session-id.js';
import { createMoaGateway, GatewayListenError } from '../../src/gateway/server.js';
import { createMoaClient } from '../../src/client/client.js';
import type { MoaTurnReport, MoaUsageReport } from '../../src/client/turn-report.js';
import {
  ADVICE_A, PLAIN_ANSWER, recordsMentioning, spanTreeOf, startGateway, TOOL_ANSWER, UPSTREAM_MODELS, WEATHER_ARGS,
  type GatewayHarness, type HarnessOptions,
} from './harness.js';

const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

let harness: GatewayHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: HarnessOptions = {}): Promise<GatewayHarness> {
  harness = await startGateway(options);
  return harness;
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Polls until `check` holds (bounded), for effects that land after a response: records of aborted turns. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const LONG_REPLY = 'word '.repeat(200);
const userMessage = (text: string) => [{ role: 'user', content: text }];

describe('chat completions', () => {
  it('answers a non-streamed request through the official openai client, one traced MoA turn', async () => {
    const h = await start();
    const openai = new OpenAI({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    const { data, response } = await openai.chat.completions.create({ model: 'moa/duo', messages: [{ role: 'user', content: 'plain question [nonstream]' }] }).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toBe(PLAIN_ANSWER);
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    const sessionId = response.headers.get('x-moa-session-id');
    expect(sessionId).toBe(conversationSessionId([{ role: 'user', content: 'plain question [nonstream]' }]));

    const [record] = recordsMentioning(await h.records(), '[nonstream]');
    expect(record).toMatchObject({ session_id: sessionId, preset: 'duo', cache: 'miss', iteration: 1 });
    expect(record?.references.map((r) => r.output)).toEqual([ADVICE_A, expect.any(String)]);
    expect(record?.aggregator).toMatchObject({ output: PLAIN_ANSWER, streamed: false, output_location: 'inline' });
    const tree = spanTreeOf(await h.spans(), record!);
    expect(tree).toMatchObject({ sessionId, cache: 'miss', references: 2, aggregators: 1 });
  });

  it("passes the turn's `moa` field through, and `x-moa-usage: turn` bills the whole turn in `usage`", async () => {
    const h = await start();
    const client = new OpenAI({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    type Answer = { usage: { prompt_tokens: number }; moa: MoaTurnReport };
    const promptTokens = (usage: MoaUsageReport | null) => (usage ? usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens : 0);
    const aggregatorPrompt = (answer: Answer) => promptTokens(answer.moa.calls.find((c) => c.role === 'aggregator')?.usage ?? null);

    const plain = await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'What is the weather?' }] }) as unknown as Answer;
    expect(plain.moa.calls.map((c) => c.role)).toEqual(['reference', 'reference', 'aggregator']);
    expect(plain.usage.prompt_tokens).toBe(aggregatorPrompt(plain));

    const billed = await client.chat.completions.create(
      { model: 'moa', messages: [{ role: 'user', content: 'What is the weather today?' }] },
      { headers: { 'x-moa-usage': 'turn' } },
    ) as unknown as Answer;
    // Two references and the aggregator, not the aggregator alone.
    expect(billed.usage.prompt_tokens).toBe(billed.moa.calls.reduce((sum, c) => sum + promptTokens(c.usage), 0));
    expect(billed.usage.prompt_tokens).toBeGreaterThan(aggregatorPrompt(billed));
  });

  it('streams with OpenAI SSE framing: data events, usage only when asked, [DONE] last', async () => {
    const h = await start();
    const read = async (extra: Record<string, unknown>) => {
      const res = await post(h.url, { model: 'moa', messages: userMessage('stream please [sse]'), stream: true, ...extra });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      return res.text();
    };
    for (const includeUsage of [false, true]) {
      const text = await read(includeUsage ? { stream_options: { include_usage: true } } : {});
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      const events = text.split('\n\n').filter((e) => e !== '');
      expect(events.every((e) => e.startsWith('data: ') && !e.slice(6).includes('\n'))).toBe(true);
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { object: string; choices: { delta: { content?: string } }[]; usage?: { total_tokens: number } | null });
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(PLAIN_ANSWER);
      const usageChunks = chunks.filter((c) => c.choices.length === 0 && c.usage);
      expect(usageChunks).toHaveLength(includeUsage ? 1 : 0);
      if (includeUsage) expect(usageChunks[0]?.usage?.total_tokens).toBeGreaterThan(0);
    }
    const records = recordsMentioning(await h.records(), '[sse]');
    // The second request repeats the first user turn: the references' advice is reused (a cache HIT).
    expect(records.map((r) => [r.cache, r.aggregator.streamed, r.aggregator.output, r.aggregator.output_location])).toEqual([
      ['miss', true, PLAIN_ANSWER, 'inline_from_stream'],
      ['hit', true, PLAIN_ANSWER, 'inline_from_stream'],
    ]);
  });

  it('runs a tool loop: tool call out, tool result in, and the tool iteration reuses the advice of its user turn', async () => {
    const h = await start();
    const openai = new OpenAI({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a weather bot.' },
      { role: 'user', content: 'Weather in Paris? [toolloop]' },
    ];
    const first = await openai.chat.completions.create({ model: 'moa/duo', messages, tools: [WEATHER_TOOL] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? [call.function.name, call.function.arguments] : []).toEqual(['get_weather', WEATHER_ARGS]);
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: '{"sky":"sunny","celsius":21}' });
    const stream = await openai.chat.completions.create({ model: 'moa/duo', messages, tools: [WEATHER_TOOL], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(TOOL_ANSWER);

    const records = recordsMentioning(await h.records(), '[toolloop]');
    expect(records.map((r) => [r.session_id, r.iteration, r.cache, r.references.length])).toEqual([
      [conversationSessionId(messages), 1, 'miss', 2],
      [conversationSessionId(messages), 2, 'hit', 0],
    ]);
    expect(records[0]?.aggregator.tool_calls).toEqual([expect.objectContaining({ function: { name: 'get_weather', arguments: WEATHER_ARGS } })]);
    const spans = await h.spans();
    expect(records.map((r) => spanTreeOf(spans, r)).map((t) => [t.cache, t.references, t.aggregators])).toEqual([['miss', 2, 1], ['hit', 0, 1]]);
    // Upstream: two advisor calls in all, two aggregator calls.
    expect(h.upstream.requests.map((r) => r.model).sort()).toEqual(['advisor-a', 'advisor-b', 'aggregator', 'aggregator']);
  });

  it('takes the session from the header, then metadata.session_id, then user', async () => {
    const h = await start();
    const ask = async (marker: string, extra: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const res = await post(h.url, { model: 'moa/solo', messages: userMessage(`hi ${marker}`), ...extra }, headers);
      expect(res.status).toBe(200);
      return res.headers.get('x-moa-session-id');
    };
    expect(await ask('[s1]', { user: 'u-1', metadata: { session_id: 'meta-1' } }, { 'x-moa-session-id': 'header-1' })).toBe('header-1');
    expect(await ask('[s2]', { user: 'u-1', metadata: { session_id: 'meta-1' } })).toBe('meta-1');
    expect(await ask('[s3]', { user: 'u-1' })).toBe('u-1');
    const records = await h.records();
    expect(['[s1]', '[s2]', '[s3]'].map((m) => recordsMentioning(records, m)[0]?.session_id)).toEqual(['header-1', 'meta-1', 'u-1']);
  });
});

describe('models', () => {
  it('lists the presets as moa/<preset> plus moa for the default, and retrieves one', async () => {
    const h = await start();
    const openai = new OpenAI({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(['moa', 'moa/duo', 'moa/solo']);
    expect(await openai.models.retrieve('moa/solo')).toMatchObject({ id: 'moa/solo', object: 'model', owned_by: 'moa-otel' });
    expect((await fetch(`${h.url}/models/%E0%A4%A`)).status).toBe(404);
  });

  it('routes moa/<preset> and the bare preset name to that preset', async () => {
    const h = await start();
    for (const model of ['moa/solo', 'solo']) expect((await post(h.url, { model, messages: userMessage(`route ${model} [route]`) })).status).toBe(200);
    const records = recordsMentioning(await h.records(), '[route]');
    expect(records.map((r) => [r.preset, r.references.length])).toEqual([['solo', 1], ['solo', 1]]);
  });

  it('an unknown model is a 404 model_not_found, never the default preset', async () => {
    const h = await start();
    const res = await post(h.url, { model: 'gpt-4o', messages: userMessage('hi') });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: expect.stringContaining('moa, moa/duo, moa/solo'), type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
    const openai = new OpenAI({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    await expect(openai.chat.completions.create({ model: 'moa/nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(openai.models.retrieve('moa/nope')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.upstream.requests).toHaveLength(0);
  });
});

describe('bad requests', () => {
  it('answers bad JSON, a bad body and a wrong content type with OpenAI-shaped errors and no turn', async () => {
    const h = await start();
    const cases: [string | object, Record<string, string>, number, Record<string, unknown>][] = [
      ['{"model": "moa", "messages": [', {}, 400, { code: 'invalid_json', param: null }],
      ['', {}, 400, { param: null }],
      ['[1,2]', {}, 400, { param: null }],
      [{ messages: userMessage('x') }, {}, 400, { param: 'model' }],
      [{ model: 'moa', messages: [] }, {}, 400, { param: 'messages' }],
      [{ model: 'moa', messages: ['hi'] }, {}, 400, { param: 'messages[0]' }],
      [{ model: 'moa', messages: userMessage('x'), n: 3 }, {}, 400, { param: 'n' }],
      [{ model: 'moa', messages: userMessage('x') }, { 'content-type': 'text/plain' }, 415, { code: 'unsupported_media_type' }],
    ];
    for (const [body, headers, status, fields] of cases) {
      const res = await post(h.url, body, headers);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const json = await res.json() as { error: Record<string, unknown> };
      expect(Object.keys(json)).toEqual(['error']);
      expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(json.error).toMatchObject({ type: 'invalid_request_error', ...fields });
      expect(String(json.error.message)).not.toMatch(/\n\s+at /);
    }
    const wrongMethod = await fetch(`${h.url}/chat/completions`);
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'POST']);
    const unknownPath = await fetch(`${h.url}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknownPath.status).toBe(404);
    expect(await unknownPath.json()).toMatchObject({ error: { message: 'Invalid URL (POST /v1/embeddings)', type: 'invalid_request_error' } });
    expect(h.upstream.requests).toHaveLength(0);
  });

  it('refuses bodies over the limit with 413, declared or chunked, without reading them whole', async () => {
    const h = await start({ maxBodyBytes: 4096 });
    const big = JSON.stringify({ model: 'moa', messages: userMessage('x'.repeat(5000)) });
    const declared = await post(h.url, big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });

    // Chunked: no content-length, so the gateway counts as the body arrives.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${h.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(big.slice(0, 3000));
      setTimeout(() => req.end(big.slice(3000)), 50);
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: { code: 'request_too_large' } });
    // A body just under the limit still runs.
    expect((await post(h.url, { model: 'moa', messages: userMessage('y'.repeat(3000)) })).status).toBe(200);
  });

  it('maps an aggregator failure to a 502 that masks the provider key and shows no stack', async () => {
    const key = 'sk-provider-secret-0123456789abcdef';
    const h = await start({
      providerApiKey: key,
      models: { ...UPSTREAM_MODELS, aggregator: { failStatus: 401, failMessage: `Incorrect API key provided: ${key}` } },
    });
    const res = await post(h.url, { model: 'moa', messages: userMessage('hi [fail]') });
    expect(res.status).toBe(502);
    const body = await res.json() as { error: { message: string; type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
    expect(body.error.message).toContain('401');
    expect(body.error.message).not.toContain(key);
    expect(body.error.message).not.toMatch(/\bat .*\.(ts|js):\d+/);
    const [record] = recordsMentioning(await h.records(), '[fail]');
    expect(record?.aggregator).toMatchObject({ output: null, error: expect.any(String) });
  });

  it('a stream that breaks upstream ends with an OpenAI error event instead of [DONE]', async () => {
    const h = await start({ models: { ...UPSTREAM_MODELS, aggregator: { reply: 'A long answer that will be cut short by the provider.', chunkSize: 4, chunkDelayMs: 20, cutAfterChunks: 3 } } });
    const res = await post(h.url, { model: 'moa', messages: userMessage('hi [cut]'), stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    const events = text.split('\n\n').filter((e) => e !== '');
    const last = JSON.parse(events.at(-1)!.slice('data: '.length)) as { error?: { type: string } };
    expect(last.error?.type).toBe('api_error');
    const [record] = recordsMentioning(await h.records(), '[cut]');
    expect(record?.aggregator).toMatchObject({ output: null, error: expect.any(String) });
  });
});

describe('access', () => {
  const TOKEN = 'gateway-token-0123456789';

  it('with a token: 401 without it or with a wrong one, 200 with it; /healthz stays open', async () => {
    const h = await start({ token: TOKEN });
    const body = { model: 'moa', messages: userMessage('hi [auth]') };
    for (const auth of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, TOKEN]) {
      const res = await post(h.url, body, auth ? { authorization: auth } : {});
      expect(res.status, auth).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key', param: null } });
    }
    expect((await fetch(`${h.url}/models`)).status).toBe(401);
    expect(h.upstream.requests).toHaveLength(0);
    const openai = new OpenAI({ baseURL: h.url, apiKey: TOKEN, maxRetries: 0 });
    const ok = await openai.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'hi [auth]' }] });
    expect(ok.choices[0]?.message.content).toBe(PLAIN_ANSWER);
    const health = await fetch(h.url.replace(/\/v1$/, '/healthz'));
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('without a token it answers loopback host names only (DNS rebinding)', async () => {
    const h = await start();
    const port = new URL(h.url).port;
    const status = (host: string) => new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/models', headers: { host } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    expect(await status(`evil.example:${port}`)).toBe(403);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    expect(await status(`[::1]:${port}`)).toBe(200);
  });

  it('refuses to listen beyond loopback without a token, or with a short one', async () => {
    const client = createMoaClient({ presets: { duo: { references: [{ provider: 'p', model: 'm' }], aggregator: { provider: 'p', model: 'm' } } }, providers: { p: { baseURL: 'http://127.0.0.1:9/v1' } }, env: {}, ignoreConfigFile: true });
    for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
      await expect(createMoaGateway({ client }).listen({ host, port: 0 })).rejects.toThrow(GatewayListenError);
      await expect(createMoaGateway({ client }).listen({ host, port: 0 })).rejects.toThrow(/without a token/);
    }
    await expect(createMoaGateway({ client, token: 'short' }).listen({ host: '127.0.0.1', port: 0 })).rejects.toThrow(/too short/);
    // With a token, all interfaces are fine; reached here through loopback only.
    const open = createMoaGateway({ client, token: TOKEN });
    const url = await open.listen({ host: '0.0.0.0', port: 0 });
    const port = new URL(url).port;
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    await open.close();
  });
});

describe('disconnects and shutdown', () => {
  it('a caller leaving mid-stream aborts the aggregator; the turn is still recorded', async () => {
    const h = await start({ models: { ...UPSTREAM_MODELS, aggregator: { reply: LONG_REPLY, chunkSize: 5, chunkDelayMs: 30 } } });
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${h.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let seen = 0;
        res.on('data', () => {
          seen += 1;
          if (seen === 3) { req.destroy(); resolve(); }
        });
      });
      req.on('error', () => {});
      req.end(JSON.stringify({ model: 'moa', messages: userMessage('long story [leave-stream]'), stream: true }));
      setTimeout(() => reject(new Error('no chunks')), 10_000);
    });
    const [record] = await eventually('the record', async () => recordsMentioning(await h.records(), '[leave-stream]'), (r) => r.length === 1);
    expect(record?.references.map((r) => r.output)).toEqual([ADVICE_A, expect.any(String)]);
    expect(record?.aggregator.streamed).toBe(true);
    // What the aggregator had streamed before the caller left: a prefix of its answer, without a finish reason.
    const partial = record?.aggregator.output ?? '';
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(LONG_REPLY.length);
    expect(LONG_REPLY.startsWith(partial)).toBe(true);
    expect(record?.aggregator.finish_reason ?? null).toBeNull();
    const upstreamAggregator = h.upstream.requests.find((r) => r.model === 'aggregator');
    await eventually('the upstream abort', async () => upstreamAggregator?.aborted, (a) => a === true);
    // Far fewer chunks went out than the 200 words: the upstream stream was released, not drained.
    expect(upstreamAggregator!.sentChunks.length).toBeLessThan(50);
    expect(h.gateway.openTurns).toBe(0);
    const tree = spanTreeOf(await h.spans(), record!);
    expect([tree.references, tree.aggregators]).toEqual([2, 1]);
  });

  it('a caller leaving during the fan-out aborts the references; the turn is still recorded', async () => {
    const h = await start({ models: { ...UPSTREAM_MODELS, 'advisor-a': { hang: true }, 'advisor-b': { hang: true } } });
    const controller = new AbortController();
    const pending = post(h.url, { model: 'moa', messages: userMessage('slow advice [leave-fanout]') }, {}).catch(() => 'aborted');
    void pending;
    const req = fetch(`${h.url}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
      body: JSON.stringify({ model: 'moa', messages: userMessage('slow advice [leave-fanout-2]') }),
    }).catch(() => 'aborted');
    await eventually('both advisor calls', async () => h.upstream.requests.filter((r) => r.model.startsWith('advisor')).length, (n) => n >= 4);
    controller.abort();
    expect(await req).toBe('aborted');
    const [record] = await eventually('the record', async () => recordsMentioning(await h.records(), '[leave-fanout-2]'), (r) => r.length === 1);
    expect(record?.references.every((r) => r.output?.startsWith('[failed: '))).toBe(true);
    expect(record?.aggregator).toMatchObject({ output: null, error: expect.any(String) });
    // The turn whose caller stayed is untouched (still waiting on its hanging advisors).
    expect(h.gateway.openTurns).toBe(1);
  });

  it('close() lets an open turn finish, refuses new requests, and the record is written', async () => {
    const h = await start({ models: { ...UPSTREAM_MODELS, aggregator: { reply: PLAIN_ANSWER, delayMs: 600 } } });
    const inFlight = post(h.url, { model: 'moa', messages: userMessage('finish me [drain]') });
    await eventually('the aggregator call', async () => h.upstream.requests.some((r) => r.model === 'aggregator'), Boolean);
    expect(h.gateway.openTurns).toBe(1);
    const closed = h.gateway.close();
    const before = h.upstream.requests.length;
    // Refused: no new connection is accepted, and a kept-alive one gets a 503 and is closed.
    const late = await post(h.url, { model: 'moa', messages: userMessage('too late') }).then((r) => r.status, () => 'refused');
    expect(['refused', 503]).toContain(late);
    expect(h.upstream.requests.length).toBe(before);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(PLAIN_ANSWER);
    await closed;
    expect(h.gateway.openTurns).toBe(0);
    expect(recordsMentioning(await h.records(), '[drain]')).toHaveLength(1);
  });

  it('close({ abortOpenTurns }) mid-stream ends the stream with an error event, never [DONE]', async () => {
    const h = await start({ models: { ...UPSTREAM_MODELS, aggregator: { reply: LONG_REPLY, chunkSize: 5, chunkDelayMs: 30 } } });
    const res = await post(h.url, { model: 'moa', messages: userMessage('cut by shutdown [abort-stream]'), stream: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await h.gateway.close({ abortOpenTurns: true });
    let text = '';
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += Buffer.from(part.value).toString();
    expect(text).not.toContain('[DONE]');
    const last = JSON.parse(text.trim().split('\n\n').at(-1)!.slice('data: '.length)) as { error?: { code: string } };
    expect(last.error?.code).toBe('shutting_down');
    const [record] = recordsMentioning(await h.records(), '[abort-stream]');
    // Recorded with what had streamed (possibly nothing yet), not as a finished answer.
    expect(record?.aggregator.finish_reason ?? null).toBeNull();
    expect(LONG_REPLY.startsWith(record?.aggregator.output ?? '')).toBe(true);
    expect((record?.aggregator.output ?? '').length).toBeLessThan(LONG_REPLY.length);
  });

  it('close({ abortOpenTurns }) aborts what is open with a 503, and still records it', async () => {
    const h = await start({ models: { ...UPSTREAM_MODELS, aggregator: { hang: true } } });
    const inFlight = post(h.url, { model: 'moa', messages: userMessage('never answered [abort]') });
    await eventually('the aggregator call', async () => h.upstream.requests.some((r) => r.model === 'aggregator'), Boolean);
    await h.gateway.close({ abortOpenTurns: true });
    const res = await inFlight;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'shutting_down' } });
    const [record] = recordsMentioning(await h.records(), '[abort]');
    expect(record?.aggregator).toMatchObject({ output: null, error: expect.any(String) });
  });
});
