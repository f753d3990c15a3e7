import { describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/offline/reader.js';
import { renderTurnTree } from '../../src/offline/tree.js';
import { oursRecord, PYTHON_LINES } from './fixtures.js';
import type { TurnRecord } from '../../src/record/schema.js';

function record(line: string): TurnRecord {
  const parsed = parseRecordLine(line);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.record;
}

describe('renderTurnTree', () => {
  it('renders references, aggregator and totals of an original-format record', () => {
    const text = renderTurnTree(record(PYTHON_LINES[0]));
    expect(text.split('\n')).toEqual([
      'turn 2025-11-23T12:13:20Z · preset fast · session héllo-wörld',
      '├─ reference 0  openrouter:qwen/qwen3  –  in 1,200 out 300  $0.00088653  ok',
      '│  ↳ 日本 ist Japan — ein Land.',
      '├─ reference 1  openrouter:mistral/small  –  in 0 out 0  $0 (unknown)  failed: HTTP 429: rate limited',
      '└─ aggregator  anthropic:claude-sonnet  –  tokens –  –  ok',
      '   ↳ Japan (日本).',
      'totals  2 references (1 failed) + aggregator · in 1,200 out 300 · $0.00088653',
      '',
    ]);
  });

  it('shows durations, cache and reasoning tokens of our records', () => {
    const text = renderTurnTree(record(JSON.stringify(oursRecord())));
    expect(text).toContain('├─ reference 0  openai:gpt-4o-mini  1.00 s  in 100 cache 50r/0w out 20 (5 reasoning)  $0.1  ok');
    expect(text).toContain('└─ aggregator  openai:gpt-4o  1.30 s  in 300 cache 0r/7w out 10  $0.3 (estimated)  ok');
    expect(text).toContain('totals  2 references (1 failed) + aggregator · in 400 cache 50r/7w out 30 (5 reasoning) · $0.4');
  });

  it('full mode prints the exact messages and complete outputs', () => {
    const r = oursRecord();
    (r.aggregator as Record<string, unknown>).output = 'line one\nline two';
    (r.aggregator as Record<string, unknown>).tool_calls = [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } }];
    const text = renderTurnTree(record(JSON.stringify(r)), { full: true });
    expect(text).toContain('   output:\n     line one\n     line two\n');
    expect(text).toContain('"name": "search"');
    expect(text).toContain('     [1] user\n         {\n           "content": [');
    const short = renderTurnTree(record(JSON.stringify(r)));
    expect(short).toContain('↳ tool calls: search');
    expect(short).toContain('↳ line one line two');
    expect(short).not.toContain('output:');
  });

  it('neutralizes terminal escape sequences from model output and colors only on request', () => {
    const r = oursRecord();
    (r.references as Record<string, unknown>[])[0]!.output = 'evil \u001b]0;pwned\u0007 \u001b[2J done';
    const plain = renderTurnTree(record(JSON.stringify(r)));
    expect(plain).not.toContain('\u001b');
    expect(plain).toContain('\\u001b]0;pwned\\u0007');
    const colored = renderTurnTree(record(JSON.stringify(r)), { color: true });
    expect(colored).toContain('\u001b[32mok\u001b[39m');
    expect(colored).not.toContain('\u001b]0;');
  });
});
