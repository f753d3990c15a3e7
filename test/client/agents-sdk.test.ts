/**
 * Frameworks take the MoA client as an OpenAI client: the OpenAI Agents SDK's
 * `OpenAIChatCompletionsModel` accepts it without a cast, and runs a turn
 * (plain and streamed) through it against the scripted server. The app is a
 * scratch one with `openai` 7, as the SDK brings, and moa-otel compiled into
 * it; the same app type-checks message arrays typed with `openai` 6 and 7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { createOpenAI7App, type ScratchApp } from './openai7-app.js';
import { scriptedServer } from './helpers.js';

const CLIENT = `
import { createMoaClient } from 'moa-otel/client';
export const client = createMoaClient({
  presets: { duo: {
    references: [{ provider: 'local', model: 'advisor-a' }, { provider: 'local', model: 'advisor-b' }],
    aggregator: { provider: 'local', model: 'aggregator' },
  } },
  providers: { local: { baseURL: process.env.SCRIPTED_BASE_URL ?? '' } },
  defaultPreset: 'duo', sessionId: 'agents-sdk', maxRetries: 0, env: {}, ignoreConfigFile: true,
});
`;

// No cast anywhere: the MoA client is what OpenAIChatCompletionsModel takes.
const AGENTS = `
import { Agent, OpenAIChatCompletionsModel, run, setTracingDisabled } from '@openai/agents';
import { client } from './client.js';

setTracingDisabled(true);
const agent = new Agent({ name: 'helper', instructions: 'Answer briefly.', model: new OpenAIChatCompletionsModel(client, 'moa') });
const plain = await run(agent, 'What is 2+2?');
const streamed = await run(agent, 'And 3+3?', { stream: true });
let text = '';
for await (const event of streamed.toTextStream()) text += event;
await streamed.completed;
console.log(JSON.stringify({ plain: plain.finalOutput, streamed: text, final: streamed.finalOutput }));
`;

// openai 7 and openai 6 message arrays both fit the client's params; the result carries the typed moa field.
const TYPES = `
import type OpenAI7 from 'openai';
import type { ChatCompletionMessageParam as Message7 } from 'openai/resources/chat/completions';
import type { ChatCompletionMessageParam as Message6 } from 'openai6/resources/chat/completions';
import { client } from './client.js';

const asOpenAI: OpenAI7 = client;
const seven: Message7[] = [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }];
const six: Message6[] = [{ role: 'user', content: 'hi' }];
export async function check(): Promise<number> {
  const a = await client.chat.completions.create({ model: 'moa', messages: seven });
  const b = await client.chat.completions.create({ model: 'moa', messages: six }, { sessionId: 's', timeout: 1000 });
  const { data, response, request_id } = await client.chat.completions.create({ model: 'moa', messages: six }).withResponse();
  const status: number = response.status;
  const id: string | null = request_id;
  void asOpenAI; void id;
  return (a.moa.totals.cost_usd ?? 0) + b.moa.totals.calls + data.moa.iteration + status;
}
`;

let server: ScriptedServer;
let app: ScratchApp;

beforeAll(async () => {
  server = await scriptedServer({
    'advisor-a': { reply: 'Say 4.' },
    'advisor-b': { reply: 'Be brief.' },
    aggregator: { reply: (request) => (JSON.stringify(request.messages).includes('3+3') ? 'It is 6.' : 'It is 4.') },
  });
  app = await createOpenAI7App({ 'client.ts': CLIENT, 'agents.ts': AGENTS, 'types.ts': TYPES });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

describe('the OpenAI Agents SDK takes the MoA client', () => {
  it('type-checks without a cast against openai 7 (and openai 6 message arrays)', async () => {
    await expect(app.typecheck()).resolves.toBe('');
  }, 120_000);

  it('runs a plain and a streamed agent turn through MoA', async () => {
    const out = await app.run('agents.ts', { SCRIPTED_BASE_URL: server.baseURL });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ plain: 'It is 4.', streamed: 'It is 6.', final: 'It is 6.' });
    const aggregatorCalls = server.requests.filter((r) => r.model === 'aggregator');
    expect(aggregatorCalls.map((r) => r.stream)).toEqual([false, true]);
    // The agent's instructions reach the acting model; the advisors ran for each user turn.
    expect(aggregatorCalls[0]!.messages[0]).toMatchObject({ role: 'system', content: 'Answer briefly.' });
    expect(server.requests.filter((r) => r.model.startsWith('advisor'))).toHaveLength(4);
  }, 120_000);
});
