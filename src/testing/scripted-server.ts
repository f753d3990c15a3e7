/**
 * A local OpenAI-compatible server (chat completions and the Responses API,
 * plain and streamed, text and function calls) with deterministic,
 * scriptable models. It backs `moa-otel demo` and the tests: each model name
 * maps to a behavior (reply, delay, failure status, hang until the client
 * aborts, usage shape, reported cost), and every request is recorded with its
 * arrival and finish times. Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: string;
}

export interface ScriptedReply {
  content?: string | null;
  toolCalls?: ScriptedToolCall[];
  finishReason?: string;
}

/** Which usage object the model reports. */
export type UsageVariant = 'chat_completions' | 'anthropic' | 'responses' | 'none';

export interface ScriptedModel {
  reply?: string | ScriptedReply | ((request: RecordedRequest) => string | ScriptedReply);
  /** Wait this long before answering (before the first chunk when streaming). */
  delayMs?: number;
  /** Wait between streamed chunks. */
  chunkDelayMs?: number;
  /** Answer with this HTTP status and an OpenAI-style error body. */
  failStatus?: number;
  /** The error body's message; a function sees the request (e.g. to echo its Authorization header, as some providers do). */
  failMessage?: string | ((request: RecordedRequest) => string);
  /** Never answer; the request ends only when the client goes away. */
  hang?: boolean;
  usage?: UsageVariant;
  /** Cached prompt tokens and reasoning tokens to report (cache writes for the Anthropic shape). */
  tokens?: { cached?: number; cacheWrite?: number; reasoning?: number };
  /** Report this cost in `usage.cost`, as OpenRouter does. */
  costUsd?: number | string;
  /** Characters per streamed content chunk. */
  chunkSize?: number;
  /** Drop the connection after this many streamed chunks (a provider dying mid-stream). */
  cutAfterChunks?: number;
}

export interface RecordedRequest {
  /** Which API was called: `/chat/completions` or `/responses`. */
  endpoint: 'chat.completions' | 'responses';
  model: string;
  body: Record<string, unknown>;
  messages: Record<string, unknown>[];
  stream: boolean;
  receivedAt: number;
  /** The request's HTTP headers (e.g. a W3C `traceparent` an HTTP instrumentation injected). */
  headers: IncomingHttpHeaders;
  finishedAt?: number;
  /** The client went away before the answer was complete. */
  aborted: boolean;
  /** Streaming: every chunk object sent, in order. */
  sentChunks: Record<string, unknown>[];
}

export interface ScriptedServer {
  /** e.g. `http://127.0.0.1:PORT/v1`, for the `openai` client's `baseURL`. */
  baseURL: string;
  port: number;
  requests: RecordedRequest[];
  setModel(name: string, model: ScriptedModel): void;
  close(): Promise<void>;
}

