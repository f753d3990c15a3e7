/**
 * The caller's chat-completions request as a Responses API request, for an
 * aggregator whose provider speaks only that API (the original's
 * `codex_responses` transport). Leading system/developer messages become
 * `instructions`; the rest of the conversation becomes `input` items — user,
 * assistant and later system messages as messages, an assistant's tool calls
 * as `function_call` items, tool results as `function_call_output` items.
 * Function tools, `tool_choice`, sampling, token limit, reasoning and
 * response format map onto their Responses fields. A chat parameter with no
 * Responses counterpart (`n > 1`, logprobs, `stop`, …) is refused with one
 * error naming it, before anything is called: dropping it would answer a
 * different question than the one asked. Keys this module does not know are
 * sent as given (a slot's `extra_body` may hold Responses-only fields).
 */
import type {
  EasyInputMessage,
  FunctionTool,
  ResponseCreateParamsBase,
  ResponseInputContent,
  ResponseInputItem,
  ResponseTextConfig,
  ToolChoiceAllowed,
  ToolChoiceFunction,
  ToolChoiceOptions,
} from 'openai/resources/responses/responses';

/** A chat parameter the Responses API cannot carry; a 400 for the gateway, one line for the CLI. */
export class UnsupportedByResponsesError extends Error {
  override readonly name = 'UnsupportedByResponsesError';
  /** The caller's request is what cannot be served: a bad request, not an upstream failure. */
  readonly status = 400;
  /** `param`: the request parameter at fault, as OpenAI's errors name it (`n`, `messages[2].content[0]`). */
  constructor(readonly param: string, detail: string) {
    super(`the aggregator is called through the Responses API, which cannot carry \`${param}\`: ${detail}`);
  }
}

/** The Responses request body, minus `stream` (the caller of this module sets it). */
export type ResponsesRequestBody = Omit<ResponseCreateParamsBase, 'stream'> & Record<string, unknown>;

/** Chat keys translated below, never sent as they are. */
const TRANSLATED = new Set([
  'messages', 'max_tokens', 'max_completion_tokens', 'reasoning_effort', 'verbosity', 'response_format',
  'tools', 'tool_choice', 'stream', 'stream_options',
]);

/**
 * Chat keys without a Responses counterpart, and the values that ask for
 * nothing (those are dropped quietly; any other value is refused).
 */
const UNCARRIED: Record<string, { harmless: (value: unknown) => boolean; detail: string }> = {
  n: { harmless: (v) => v === 1, detail: 'a Responses call returns one answer (use n: 1)' },
  logprobs: { harmless: (v) => v === false, detail: 'token log probabilities are not translated back into chat choices' },
  top_logprobs: { harmless: (v) => v === 0, detail: 'token log probabilities are not translated back into chat choices' },
  stop: { harmless: (v) => (Array.isArray(v) && v.length === 0), detail: 'the Responses API has no stop sequences' },
  frequency_penalty: { harmless: (v) => v === 0, detail: 'the Responses API has no frequency penalty' },
  presence_penalty: { harmless: (v) => v === 0, detail: 'the Responses API has no presence penalty' },
  logit_bias: { harmless: (v) => isRecord(v) && Object.keys(v).length === 0, detail: 'the Responses API has no logit bias' },
  seed: { harmless: () => false, detail: 'the Responses API has no seed' },
  audio: { harmless: () => false, detail: 'audio output is not translated' },
  modalities: { harmless: (v) => Array.isArray(v) && v.every((m) => m === 'text'), detail: 'only text output is translated' },
  prediction: { harmless: () => false, detail: 'the Responses API has no predicted outputs' },
  functions: { harmless: (v) => Array.isArray(v) && v.length === 0, detail: 'the deprecated `functions` are not translated (use `tools`)' },
  function_call: { harmless: () => false, detail: 'the deprecated `function_call` is not translated (use `tool_choice`)' },
  web_search_options: { harmless: () => false, detail: 'the web search tool is not translated' },
};

/**
 * `body` is the chat body the aggregator would send (the caller's params with
 * the slot's model, temperature, reasoning and `extra_body`, and the
 * aggregator's messages). Throws `UnsupportedByResponsesError`.
 */
