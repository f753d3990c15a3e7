/**
 * LangChain's `ChatOpenAI` (`@langchain/openai`) against the gateway: a tool
 * call answered by hand, once invoked and once streamed. Runs in a child
 * process on Node 24 (the package needs Node 22+); prints one JSON object.
 *
 *   node --import tsx langchain.ts '{"baseURL": "...", "apiKey": "...", "marker": "..."}'
 */
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';

const { baseURL, apiKey, marker } = JSON.parse(process.argv[2] ?? '{}') as { baseURL: string; apiKey: string; marker: string };
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const model = new ChatOpenAI({ model: 'moa/duo', apiKey, configuration: { baseURL }, maxRetries: 0 }).bindTools([weatherTool]);

/** One agent round trip: the model asks for the tool, we answer it, the model answers the user. */
async function roundTrip(label: string, ask: (messages: BaseMessage[]) => Promise<AIMessage | AIMessageChunk>) {
  const messages: BaseMessage[] = [new SystemMessage('You are a weather bot.'), new HumanMessage(`Weather in Paris? ${marker} ${label}`)];
  const first = await ask(messages);
  const calls = first.tool_calls ?? [];
  messages.push(first, ...calls.map((c) => new ToolMessage({ tool_call_id: c.id ?? '', content: '{"sky":"sunny","celsius":21}' })));
  const second = await ask(messages);
  return {
    toolCalls: calls.map((c) => [c.name, c.args]),
    text: typeof second.content === 'string' ? second.content : JSON.stringify(second.content),
    inputTokens: second.usage_metadata?.input_tokens ?? null,
  };
}

const invoked = await roundTrip('invoke', (messages) => model.invoke(messages));
const streamed = await roundTrip('stream', async (messages) => {
  let whole: AIMessageChunk | undefined;
  for await (const chunk of await model.stream(messages)) whole = whole ? whole.concat(chunk) : chunk;
  if (!whole) throw new Error('empty stream');
  return whole;
});
process.stdout.write(`${JSON.stringify({ invoke: invoked, stream: streamed })}\n`);
