/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`) against the gateway:
 * a tool-using agent, once with generateText and once with streamText. Runs
 * in a child process on Node 24 (the SDK needs Node 22+); prints one JSON
 * object with what the SDK returned.
 *
 *   node --import tsx ai-sdk.ts '{"baseURL": "...", "apiKey": "...", "marker": "..."}'
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';

const { baseURL, apiKey, marker } = JSON.parse(process.argv[2] ?? '{}') as { baseURL: string; apiKey: string; marker: string };
const moa = createOpenAICompatible({ name: 'moa', baseURL, apiKey, includeUsage: true });
const executed: unknown[] = [];
const tools = {
  get_weather: tool({
    description: 'Weather for a city',
    inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }),
    execute: async (input: { city: string }) => {
      executed.push(input);
      return { sky: 'sunny', celsius: 21 };
    },
  }),
};

const generated = await generateText({
  model: moa.chatModel('moa/duo'),
  system: 'You are a weather bot.',
  prompt: `Weather in Paris? ${marker} generate`,
  tools,
  stopWhen: stepCountIs(3),
});

const streamed = streamText({
  model: moa.chatModel('moa/duo'),
  system: 'You are a weather bot.',
  prompt: `Weather in Paris? ${marker} stream`,
  tools,
  stopWhen: stepCountIs(3),
});
let streamedText = '';
for await (const piece of streamed.textStream) streamedText += piece;

const summary = async (steps: readonly { toolCalls: readonly { toolName: string; input: unknown }[]; response: { headers?: Record<string, string> } }[]) =>
  steps.map((s) => ({ toolCalls: s.toolCalls.map((c) => [c.toolName, c.input]), sessionId: s.response.headers?.['x-moa-session-id'] ?? null }));

process.stdout.write(`${JSON.stringify({
  generate: {
    text: generated.text,
    steps: await summary(generated.steps),
    inputTokens: generated.totalUsage.inputTokens ?? null,
  },
  stream: {
    text: streamedText,
    steps: await summary(await streamed.steps),
    inputTokens: (await streamed.totalUsage).inputTokens ?? null,
  },
  executed,
})}\n`);
