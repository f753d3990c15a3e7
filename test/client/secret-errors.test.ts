/**
 * A provider that echoes an API key in its error body (a 401 quoting the
 * Authorization header) must not hand that key to the caller of the MoA
 * client, nor to spans: every error the client throws is masked of every
 * configured key, through the real `openai` package over real HTTP.
 */
import { inspect } from 'node:util';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RecordedRequest, ScriptedServer } from '../../src/testing/scripted-server.js';
import { KnownSecrets } from '../../src/content/known-secrets.js';
import { byRole, DEFAULT_MODELS, inMemoryTracing, scriptedServer, testClient, type TestTracing } from './helpers.js';

let server: ScriptedServer | undefined;
let tracing: TestTracing | undefined;
afterEach(async () => {
  vi.unstubAllGlobals();
  await server?.close();
  await tracing?.shutdown();
  server = undefined;
  tracing = undefined;
});

const LOCAL_KEY = 'sk-local-0123456789abcdefghij';
const SPARE_KEY = 'spare-provider-key-0123456789';
const messages = [{ role: 'user' as const, content: 'hi' }];
const echo401 = { failStatus: 401, failMessage: (r: RecordedRequest) => `Incorrect API key provided: ${String(r.headers.authorization)}; also saw ${SPARE_KEY}` };

async function clientFailingWith(models = DEFAULT_MODELS) {
  server = await scriptedServer(models);
  tracing = inMemoryTracing();
  const client = testClient(server, tracing.instrumentation, {
    providers: {
      local: { baseURL: server.baseURL, apiKeyEnv: 'LOCAL_KEY' },
      // Never called: its key is masked all the same (a gateway may echo any header it saw).
      spare: { baseURL: server.baseURL, apiKey: SPARE_KEY },
    },
    env: { LOCAL_KEY },
  });
  return { client, tracing };
}

/** Everything a caller could print of an error: message, stack, inspect (own fields, cause chain, body). */
function everythingShown(error: unknown): string {
  return [String(error), (error as Error).stack, inspect(error, { depth: 10, showHidden: true }), JSON.stringify((error as { error?: unknown }).error)].join('\n');
}

describe('errors the MoA client throws', () => {
  for (const stream of [false, true]) {
    it(`carry no configured key when the aggregator's 401 echoes it${stream ? ' (stream)' : ''}`, async () => {
      const { client, tracing: t } = await clientFailingWith({ ...DEFAULT_MODELS, aggregator: echo401 });
      const error = await client.chat.completions.create({ model: 'moa', messages, stream }).then(() => undefined, (err: unknown) => err);
      // Still the openai package's own error class and status: only the keys are gone.
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
      const shown = everythingShown(error);
      expect(shown).toContain('Bearer [REDACTED]');
      expect(shown).not.toContain(LOCAL_KEY);
      expect(shown).not.toContain(SPARE_KEY);
      const spans = JSON.stringify(t.spans().map((s) => ({ a: s.attributes, st: s.status, ev: s.events })));
      expect(spans).not.toContain(LOCAL_KEY);
      expect(spans).not.toContain(SPARE_KEY);
    });
  }

  /**
   * An HTTP layer in front of `fetch` (an interceptor, a proxy agent) whose
   * errors are frozen and quote the request's Authorization header: the key
   * cannot be masked in place, so the caller must get the masked copy, never
   * the original. `mode` says where it fails: before any answer, or after the
   * stream's first chunk.
   */
  function frozenFetchFailure(mode: 'request' | 'mid-stream') {
    vi.stubGlobal('fetch', async (_url: unknown, init?: RequestInit) => {
      const failure = Object.freeze(new TypeError(`socket closed for ${new Headers(init?.headers).get('authorization') ?? '?'}`));
      if (mode === 'request') throw failure;
      const first = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'aggregator', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`;
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulls++ === 0) controller.enqueue(new TextEncoder().encode(first));
          else controller.error(failure);
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    });
  }

  for (const [mode, stream] of [['request', false], ['request', true], ['mid-stream', true]] as const) {
    it(`carry no configured key when the failure cannot be masked in place (${mode}${stream ? ', stream' : ''})`, async () => {
      const { client } = await clientFailingWith();
      frozenFetchFailure(mode);
      const received: unknown[] = [];
      const error = await (async () => {
        const result = await client.chat.completions.create({ model: 'moa', messages, stream });
        if (stream) for await (const chunk of result as AsyncIterable<unknown>) received.push(chunk);
      })().then(() => undefined, (err: unknown) => err);
      expect(error).toBeDefined();
      expect(received).toHaveLength(mode === 'mid-stream' ? 1 : 0);
      const shown = everythingShown(error);
      expect(shown).not.toContain(LOCAL_KEY);
    });
  }

  it("a reference's failure masks another provider's key too", async () => {
    const { client, tracing: t } = await clientFailingWith({ ...DEFAULT_MODELS, 'advisor-a': echo401 });
    await client.chat.completions.create({ model: 'moa', messages });
    const failed = byRole(t.spans(), 'reference').find((s) => s.attributes['error.type'] === '401');
    expect(failed?.status.message).toContain('[REDACTED]');
    const spans = JSON.stringify(t.spans().map((s) => ({ a: s.attributes, st: s.status, ev: s.events })));
    expect(spans).not.toContain(LOCAL_KEY);
    expect(spans).not.toContain(SPARE_KEY);
  });
});

describe('KnownSecrets.error', () => {
  const secrets = new KnownSecrets(['secret-value-123', 'short', undefined]);

  it('masks the message, stack, cause chain and body fields in place', () => {
    const cause = new Error('inner secret-value-123');
    const error = Object.assign(new Error('outer secret-value-123', { cause }), { body: { detail: ['x secret-value-123'] }, status: 401 });
    expect(secrets.error(error)).toBe(error);
    expect(everythingShown(error)).not.toContain('secret-value-123');
    expect(error.message).toBe('outer [REDACTED]');
    expect(error.status).toBe(401);
    expect(secrets.size).toBe(1); // "short" is below the minimum length: masking it would mangle words
  });

  it('returns a masked copy when the error cannot be changed, and masks thrown strings', () => {
    const frozen = Object.freeze(Object.assign(new Error('frozen secret-value-123'), { status: 403 }));
    const masked = secrets.error(frozen) as Error & { status?: number };
    expect(masked).not.toBe(frozen);
    expect(masked.message).toBe('frozen [REDACTED]');
    expect(masked.status).toBe(403);
    expect(secrets.error('plain secret-value-123')).toBe('plain [REDACTED]');
  });

  it('survives cycles and getters that throw', () => {
    const error = new Error('cyclic secret-value-123') as Error & { self?: unknown };
    error.self = error;
    Object.defineProperty(error, 'boom', { get() { throw new Error('no'); }, enumerable: true });
    expect(secrets.error(error)).toBe(error);
    expect(error.message).toBe('cyclic [REDACTED]');
  });
});
