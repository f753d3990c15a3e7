/**
 * A gateway whose preset's aggregator speaks the Responses API, called by the
 * official `openai` client over HTTP as any chat-completions endpoint: the
 * client's own stream helper reassembles the chunks, tool calls included, and
 * a parameter the Responses API cannot carry is the caller's 400, naming it.
 */
import OpenAI, { BadRequestError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createMoaClient } from '../../src/client/client.js';
import { createMoaGateway, type MoaGateway } from '../../src/gateway/server.js';
import { startScriptedServer, type ScriptedServer } from '../../src/testing/scripted-server.js';
import { recordingTracing, type RecordingTracing } from '../client/helpers.js';

let upstream: ScriptedServer | undefined;
let gateway: MoaGateway | undefined;
let tracing: RecordingTracing | undefined;
afterEach(async () => {
  await gateway?.close({ abortOpenTurns: true });
  await tracing?.shutdown();
  await upstream?.close();
});

const ANSWER = 'Pack a raincoat for Bergen.';
const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

async function start(): Promise<OpenAI> {
  upstream = await startScriptedServer({ models: {
    advisor: { reply: 'Check the forecast.' },
    'codex-agg': {
      chunkSize: 4,
      reply: (request) => (Array.isArray(request.body.tools) && !request.messages.some((m) => m.type === 'function_call_output')
        ? { toolCalls: [{ id: 'call_bergen', name: 'get_weather', arguments: '{"city":"Bergen"}' }] }
        : ANSWER),
    },
  } });
  tracing = recordingTracing();
  const client = createMoaClient({
    instrumentation: tracing.instrumentation,
    presets: { duo: { references: [{ provider: 'local', model: 'advisor' }], aggregator: { provider: 'codex', model: 'codex-agg' } } },
    providers: { local: { baseURL: upstream.baseURL }, codex: { baseURL: upstream.baseURL, apiKey: 'key-codex', api: 'responses' } },
    defaultPreset: 'duo', maxRetries: 0, env: {}, ignoreConfigFile: true, sessionId: 'gw-responses',
  });
  gateway = createMoaGateway({ client, env: {} });
  const url = await gateway.listen({ host: '127.0.0.1', port: 0 });
  return new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
}

describe('the gateway with a Responses-API aggregator', () => {
  it('streams an answer and a tool call the openai client reassembles', async () => {
    const openai = await start();
    const text = await openai.chat.completions.stream({ model: 'moa/duo', messages: [{ role: 'user', content: 'Bergen weather?' }] }).finalChatCompletion();
    expect(text.choices[0]!.message.content).toBe(ANSWER);
    const call = await openai.chat.completions.stream({ model: 'moa/duo', messages: [{ role: 'user', content: 'Bergen, now?' }], tools: [WEATHER_TOOL] }).finalChatCompletion();
    expect(call.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.choices[0]!.message.tool_calls).toEqual([{ id: 'call_bergen', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } }]);
    expect(upstream!.requests.filter((r) => r.model === 'codex-agg').map((r) => [r.endpoint, r.stream])).toEqual([['responses', true], ['responses', true]]);
  });

  it('a parameter the Responses API cannot carry is a 400 naming it, and nothing is called', async () => {
    const openai = await start();
    const failure = openai.chat.completions.create({ model: 'moa/duo', messages: [{ role: 'user', content: 'Stop at END' }], stop: ['END'] });
    await expect(failure).rejects.toBeInstanceOf(BadRequestError);
    await expect(failure).rejects.toMatchObject({ status: 400, param: 'stop', code: 'unsupported_parameter' });
    await expect(failure).rejects.toThrow(/^400 the aggregator is called through the Responses API, which cannot carry `stop`: the Responses API has no stop sequences$/);
    expect(upstream!.requests).toEqual([]);
  });
});
