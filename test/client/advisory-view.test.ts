import { describe, expect, it } from 'vitest';
import { ADVICE_REQUEST, buildAdvisoryView, cutMiddle, referenceMessages, ADVISOR_SYSTEM_PROMPT } from '../../src/client/advisory-view.js';
import type { ChatMessage } from '../../src/trace/types.js';

const bigResult = 'HEAD-' + 'x'.repeat(10_000) + '-TAIL';

const conversation: ChatMessage[] = [
  { role: 'system', content: 'SECRET SYSTEM PROMPT' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      { type: 'input_audio', input_audio: { data: 'BBBB', format: 'wav' } },
    ],
  },
  {
    role: 'assistant',
    content: 'Let me look it up.',
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q":"cats"}' } },
      { id: 'call_2', type: 'function', function: { name: 'fetch_page', arguments: '{"url":"https://example.com"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', content: 'short result' },
  { role: 'tool', tool_call_id: 'call_2', content: bigResult },
  { role: 'assistant', content: [{ type: 'text', text: 'It shows a cat.' }] },
];

describe('buildAdvisoryView', () => {
  const view = buildAdvisoryView(conversation, { toolResultBudget: 200 });

  it('drops system messages and keeps only user/assistant text turns', () => {
    expect(view.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(view)).not.toContain('SECRET SYSTEM PROMPT');
    for (const m of view) expect(typeof m.content).toBe('string');
  });

  it('flattens user part arrays and replaces non-text parts with placeholders', () => {
    expect(view[0]?.content).toBe('What is in this picture?\n[image]\n[audio]');
    expect(JSON.stringify(view)).not.toContain('base64');
  });

  it('writes one line per tool call with name and arguments', () => {
    const assistant = view[1]!.content;
    expect(assistant.startsWith('Let me look it up.\n')).toBe(true);
    expect(assistant).toContain('[tool call] search({"q":"cats"})');
    expect(assistant).toContain('[tool call] fetch_page({"url":"https://example.com"})');
  });

  it('attaches tool results to the assistant turn as marked previews, cut in the middle beyond the budget', () => {
    const assistant = view[1]!.content;
    expect(assistant).toContain('[tool result] search (call_1):\nshort result\n[end of tool result]');
    expect(assistant).toContain('[tool result] fetch_page (call_2):\nHEAD-');
    expect(assistant).toContain('-TAIL\n[end of tool result]');
    expect(assistant).toContain(`[… ${bigResult.length - 200} of ${bigResult.length} characters omitted …]`);
    expect(assistant.length).toBeLessThan(1000);
    // The later assistant text lands in the same merged assistant turn.
    expect(assistant.endsWith('It shows a cat.')).toBe(true);
  });

  it('ends on a user turn, appending an advice request after a trailing assistant turn', () => {
    expect(view.at(-1)).toEqual({ role: 'user', content: ADVICE_REQUEST });
    const endsOnUser = buildAdvisoryView([{ role: 'user', content: 'hi' }]);
    expect(endsOnUser).toEqual([{ role: 'user', content: 'hi' }]);
    expect(buildAdvisoryView([])).toEqual([{ role: 'user', content: ADVICE_REQUEST }]);
  });

  it('uses the 4000-character default budget', () => {
    const v = buildAdvisoryView([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 't', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'y'.repeat(5000) },
    ]);
    expect(v[1]?.content).toContain('[… 1000 of 5000 characters omitted …]');
    const under = buildAdvisoryView([{ role: 'user', content: 'go' }, { role: 'tool', tool_call_id: 'c', content: 'z'.repeat(4000) }]);
    expect(under[1]?.content).not.toContain('omitted');
  });

  it('never mutates the input', () => {
    const copy = structuredClone(conversation);
    buildAdvisoryView(conversation, { toolResultBudget: 10 });
    expect(conversation).toEqual(copy);
  });

  it('merges consecutive user turns so roles alternate', () => {
    const v = buildAdvisoryView([{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }]);
    expect(v).toEqual([{ role: 'user', content: 'a\n\nb' }]);
  });

  it('referenceMessages puts our advisor system prompt first', () => {
    const msgs = referenceMessages(view);
    expect(msgs[0]).toEqual({ role: 'system', content: ADVISOR_SYSTEM_PROMPT });
    expect(msgs.slice(1)).toEqual(view);
  });
});

describe('cutMiddle', () => {
  it('keeps head and tail and says how much was left out', () => {
    expect(cutMiddle('abcdefghij', 20)).toBe('abcdefghij');
    const cut = cutMiddle('abcdefghij', 4);
    expect(cut).toBe('ab\n[… 6 of 10 characters omitted …]\nij');
  });
});