export async function startScriptedServer(options: { models: Record<string, ScriptedModel> }): Promise<ScriptedServer> {
  const models = new Map(Object.entries(options.models));
  const requests: RecordedRequest[] = [];
  let callCounter = 0;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `scripted server error: ${(err as Error).message}`);
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const endpoint = path.endsWith('/chat/completions') ? 'chat.completions' : path.endsWith('/responses') ? 'responses' : undefined;
    if (req.method !== 'POST' || endpoint === undefined) {
      sendError(res, 404, `no route for ${req.method} ${path}`);
      return;
    }
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const modelName = String(body.model ?? '');
    const record: RecordedRequest = {
      endpoint,
      model: modelName,
      body,
      messages: endpoint === 'responses' ? responsesInput(body.instructions, body.input)
        : Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [],
      stream: body.stream === true,
      receivedAt: Date.now(),
      headers: req.headers,
      aborted: false,
      sentChunks: [],
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
      record.finishedAt ??= Date.now();
    });

    const model = models.get(modelName);
    if (!model) {
      sendError(res, 404, `The model \`${modelName}\` does not exist on the scripted server`);
      return;
    }
    if (model.hang) return; // answered only by the client's disconnect
    if (model.delayMs) await sleep(model.delayMs);
    if (res.destroyed) return;
    if (model.failStatus) {
      const message = typeof model.failMessage === 'function' ? model.failMessage(record) : model.failMessage;
      sendError(res, model.failStatus, message ?? `scripted failure of ${modelName}`);
      return;
    }

    const reply = resolveReply(model, record);
    const id = `chatcmpl-scripted-${++callCounter}`;
    const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({ id: c.id ?? `call_${callCounter}_${i}`, name: c.name, arguments: c.arguments }));
    const content = reply.content ?? null;
    const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
    const usage = usageFor(model, record.messages, content, toolCalls, endpoint === 'responses' ? 'responses' : undefined);
    const created = Math.floor(Date.now() / 1000);

    if (endpoint === 'responses') {
      await answerResponses(res, record, model, { content, toolCalls, finishReason, usage, created, serial: callCounter });
      return;
    }

    if (!record.stream) {
      const message: Record<string, unknown> = { role: 'assistant', content, refusal: null };
      if (toolCalls.length > 0) {
        message.tool_calls = toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      }
      sendJson(res, 200, {
        id, object: 'chat.completion', created, model: modelName,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        ...(usage ? { usage } : {}),
      });
      record.finishedAt = Date.now();
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const includeUsage = (body.stream_options as Record<string, unknown> | undefined)?.include_usage === true;
    const base = { id, object: 'chat.completion.chunk', created, model: modelName };
    const send = async (payload: Record<string, unknown>) => {
      if (res.destroyed) return false;
      if (model.cutAfterChunks !== undefined && record.sentChunks.length >= model.cutAfterChunks) {
        res.destroy();
        return false;
      }
      record.sentChunks.push(payload);
      res.write(`data: ${JSON.stringify(payload)}\n\n`);
      if (model.chunkDelayMs) await sleep(model.chunkDelayMs);
      return !res.destroyed;
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}),
    });

    if (!(await send(chunk({ role: 'assistant', content: '' })))) return;
    if (content) {
      const size = model.chunkSize ?? 12;
      for (let i = 0; i < content.length; i += size) {
        if (!(await send(chunk({ content: content.slice(i, i + size) })))) return;
      }
    }
    for (const [index, call] of toolCalls.entries()) {
      if (!(await send(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] })))) return;
      // Arguments arrive in pieces, as real providers send them.
      const half = Math.ceil(call.arguments.length / 2);
      for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
        if (piece && !(await send(chunk({ tool_calls: [{ index, function: { arguments: piece } }] })))) return;
      }
    }
    if (!(await send(chunk({}, finishReason)))) return;
    if (includeUsage && usage) {
      if (!(await send({ ...base, choices: [], usage }))) return;
    }
    res.end('data: [DONE]\n\n');
    record.finishedAt = Date.now();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    setModel: (name, model) => { models.set(name, model); },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface ScriptedAnswer {
  content: string | null;
  toolCalls: Required<ScriptedToolCall>[];
  finishReason: string;
  usage: Record<string, unknown> | null;
  created: number;
  serial: number;
}

/**
 * The Responses API's answer: a response object whose `output` holds a
 * message item (the text) and one `function_call` item per tool call; a
 * `length` finish is an `incomplete` response cut at `max_output_tokens`.
 * Streamed, the same response unfolds as the API's typed events, ending
 * with `response.completed` (or `response.incomplete`), which carries usage.
 */
