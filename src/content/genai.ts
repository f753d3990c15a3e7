/**
 * Lossless conversion between OpenAI chat messages and the OpenTelemetry
 * GenAI role+parts message schema.
 *
 * Spans carry GenAI messages so backends can render them; the JSONL file
 * carries the exact OpenAI messages. For every message array M,
 * `fromGenAiMessages(toGenAiMessages(M))` deep-equals M. Whatever the GenAI
 * schema has no field for travels in properties of our own:
 *   - `openai_extra` on a message: its fields that were not mapped to parts;
 *   - `openai_content: "parts"` on a message whose content was an array (so a
 *     single text part and a one-item array stay distinguishable);
 *   - `openai_raw` on a message: an array item that was not a chat message at all;
 *   - `openai_original` on a part: the exact original item when the mapped
 *     form alone could not rebuild it (unknown part types, unusual fields).
 */

export type GenAiPart = { type: string; [key: string]: unknown };
export interface GenAiMessage {
  role: string;
  parts: GenAiPart[];
  name?: string;
  finish_reason?: string;
  openai_content?: 'parts';
  openai_extra?: Record<string, unknown>;
  openai_raw?: unknown;
  [key: string]: unknown;
}

type Obj = Record<string, unknown>;

const TOOL_CALL = 'tool_call';
const TOOL_CALL_RESPONSE = 'tool_call_response';
/** The GenAI schema's part for anything else; the provider's own type goes in `generic_type`. */
const GENERIC_PART = 'generic';

// --- OpenAI → GenAI ----------------------------------------------------------

export function toGenAiMessages(messages: readonly unknown[]): GenAiMessage[] {
  return messages.map(toGenAiMessage);
}

export function toGenAiMessage(input: unknown): GenAiMessage {
  if (!isObj(input) || typeof input.role !== 'string') {
    // Not a chat message at all: keep it whole so nothing is lost.
    return { role: 'unknown', parts: [], openai_raw: input };
  }
  const message = input;
  const out: GenAiMessage = { role: input.role, parts: [] };
  const extra: Obj = {};
  const mapped = new Set<string>(['role']);
  const content = message.content;

  if (message.role === 'tool' && typeof message.tool_call_id === 'string' && (typeof content === 'string' || Array.isArray(content))) {
    out.parts.push({ type: TOOL_CALL_RESPONSE, id: message.tool_call_id, response: content });
    mapped.add('content').add('tool_call_id');
  } else if (typeof content === 'string') {
    out.parts.push({ type: 'text', content });
    mapped.add('content');
  } else if (Array.isArray(content)) {
    for (const item of content) out.parts.push(contentItemToPart(item));
    out.openai_content = 'parts';
    mapped.add('content');
  }

  if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
    for (const call of message.tool_calls) out.parts.push(toolCallToPart(call));
    mapped.add('tool_calls');
  }
  if (typeof message.name === 'string') {
    out.name = message.name;
    mapped.add('name');
  }
  for (const key of Object.keys(message)) {
    if (!mapped.has(key)) setOwn(extra, key, message[key]);
  }
  if (Object.keys(extra).length > 0) out.openai_extra = extra;
  return out;
}

function contentItemToPart(item: unknown): GenAiPart {
  const part = mapContentItem(item) ?? genericPart(item);
  if (deepEqual(partToContentItem(part), item)) return part;
  // Only when the readable form cannot rebuild the item exactly does it travel whole.
  return isObj(item) && typeof item.type === 'string'
    ? { type: GENERIC_PART, generic_type: item.type, openai_original: item }
    : { type: GENERIC_PART, openai_original: item };
}

/** A content item no part type fits, as the GenAI schema's generic part: its own type in `generic_type`, its fields kept. */
function genericPart(item: unknown): GenAiPart {
  if (!isObj(item) || typeof item.type !== 'string') return { type: GENERIC_PART, openai_original: item };
  const part: GenAiPart = { type: GENERIC_PART, generic_type: item.type };
  for (const key of Object.keys(item)) if (key !== 'type') setOwn(part, key, item[key]);
  return part;
}

function mapContentItem(item: unknown): GenAiPart | undefined {
  if (!isObj(item)) return undefined;
  if (item.type === 'text' && typeof item.text === 'string') return { type: 'text', content: item.text };
  if (item.type === 'image_url' && isObj(item.image_url) && typeof item.image_url.url === 'string') {
    const part: GenAiPart = { type: 'uri', modality: 'image', uri: item.image_url.url };
    if (typeof item.image_url.detail === 'string') part.detail = item.image_url.detail;
    return part;
  }
  if (item.type === 'input_audio' && isObj(item.input_audio) && typeof item.input_audio.data === 'string' && typeof item.input_audio.format === 'string') {
    return { type: 'blob', modality: 'audio', mime_type: `audio/${item.input_audio.format}`, content: item.input_audio.data };
  }
  return undefined;
}

function toolCallToPart(call: unknown): GenAiPart {
  if (isObj(call) && isObj(call.function) && typeof call.function.name === 'string' && typeof call.function.arguments === 'string') {
    const part: GenAiPart = { type: TOOL_CALL, name: call.function.name, arguments: argumentsForDisplay(call.function.arguments) };
    if (typeof call.id === 'string') part.id = call.id;
    if (deepEqual(partToToolCall(part), call)) return part;
  }
  return { type: TOOL_CALL, openai_original: call };
}

