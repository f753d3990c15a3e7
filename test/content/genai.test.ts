import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromGenAiMessages, toGenAiMessages, outputMessage } from '../../src/content/genai.js';

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const jsonScalar = fc.oneof(text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, jsonScalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(text, tie('value'), { maxKeys: 3 })),
})).value;
/** Extra keys, including names that collide with the GenAI schema and our own markers. */
const extraKey = fc.oneof(fc.constantFrom('parts', 'openai_extra', 'openai_content', 'openai_raw', 'reasoning_content', 'refusal', 'audio', 'cache_control', 'finish_reason', 'type'), text);
const extras = fc.dictionary(extraKey, jsonValue, { maxKeys: 2 });

const textItem = fc.record({ type: fc.constant('text'), text });
const imageItem = fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.webUrl(), detail: fc.constantFrom('low', 'high', 'auto') }, { requiredKeys: ['url'] }) });
const audioItem = fc.record({ type: fc.constant('input_audio'), input_audio: fc.record({ data: fc.base64String(), format: fc.constantFrom('wav', 'mp3') }) });
const oddItem = fc.oneof(
  fc.record({ type: fc.constantFrom('tool_call', 'tool_call_response', 'file', 'refusal', 'text'), data: jsonValue }),
  fc.tuple(textItem, extras).map(([t, e]) => ({ ...e, ...t })),
  jsonValue,
);
const contentItem = fc.oneof(textItem, imageItem, audioItem, oddItem);
const content = fc.oneof(text, fc.array(contentItem, { maxLength: 4 }), fc.constant(null));
const argumentsText = fc.oneof(text, jsonValue.map((v) => JSON.stringify(v)), jsonValue.map((v) => JSON.stringify(v, null, 1)));
const toolCall = fc.oneof(
  fc.record({ id: text, type: fc.constant('function'), function: fc.record({ name: text, arguments: argumentsText }) }),
  fc.record({ id: text, type: fc.constant('custom'), custom: jsonValue }),
  jsonValue,
);

const message = fc.oneof(
  fc.tuple(fc.constantFrom('system', 'developer', 'user'), content, fc.option(text, { nil: undefined }), extras)
    .map(([role, c, name, e]) => ({ ...e, role, content: c, ...(name === undefined ? {} : { name }) })),
  fc.tuple(content, fc.option(fc.array(toolCall, { maxLength: 3 }), { nil: undefined }), extras)
    .map(([c, calls, e]) => ({ ...e, role: 'assistant', content: c, ...(calls ? { tool_calls: calls } : {}) })),
  fc.tuple(fc.oneof(text, fc.array(contentItem, { maxLength: 2 })), fc.oneof(text, fc.constant(undefined)), extras)
    .map(([c, id, e]) => ({ ...e, role: 'tool', content: c, ...(id === undefined ? {} : { tool_call_id: id }) })),
  jsonValue, // not a message at all
);

describe('GenAI message conversion', () => {
  it('round-trips every generated message array exactly', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), (messages) => {
        const genAi = toGenAiMessages(messages);
        // The span attribute is JSON: the round trip must survive serialization too.
        const back = fromGenAiMessages(JSON.parse(JSON.stringify(genAi)));
        expect(back).toEqual(JSON.parse(JSON.stringify(messages)));
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 2000) },
    );
  });

  it('maps the usual shapes to GenAI parts backends can render', () => {
    const genAi = toGenAiMessages([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'found' },
    ]);
    expect(genAi).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', openai_content: 'parts', parts: [{ type: 'text', content: 'what is this?' }, { type: 'uri', modality: 'image', uri: 'https://x/y.png' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'lookup', arguments: { q: 'x' } }], openai_extra: { content: null } },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 'found' }] },
    ]);
  });

  it('keeps non-canonical tool arguments as the exact string', () => {
    const [msg] = toGenAiMessages([{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{ "q": 1.0 }' } }] }]);
    expect(msg?.parts[0]?.arguments).toBe('{ "q": 1.0 }');
  });

  it('builds an output message with text, tool calls and finish reason', () => {
    expect(outputMessage('hi', null, 'stop')).toEqual({ role: 'assistant', parts: [{ type: 'text', content: 'hi' }], finish_reason: 'stop' });
    const withCall = outputMessage('', [{ id: 'x', type: 'function', function: { name: 'f', arguments: '{}' } }], null);
    expect(withCall.parts).toEqual([{ type: 'tool_call', id: 'x', name: 'f', arguments: {} }]);
    expect(withCall.finish_reason).toBe('tool_call');
  });
});
