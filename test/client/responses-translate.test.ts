/**
 * The chat ⇄ Responses translation of the aggregator call, piece by piece:
 * what a chat request becomes, what it cannot carry, and how a response, its
 * usage and its stream events read as chat.
 */
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { chatChunksFromResponseEvents, chatCompletionFromResponse, chatUsage, ResponsesFailedError } from '../../src/client/responses-answer.js';
import { toResponsesRequest, UnsupportedByResponsesError } from '../../src/client/responses-request.js';
import { normalizeUsage } from '../../src/client/usage.js';

describe('a chat request as a Responses request', () => {
  it('leading system/developer messages are the instructions; the rest are input items', () => {
    const request = toResponsesRequest({
      model: 'gpt-5.5',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: [
          { type: 'text', text: 'What is on this photo?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
          { type: 'file', file: { file_id: 'file-1', filename: 'notes.pdf' } },
        ] },
        { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"zoom":2}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'a cat' }, { type: 'text', text: ' on a mat' }] },
        { role: 'system', content: 'Answer now.' },
      ],
    });
    expect(request.instructions).toBe('Be terse.\n\nUse metric units.');
    expect(request.input).toEqual([
      { role: 'user', content: [
        { type: 'input_text', text: 'What is on this photo?' },
        { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
        { type: 'input_file', file_id: 'file-1', filename: 'notes.pdf' },
      ] },
      { role: 'assistant', content: 'Let me check.' },
      { type: 'function_call', call_id: 'call_1', name: 'look', arguments: '{"zoom":2}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'a cat on a mat' },
      { role: 'system', content: 'Answer now.' },
    ]);
  });

  it('limits, reasoning, format, tools and tool choice take their Responses names; unknown keys pass as given', () => {
    const request = toResponsesRequest({
      model: 'm', messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 100, max_completion_tokens: 250, temperature: 0.1, top_p: 0.9, parallel_tool_calls: false,
      reasoning_effort: 'high', reasoning: { summary: 'auto' }, verbosity: 'low',
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
      tools: [
        { type: 'function', function: { name: 'now' } },
        { type: 'function', function: { name: 'add', description: 'Adds', parameters: { type: 'object', properties: { a: { type: 'number' } } }, strict: true } },
      ],
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'add' } }] } },
      truncation: 'auto', n: 1, logprobs: false, stop: [], stream: true, stream_options: { include_usage: true }, seed: null,
    });
    expect(request).toEqual({
      model: 'm', input: [{ role: 'user', content: 'hi' }], store: false,
      max_output_tokens: 250, temperature: 0.1, top_p: 0.9, parallel_tool_calls: false,
      reasoning: { summary: 'auto', effort: 'high' },
      text: { verbosity: 'low', format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      tools: [
        { type: 'function', name: 'now', parameters: { type: 'object', properties: {} }, strict: false },
        { type: 'function', name: 'add', description: 'Adds', parameters: { type: 'object', properties: { a: { type: 'number' } } }, strict: true },
      ],
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'add' }] },
      truncation: 'auto',
    });
    expect(toResponsesRequest({ model: 'm', messages: [], store: true, tool_choice: 'required' })).toMatchObject({ store: true, tool_choice: 'required' });
  });

  it('what it cannot carry is one error naming the parameter', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const refused: [Record<string, unknown>, string][] = [
      [{ n: 3 }, 'n'],
      [{ logprobs: true }, 'logprobs'],
      [{ top_logprobs: 2 }, 'top_logprobs'],
      [{ stop: ['END'] }, 'stop'],
      [{ presence_penalty: 0.5 }, 'presence_penalty'],
      [{ seed: 7 }, 'seed'],
      [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
      [{ tools: [{ type: 'custom', custom: { name: 'grammar' } }] }, 'tools[0]'],
      [{ tool_choice: { type: 'custom', custom: { name: 'grammar' } } }, 'tool_choice'],
      [{ response_format: { type: 'grammar' } }, 'response_format'],
      [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'g', input: 'x' } }] }] }, 'messages[0].tool_calls[0]'],
    ];
    for (const [params, param] of refused) {
      let thrown: unknown;
      try {
        toResponsesRequest({ ...base, ...params });
      } catch (err) {
        thrown = err;
      }
      expect(thrown, param).toBeInstanceOf(UnsupportedByResponsesError);
      expect((thrown as UnsupportedByResponsesError).param).toBe(param);
      expect((thrown as Error).message.startsWith(`the aggregator is called through the Responses API, which cannot carry \`${param}\`: `)).toBe(true);
      expect((thrown as UnsupportedByResponsesError).status).toBe(400);
    }
  });
});