export function toResponsesRequest(body: Readonly<Record<string, unknown>>): ResponsesRequestBody {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null || TRANSLATED.has(key)) continue;
    const uncarried = Object.hasOwn(UNCARRIED, key) ? UNCARRIED[key] : undefined;
    if (uncarried) {
      if (!uncarried.harmless(value)) throw new UnsupportedByResponsesError(key, uncarried.detail);
      continue;
    }
    out[key] = value;
  }
  const { instructions, input } = conversation(body.messages);
  if (instructions !== undefined) out.instructions = instructions;
  out.input = input;

  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) out.max_output_tokens = maxTokens;
  // A chat call is not stored unless asked; a Responses call is by default. Keep the chat meaning.
  out.store = body.store ?? false;
  if (typeof body.reasoning_effort === 'string') {
    out.reasoning = { ...(isRecord(out.reasoning) ? out.reasoning : {}), effort: body.reasoning_effort };
  }
  const text = textConfig(body.response_format, body.verbosity, out.text);
  if (text) out.text = text;
  if (Array.isArray(body.tools) && body.tools.length > 0) out.tools = body.tools.map(functionTool);
  if (body.tool_choice !== undefined && body.tool_choice !== null) out.tool_choice = toolChoice(body.tool_choice);
  return out as ResponsesRequestBody;
}

function conversation(messages: unknown): { instructions?: string; input: ResponseInputItem[] } {
  if (!Array.isArray(messages)) throw new UnsupportedByResponsesError('messages', 'it must be an array of messages');
  let start = 0;
  const leading: string[] = [];
  // The leading system/developer messages are the model's instructions.
  while (start < messages.length && isRecord(messages[start]) && isInstructionRole(messages[start].role)) {
    leading.push(textOf(messages[start].content, `messages[${start}].content`));
    start++;
  }
  const input: ResponseInputItem[] = [];
  for (let i = start; i < messages.length; i++) input.push(...inputItems(messages[i], i));
  return { ...(leading.length > 0 ? { instructions: leading.join('\n\n') } : {}), input };
}

function inputItems(message: unknown, index: number): ResponseInputItem[] {
  const where = `messages[${index}]`;
  if (!isRecord(message)) throw new UnsupportedByResponsesError(where, 'a message must be an object');
  switch (message.role) {
    case 'system':
    case 'developer':
      return [{ role: message.role, content: textOf(message.content, `${where}.content`) } satisfies EasyInputMessage];
    case 'user':
      return [{ role: 'user', content: userContent(message.content, `${where}.content`) } satisfies EasyInputMessage];
    case 'assistant':
      return assistantItems(message, where);
    case 'tool':
      if (typeof message.tool_call_id !== 'string') throw new UnsupportedByResponsesError(`${where}.tool_call_id`, 'a tool result needs the id of its call');
      return [{ type: 'function_call_output', call_id: message.tool_call_id, output: textOf(message.content, `${where}.content`) }];
    default:
      throw new UnsupportedByResponsesError(`${where}.role`, `a ${String(message.role)} message is not translated (system, developer, user, assistant and tool are)`);
  }
}

function assistantItems(message: Record<string, unknown>, where: string): ResponseInputItem[] {
  if (message.audio !== undefined && message.audio !== null) throw new UnsupportedByResponsesError(`${where}.audio`, 'audio is not translated');
  if (message.function_call !== undefined && message.function_call !== null) {
    throw new UnsupportedByResponsesError(`${where}.function_call`, 'the deprecated function_call is not translated (use tool_calls)');
  }
  const items: ResponseInputItem[] = [];
  const text = message.content === undefined || message.content === null ? '' : textOf(message.content, `${where}.content`);
  if (text !== '') items.push({ role: 'assistant', content: text } satisfies EasyInputMessage);
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  for (const [i, call] of calls.entries()) {
    const fn = isRecord(call) && call.type === 'function' && isRecord(call.function) ? call.function : undefined;
    if (!fn || !isRecord(call) || typeof call.id !== 'string' || typeof fn.name !== 'string') {
      throw new UnsupportedByResponsesError(`${where}.tool_calls[${i}]`, 'only function tool calls with an id and a name are translated');
    }
    items.push({ type: 'function_call', call_id: call.id, name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '' });
  }
  return items;
}

