/**
 * A small agent tool loop over the MoA client: model → tool calls → handlers
 * → tool results → model, until the model answers without tool calls or the
 * iteration limit is reached.
 */
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { DEFAULT_PRESET_MODEL, type MoaClient } from './client.js';
import { StreamAssembler } from './stream.js';

export type ToolHandler = (args: unknown, call: { id: string; name: string; arguments: string }) => unknown;

export interface RunConversationOptions {
  client: MoaClient;
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  /** Tool name → handler; the result is sent as the tool message (strings as they are, other values as JSON). */
  handlers?: Record<string, ToolHandler>;
  sessionId?: string | null;
  /** Model calls at most (default 8). */
  maxIterations?: number;
  /** Preset to use (the `model` param); the default preset otherwise. */
  model?: string;
  stream?: boolean;
  /** Called with every streamed chunk, in order. */
  onChunk?: (chunk: ChatCompletionChunk) => void;
  /** Called with every assistant and tool message as it is added. */
  onMessage?: (message: ChatCompletionMessageParam) => void;
  signal?: AbortSignal;
}

export interface ConversationResult {
  /** The input messages plus every assistant and tool message added. */
  messages: ChatCompletionMessageParam[];
  /** The final assistant text; null when the limit was reached first. */
  finalAnswer: string | null;
  iterations: number;
  stoppedBy: 'answer' | 'max_iterations';
}

interface AssistantTurn {
  content: string | null;
  toolCalls: { id: string; name: string; arguments: string }[];
}

export async function runConversation(options: RunConversationOptions): Promise<ConversationResult> {
  const messages = [...options.messages];
  const maxIterations = options.maxIterations ?? 8;
  const requestOptions = {
    ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const base = {
      model: options.model ?? DEFAULT_PRESET_MODEL,
      messages,
      ...(options.tools && options.tools.length > 0 ? { tools: options.tools } : {}),
    };
    const turn = options.stream
      ? await streamedTurn(options, base, requestOptions)
      : await plainTurn(options, base, requestOptions);

    const assistant: ChatCompletionMessageParam = {
      role: 'assistant',
      content: turn.content,
      ...(turn.toolCalls.length > 0
        ? { tool_calls: turn.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) }
        : {}),
    };
    messages.push(assistant);
    options.onMessage?.(assistant);
    if (turn.toolCalls.length === 0) {
      return { messages, finalAnswer: turn.content ?? '', iterations: iteration, stoppedBy: 'answer' };
    }
    for (const call of turn.toolCalls) {
      const result: ChatCompletionMessageParam = { role: 'tool', tool_call_id: call.id, content: await runTool(options.handlers ?? {}, call) };
      messages.push(result);
      options.onMessage?.(result);
    }
  }
  return { messages, finalAnswer: null, iterations: maxIterations, stoppedBy: 'max_iterations' };
}

type Base = { model: string; messages: ChatCompletionMessageParam[]; tools?: ChatCompletionTool[] };
type RequestOptions = { sessionId?: string | null; signal?: AbortSignal };

async function plainTurn(options: RunConversationOptions, base: Base, requestOptions: RequestOptions): Promise<AssistantTurn> {
  const response = await options.client.chat.completions.create({ ...base, stream: false }, requestOptions);
  const message = response.choices[0]?.message;
  const toolCalls = (message?.tool_calls ?? []).flatMap((c) =>
    c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : []);
  return { content: message?.content ?? null, toolCalls };
}

async function streamedTurn(options: RunConversationOptions, base: Base, requestOptions: RequestOptions): Promise<AssistantTurn> {
  const stream = await options.client.chat.completions.create({ ...base, stream: true }, requestOptions);
  const assembler = new StreamAssembler();
  for await (const chunk of stream) {
    options.onChunk?.(chunk);
    assembler.add(chunk);
  }
  const toolCalls = assembler.toolCalls().map((c, i) => ({ id: c.id ?? `call_${i}`, name: c.function.name, arguments: c.function.arguments }));
  return { content: assembler.output, toolCalls };
}

/** A handler's failure is reported to the model as the tool result, as agent loops usually do. */
async function runTool(handlers: Record<string, ToolHandler>, call: { id: string; name: string; arguments: string }): Promise<string> {
  const handler = handlers[call.name];
  if (!handler) return `error: no tool named "${call.name}"`;
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    return `error: the arguments of ${call.name} are not valid JSON`;
  }
  try {
    const result = await handler(args, call);
    return typeof result === 'string' ? result : JSON.stringify(result) ?? '';
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}