describe('a Responses answer as chat', () => {
  it('usage in the chat shape reads to the same tokens, and keeps a provider-reported cost', () => {
    const raws = [
      { input_tokens: 120, input_tokens_details: { cached_tokens: 80 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 12 }, total_tokens: 150 },
      { input_tokens: 50, input_tokens_details: { cached_tokens: 0, cache_creation_tokens: 20 }, output_tokens: 5, cost: 0.0031 },
      { input_tokens: 9, output_tokens: 1, input_tokens_details: { cached_tokens: 2 }, cache_creation_input_tokens: 4 },
    ];
    for (const raw of raws) {
      const chat = chatUsage(raw)!;
      expect(normalizeUsage(chat)).toEqual({ shape: 'chat_completions', usage: normalizeUsage(raw)!.usage });
      expect(chat.prompt_tokens).toBe(raw.input_tokens);
      expect(chat.total_tokens).toBe(raw.input_tokens + raw.output_tokens);
    }
    expect(chatUsage(raws[1])).toMatchObject({ cost: 0.0031, prompt_tokens_details: { cache_write_tokens: 20 } });
    expect(chatUsage(undefined)).toBeUndefined();
  });

  it('an incomplete response finished by length, a refusal has no content, a failed one throws', () => {
    const response = (over: Partial<Response>): Response => ({
      id: 'resp_1', object: 'response', created_at: 1700000000, model: 'm', status: 'completed', output: [], error: null, incomplete_details: null,
      ...over,
    } as unknown as Response);
    const cut = chatCompletionFromResponse(response({
      status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' },
      output: [{ type: 'message', id: 'msg', role: 'assistant', status: 'incomplete', content: [{ type: 'output_text', text: 'Half an ans', annotations: [] }] }],
    } as Partial<Response>));
    expect(cut.choices[0]).toMatchObject({ finish_reason: 'length', message: { role: 'assistant', content: 'Half an ans', refusal: null } });
    expect(cut).toMatchObject({ id: 'resp_1', object: 'chat.completion', created: 1700000000, model: 'm' });
    const refused = chatCompletionFromResponse(response({
      output: [{ type: 'message', id: 'msg', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'I cannot help.' }] }],
    } as Partial<Response>));
    expect(refused.choices[0]!.message).toMatchObject({ content: null, refusal: 'I cannot help.' });
    expect(chatCompletionFromResponse(response({})).choices[0]!.message.content).toBe('');
    expect(() => chatCompletionFromResponse(response({ status: 'failed', error: { code: 'server_error', message: 'model overloaded' } })))
      .toThrow(new ResponsesFailedError('the response failed: model overloaded', 'server_error'));
  });
});

describe('Responses stream events as chat chunks', () => {
  const started = { type: 'response.created', sequence_number: 0, response: { id: 'resp_9', model: 'm', created_at: 1700000001, status: 'in_progress', output: [] } };
  const completed = (output: unknown[] = []) => ({
    type: 'response.completed', sequence_number: 99,
    response: { id: 'resp_9', model: 'm', created_at: 1700000001, status: 'completed', output, usage: { input_tokens: 10, output_tokens: 4, total_tokens: 14 } },
  });
  async function chunks(events: unknown[]): Promise<ChatCompletionChunk[]> {
    async function* source() { yield* events as ResponseStreamEvent[]; }
    const out: ChatCompletionChunk[] = [];
    for await (const chunk of chatChunksFromResponseEvents(source())) out.push(chunk);
    return out;
  }

  it('a call whose arguments come only whole (in the done item) still streams them once', async () => {
    const call = { type: 'function_call', id: 'fc_1', call_id: 'call_7', name: 'add', arguments: '' };
    const got = await chunks([
      started,
      { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: call },
      { type: 'response.output_item.done', sequence_number: 2, output_index: 0, item: { ...call, arguments: '{"a":1}' } },
      completed([{ ...call, arguments: '{"a":1}' }]),
    ]);
    expect(got.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '' },
      { tool_calls: [{ index: 0, id: 'call_7', type: 'function', function: { name: 'add', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
      {},
      null,
    ]);
    expect(got.at(-2)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(got.at(-1)).toMatchObject({ id: 'resp_9', created: 1700000001, choices: [], usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 } });
  });

  it('a failed response, an error event, or a stream that stops short throws; events after the end are read, not sent', async () => {
    await expect(chunks([started, { type: 'response.failed', sequence_number: 1, response: { ...started.response, status: 'failed', error: { code: 'server_error', message: 'boom' } } }]))
      .rejects.toThrow('the response failed: boom');
    await expect(chunks([started, { type: 'error', sequence_number: 1, code: 'rate_limit_exceeded', message: 'slow down', param: null }]))
      .rejects.toThrow('the Responses stream reported an error: slow down');
    await expect(chunks([started, { type: 'response.output_text.delta', sequence_number: 1, output_index: 0, content_index: 0, item_id: 'm', delta: 'Hal', logprobs: [] }]))
      .rejects.toThrow('the Responses stream ended before the response was complete');
    const got = await chunks([started, completed(), { type: 'response.output_text.delta', sequence_number: 100, output_index: 0, content_index: 0, item_id: 'm', delta: 'late', logprobs: [] }]);
    expect(got.some((c) => c.choices[0]?.delta.content === 'late')).toBe(false);
  });
});