/**
 * Arguments arrive as a JSON string. Backends render an object better, so a
 * string that is canonical JSON of an object or array becomes that value;
 * anything else (spacing, non-JSON, a JSON scalar) stays the exact string.
 */
function argumentsForDisplay(args: string): unknown {
  const first = args.charCodeAt(0);
  if (first !== 0x7b /* { */ && first !== 0x5b /* [ */) return args;
  try {
    const parsed: unknown = JSON.parse(args);
    return parsed !== null && typeof parsed === 'object' && JSON.stringify(parsed) === args ? parsed : args;
  } catch {
    return args;
  }
}

// --- GenAI → OpenAI ----------------------------------------------------------

export function fromGenAiMessages(messages: readonly GenAiMessage[]): Obj[] {
  return messages.map(fromGenAiMessage);
}

export function fromGenAiMessage(message: GenAiMessage): Obj {
  if ('openai_raw' in message) return message.openai_raw as Obj;
  const out: Obj = { role: message.role };
  const contentParts: GenAiPart[] = [];
  const toolCalls: unknown[] = [];
  for (const part of message.parts) {
    if (part.type === TOOL_CALL) toolCalls.push(partToToolCall(part));
    else if (part.type === TOOL_CALL_RESPONSE) {
      out.content = part.response;
      out.tool_call_id = part.id;
    } else contentParts.push(part);
  }
  if (message.openai_content === 'parts') {
    out.content = contentParts.map(partToContentItem);
  } else if (contentParts.length > 0) {
    const [first] = contentParts;
    out.content = first && first.type === 'text' ? first.content : partToContentItem(first as GenAiPart);
  }
  if (toolCalls.length > 0) out.tool_calls = toolCalls;
  if (typeof message.name === 'string') out.name = message.name;
  if (message.openai_extra) for (const key of Object.keys(message.openai_extra)) setOwn(out, key, message.openai_extra[key]);
  return out;
}

function partToContentItem(part: GenAiPart): unknown {
  if ('openai_original' in part) return part.openai_original;
  switch (part.type) {
    case GENERIC_PART: {
      const item: Obj = { type: part.generic_type };
      for (const key of Object.keys(part)) if (key !== 'type' && key !== 'generic_type') setOwn(item, key, part[key]);
      return item;
    }
    case 'text':
      return { type: 'text', text: part.content };
    case 'uri': {
      const imageUrl: Obj = { url: part.uri };
      if (typeof part.detail === 'string') imageUrl.detail = part.detail;
      return { type: 'image_url', image_url: imageUrl };
    }
    case 'blob':
      return { type: 'input_audio', input_audio: { data: part.content, format: String(part.mime_type).replace(/^audio\//, '') } };
    default:
      return part;
  }
}

function partToToolCall(part: GenAiPart): unknown {
  if ('openai_original' in part) return part.openai_original;
  const args = typeof part.arguments === 'string' ? part.arguments : JSON.stringify(part.arguments);
  const call: Obj = {};
  if (part.id !== undefined) call.id = part.id;
  call.type = 'function';
  call.function = { name: part.name, arguments: args };
  return call;
}

// --- outputs -------------------------------------------------------------------

/** The GenAI output message of a call: text and/or tool calls, with the finish reason. */
export function outputMessage(text: string | null | undefined, toolCalls?: readonly unknown[] | null, finishReason?: string | null): GenAiMessage {
  const parts: GenAiPart[] = [];
  if (typeof text === 'string' && text !== '') parts.push({ type: 'text', content: text });
  for (const call of toolCalls ?? []) parts.push(toolCallToPart(call));
  const message: GenAiMessage = { role: 'assistant', parts };
  // Required by the GenAI output-message schema, in its own vocabulary.
  message.finish_reason = finishReason ? genAiFinishReason(finishReason) : toolCalls && toolCalls.length > 0 ? 'tool_call' : 'stop';
  return message;
}

/**
 * The user's question an MoA turn answers, found the same way live and on
 * replay: the last user message the aggregator saw, before the guidance block
 * MoA appends as its final message when there were references; without an
 * aggregator, the last user message of the first call.
 */
export function turnQuestion(aggregatorInput: readonly unknown[] | undefined, firstCallInput: readonly unknown[] | undefined, hadReferences: boolean): string | undefined {
  if (aggregatorInput) return latestUserText(hadReferences ? aggregatorInput.slice(0, -1) : aggregatorInput);
  return firstCallInput ? latestUserText(firstCallInput) : undefined;
}

/** The text of the last user message, if any. */
export function latestUserText(messages: readonly unknown[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      const text = message.content
        .map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
        .join('');
      if (text !== '') return text;
    }
  }
  return undefined;
}

/** OpenAI's finish reasons in the GenAI schema's words (`tool_calls` → `tool_call`); others pass as they are. */
function genAiFinishReason(reason: string): string {
  return reason === 'tool_calls' || reason === 'function_call' ? 'tool_call' : reason;
}

// --- helpers -------------------------------------------------------------------

/** Defines an own property; plain assignment would treat `__proto__` as the prototype setter. */
function setOwn(target: Obj, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON-like values (key order ignored, as deep-equal does). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Obj)[k], (b as Obj)[k])) return false;
  }
  return true;
}
