/**
 * Where the OpenAI Agents SDK (`@openai/agents`, `OpenAIChatCompletionsModel`)
 * shows the turn's dollars the gateway puts in `usage.cost`: a plain and a
 * streamed run, with and without `preserveRawUsage`. Prints one JSON object
 * of the places looked at (null where nothing is).
 *
 *   node --import tsx dollars-agents.ts '{"baseURL": "...", "apiKey": "..."}'
 */
import { Agent, OpenAIChatCompletionsModel, run, setTracingDisabled } from '@openai/agents';
import OpenAI from 'openai';

const { baseURL, apiKey } = JSON.parse(process.argv[2] ?? '{}') as { baseURL: string; apiKey: string };
setTracingDisabled(true);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const model = new OpenAIChatCompletionsModel(client as never, 'moa/duo');
const plainAgent = new Agent({ name: 'plain', instructions: 'Answer briefly.', model });
const rawAgent = new Agent({ name: 'raw', instructions: 'Answer briefly.', model, modelSettings: { preserveRawUsage: true } });
type Raw = { usage?: { cost?: number }; rawUsage?: { cost?: number }; providerData?: { usage?: { cost?: number }; model?: string } };
const first = (responses: readonly unknown[]) => (responses[0] ?? {}) as Raw;

const plain = await run(plainAgent, 'What now? [dollars agents plain]');
const raw = await run(rawAgent, 'What now? [dollars agents raw]');
const streamed = await run(rawAgent, 'What now? [dollars agents stream]', { stream: true });
for await (const _ of streamed.toTextStream()) { /* drain */ }
await streamed.completed;

process.stdout.write(`${JSON.stringify({
  plain: {
    providerDataUsageCost: first(plain.rawResponses).providerData?.usage?.cost ?? null,
    rawUsageCost: first(plain.rawResponses).rawUsage?.cost ?? null,
    runUsageKeys: Object.keys(plain.runContext.usage).sort(),
  },
  preserveRawUsage: {
    rawUsageCost: first(raw.rawResponses).rawUsage?.cost ?? null,
    providerDataUsageCost: first(raw.rawResponses).providerData?.usage?.cost ?? null,
  },
  streamedPreserveRawUsage: {
    rawUsageCost: first(streamed.rawResponses).rawUsage?.cost ?? null,
  },
})}\n`);
