/**
 * Where LangChain's `ChatOpenAI` shows the turn's dollars the gateway puts in
 * `usage.cost`: one invoke and one stream. Runs on Node 24; prints one JSON
 * object of the places looked at (null where nothing is).
 *
 *   node --import tsx dollars-langchain.ts '{"baseURL": "...", "apiKey": "..."}'
 */
import type { AIMessageChunk } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';

const { baseURL, apiKey } = JSON.parse(process.argv[2] ?? '{}') as { baseURL: string; apiKey: string };
const model = new ChatOpenAI({ model: 'moa/duo', apiKey, configuration: { baseURL }, maxRetries: 0 });
const costOf = (metadata: Record<string, unknown>) => (metadata.usage as { cost?: number } | undefined)?.cost ?? null;

const invoked = await model.invoke('What now? [dollars langchain invoke]');
let whole: AIMessageChunk | undefined;
for await (const chunk of await model.stream('What now? [dollars langchain stream]')) whole = whole ? whole.concat(chunk) : chunk;

process.stdout.write(`${JSON.stringify({
  invoke: {
    responseMetadataUsageCost: costOf(invoked.response_metadata),
    usageMetadata: invoked.usage_metadata ?? null,
    modelName: invoked.response_metadata.model_name ?? null,
  },
  stream: {
    responseMetadataUsageCost: whole ? costOf(whole.response_metadata) : null,
    usageMetadata: whole?.usage_metadata ?? null,
    modelName: whole?.response_metadata.model_name ?? null,
  },
})}\n`);