function isInstructionRole(role: unknown): boolean {
  return role === 'system' || role === 'developer';
}

/** A message's text: a string, or text (and refusal) parts joined. */
function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new UnsupportedByResponsesError(where, 'content must be a string or an array of parts');
  return content.map((part, i) => {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
    if (isRecord(part) && part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
    throw new UnsupportedByResponsesError(`${where}[${i}]`, 'only text parts are translated here');
  }).join('');
}

/** A user message's content: a string, or text, image and file parts. */
function userContent(content: unknown, where: string): string | ResponseInputContent[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new UnsupportedByResponsesError(where, 'content must be a string or an array of parts');
  return content.map((part, i): ResponseInputContent => {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return { type: 'input_text', text: part.text };
    if (isRecord(part) && part.type === 'image_url' && isRecord(part.image_url) && typeof part.image_url.url === 'string') {
      const detail = part.image_url.detail;
      return { type: 'input_image', image_url: part.image_url.url, detail: detail === 'low' || detail === 'high' ? detail : 'auto' };
    }
    if (isRecord(part) && part.type === 'file' && isRecord(part.file)) {
      const { file_data: fileData, file_id: fileId, filename } = part.file;
      return {
        type: 'input_file',
        ...(typeof fileData === 'string' ? { file_data: fileData } : {}),
        ...(typeof fileId === 'string' ? { file_id: fileId } : {}),
        ...(typeof filename === 'string' ? { filename } : {}),
      };
    }
    throw new UnsupportedByResponsesError(`${where}[${i}]`, `a ${isRecord(part) ? String(part.type) : 'malformed'} part is not translated (text, image_url and file are)`);
  });
}

/** A chat function tool as a Responses function tool. Chat's `strict` defaults to false, the Responses API's to true: say it. */
function functionTool(tool: unknown, index: number): FunctionTool {
  const fn = isRecord(tool) && tool.type === 'function' && isRecord(tool.function) ? tool.function : undefined;
  if (!fn || typeof fn.name !== 'string') {
    throw new UnsupportedByResponsesError(`tools[${index}]`, 'only function tools are translated');
  }
  return {
    type: 'function',
    name: fn.name,
    ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
    // Chat lets a function omit its parameters (no arguments); the Responses API wants a schema.
    parameters: isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
    strict: fn.strict === true,
  };
}

function toolChoice(choice: unknown): ToolChoiceOptions | ToolChoiceFunction | ToolChoiceAllowed {
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { type: 'function', name: choice.function.name };
  }
  if (isRecord(choice) && choice.type === 'allowed_tools' && isRecord(choice.allowed_tools)) {
    const { mode, tools } = choice.allowed_tools;
    if ((mode === 'auto' || mode === 'required') && Array.isArray(tools)) {
      return {
        type: 'allowed_tools',
        mode,
        tools: tools.map((t) => (isRecord(t) && isRecord(t.function) ? { type: 'function', name: t.function.name } : t) as Record<string, unknown>),
      };
    }
  }
  throw new UnsupportedByResponsesError('tool_choice', 'only none, auto, required, a function and allowed function tools are translated');
}

/** `response_format` and `verbosity` as the Responses `text` config (merged into one an `extra_body` gave). */
function textConfig(format: unknown, verbosity: unknown, given: unknown): ResponseTextConfig | undefined {
  const text: Record<string, unknown> = isRecord(given) ? { ...given } : {};
  if (verbosity === 'low' || verbosity === 'medium' || verbosity === 'high') text.verbosity = verbosity;
  if (isRecord(format)) {
    if (format.type === 'text' || format.type === 'json_object') text.format = { type: format.type };
    else if (format.type === 'json_schema' && isRecord(format.json_schema) && typeof format.json_schema.name === 'string') {
      const schema = format.json_schema;
      text.format = {
        type: 'json_schema',
        name: schema.name,
        schema: isRecord(schema.schema) ? schema.schema : {},
        ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        ...(typeof schema.strict === 'boolean' ? { strict: schema.strict } : {}),
      };
    } else {
      throw new UnsupportedByResponsesError('response_format', 'only text, json_object and json_schema are translated');
    }
  }
  return Object.keys(text).length > 0 ? (text as ResponseTextConfig) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