async function answerResponses(res: ServerResponse, record: RecordedRequest, model: ScriptedModel, answer: ScriptedAnswer): Promise<void> {
  const { content, toolCalls, serial } = answer;
  const incomplete = answer.finishReason === 'length';
  const messageItem = (text: string, status: string) => ({
    type: 'message', id: `msg_scripted_${serial}`, status, role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  });
  const callItem = (call: Required<ScriptedToolCall>, index: number, args: string, status: string) => ({
    type: 'function_call', id: `fc_scripted_${serial}_${index}`, call_id: call.id, name: call.name, arguments: args, status,
  });
  const withText = content !== null || toolCalls.length === 0;
  const output = [
    ...(withText ? [messageItem(content ?? '', 'completed')] : []),
    ...toolCalls.map((c, i) => callItem(c, i, c.arguments, 'completed')),
  ];
  const response = (status: string, items: unknown[]) => ({
    id: `resp_scripted_${serial}`, object: 'response', created_at: answer.created, status, model: record.model,
    output: items, incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null, error: null,
    ...(status !== 'in_progress' && answer.usage ? { usage: answer.usage } : {}),
  });
  const finalStatus = incomplete ? 'incomplete' : 'completed';

  if (!record.stream) {
    sendJson(res, 200, response(finalStatus, output));
    record.finishedAt = Date.now();
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let sequence = 0;
  const send = async (type: string, payload: Record<string, unknown>) => {
    if (res.destroyed) return false;
    if (model.cutAfterChunks !== undefined && record.sentChunks.length >= model.cutAfterChunks) {
      res.destroy();
      return false;
    }
    const event = { type, sequence_number: sequence++, ...payload };
    record.sentChunks.push(event);
    res.write(`event: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
    if (model.chunkDelayMs) await sleep(model.chunkDelayMs);
    return !res.destroyed;
  };

  if (!(await send('response.created', { response: response('in_progress', []) }))) return;
  let outputIndex = 0;
  if (withText) {
    const itemId = `msg_scripted_${serial}`;
    const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    if (!(await send('response.output_item.added', { output_index: outputIndex, item: { ...messageItem('', 'in_progress'), content: [] } }))) return;
    if (!(await send('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } }))) return;
    const text = content ?? '';
    const size = model.chunkSize ?? 12;
    for (let i = 0; i < text.length; i += size) {
      if (!(await send('response.output_text.delta', { ...at, delta: text.slice(i, i + size), logprobs: [] }))) return;
    }
    if (!(await send('response.output_text.done', { ...at, text, logprobs: [] }))) return;
    if (!(await send('response.content_part.done', { ...at, part: { type: 'output_text', text, annotations: [] } }))) return;
    if (!(await send('response.output_item.done', { output_index: outputIndex, item: messageItem(text, 'completed') }))) return;
    outputIndex++;
  }
  for (const [index, call] of toolCalls.entries()) {
    const at = { item_id: `fc_scripted_${serial}_${index}`, output_index: outputIndex };
    if (!(await send('response.output_item.added', { output_index: outputIndex, item: callItem(call, index, '', 'in_progress') }))) return;
    // Arguments arrive in pieces, as real providers send them.
    const half = Math.ceil(call.arguments.length / 2);
    for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
      if (piece && !(await send('response.function_call_arguments.delta', { ...at, delta: piece }))) return;
    }
    if (!(await send('response.function_call_arguments.done', { ...at, name: call.name, arguments: call.arguments }))) return;
    if (!(await send('response.output_item.done', { output_index: outputIndex, item: callItem(call, index, call.arguments, 'completed') }))) return;
    outputIndex++;
  }
  if (!(await send(`response.${finalStatus}`, { response: response(finalStatus, output) }))) return;
  res.end();
  record.finishedAt = Date.now();
}

function resolveReply(model: ScriptedModel, request: RecordedRequest): ScriptedReply {
  const reply = typeof model.reply === 'function' ? model.reply(request) : model.reply;
  if (reply === undefined) return { content: `scripted reply from ${request.model}` };
  return typeof reply === 'string' ? { content: reply } : reply;
}

/**
 * The Responses API's `instructions` and `input` (a string, or input items)
 * as a message list: the instructions as a leading system message, the items
 * as they came.
 */
function responsesInput(instructions: unknown, input: unknown): Record<string, unknown>[] {
  const leading = typeof instructions === 'string' ? [{ role: 'system', content: instructions }] : [];
  if (typeof input === 'string') return [...leading, { role: 'user', content: input }];
  return [...leading, ...(Array.isArray(input) ? (input as Record<string, unknown>[]) : [])];
}

/** Deterministic token counts: about four characters per token. */

function usageFor(model: ScriptedModel, messages: unknown[], content: string | null, toolCalls: ScriptedToolCall[], shape?: UsageVariant): Record<string, unknown> | null {
  const variant = model.usage === 'none' ? 'none' : shape ?? model.usage ?? 'chat_completions';
  if (variant === 'none') return null;
  const prompt = Math.max(1, Math.ceil(JSON.stringify(messages).length / 4));
  const completionText = (content ?? '') + toolCalls.map((c) => c.name + c.arguments).join('');
  const reasoning = model.tokens?.reasoning ?? 0;
  const completion = Math.max(1, Math.ceil(completionText.length / 4)) + reasoning;
  const cached = Math.min(model.tokens?.cached ?? 0, prompt);
  const cacheWrite = model.tokens?.cacheWrite ?? 0;
  const cost = model.costUsd !== undefined ? { cost: model.costUsd } : {};
  switch (variant) {
    case 'anthropic':
      return {
        input_tokens: prompt - cached, output_tokens: completion,
        cache_read_input_tokens: cached, cache_creation_input_tokens: cacheWrite,
        ...(reasoning > 0 ? { output_tokens_details: { thinking_tokens: reasoning } } : {}), ...cost,
      };
    case 'responses':
      return {
        input_tokens: prompt, input_tokens_details: { cached_tokens: cached },
        output_tokens: completion, output_tokens_details: { reasoning_tokens: reasoning },
        total_tokens: prompt + completion, ...cost,
      };
    default:
      return {
        prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
        prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        ...cost,
      };
  }
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null, param: null } });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
