/**
 * Where the Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`) shows the
 * turn's dollars the gateway puts in `usage.cost`: one generateText and one
 * streamText call. Runs on Node 24; prints one JSON object of the places
 * looked at (null where nothing is).
 *
 *   node --import tsx dollars-ai-sdk.ts '{"baseURL": "...", "apiKey": "..."}'
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';

const { baseURL, apiKey } = JSON.parse(process.argv[2] ?? '{}') as { baseURL: string; apiKey: string };
const moa = createOpenAICompatible({ name: 'moa', baseURL, apiKey, includeUsage: true });
const costOf = (raw: unknown) => (raw as { cost?: number } | undefined)?.cost ?? null;

const generated = await generateText({ model: moa.chatModel('moa/duo'), prompt: 'What now? [dollars ai-sdk generate]' });
const streamed = streamText({ model: moa.chatModel('moa/duo'), prompt: 'What now? [dollars ai-sdk stream]' });
for await (const _ of streamed.textStream) { /* drain */ }

process.stdout.write(`${JSON.stringify({
  generate: {
    usageRawCost: costOf(generated.usage.raw),
    stepUsageRawCost: costOf(generated.steps[0]?.usage.raw),
    totalUsageRawCost: costOf(generated.totalUsage.raw),
    responseModelId: generated.response.modelId,
    providerMetadata: generated.providerMetadata ?? null,
  },
  stream: {
    usageRawCost: costOf((await streamed.usage).raw),
    totalUsageRawCost: costOf((await streamed.totalUsage).raw),
    responseModelId: (await streamed.response).modelId,
  },
})}\n`);
