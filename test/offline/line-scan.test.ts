/**
 * `show --turn N` and `tail` on a plain session find their lines by scanning
 * for newlines and parse only those lines; anything that could shift the
 * turn count sends them back to the full reader, with the same answer.
 */
import { appendFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { captureIo, makeTraceDir, oursLine, type TraceDir } from './fixtures.js';

async function cli(argv: string[]) {
  const cap = captureIo();
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

/** How many times JSON.parse ran during `body`. */
async function parses<T>(body: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const spy = vi.spyOn(JSON, 'parse');
  try {
    const result = await body();
    return { result, calls: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

const TURNS = 400;

describe('show --turn and tail without parsing the rest', () => {
  let dir: TraceDir;
  let file: string;
  beforeEach(() => {
    dir = makeTraceDir();
    const lines = Array.from({ length: TURNS }, (_, i) => oursLine({ iteration: i, sessionId: i % 2 === 0 ? 'even' : 'odd' }));
    file = dir.write('s.jsonl', `${lines.join('\n')}\n\n`);
  });
  afterEach(() => dir.cleanup());

  it('show --turn N parses one line and prints what the full read prints', async () => {
    await cli(['show', file, '--turn', '1']); // modules load (and parse their JSON) once
    const { result, calls } = await parses(() => cli(['show', file, '--turn', '321', '--json']));
    expect(result.code).toBe(0);
    expect(calls).toBe(1);
    const shown = JSON.parse(result.out) as { turn: number; line: number; record: { iteration: number } };
    expect(shown).toMatchObject({ turn: 321, line: 321, record: { iteration: 320 } });
    // A session filter (a raw id sharing the file) needs every line: the full read gives the same kind of answer.
    const missing = await cli(['show', file, '--turn', '401']);
    expect(missing).toMatchObject({ code: 2, err: 'moa-otel show: no turn 401 (the session has 400 turns)\n' });
  });

  it('show --turn N falls back to the full reader when a line before it is torn, and counts as it does', async () => {
    dir.write('s.jsonl', `${oursLine({ iteration: 0 })}\n{"ts": 1, "sess\n${oursLine({ iteration: 1 })}\n${oursLine({ iteration: 2 })}\n`);
    const r = await cli(['show', file, '--turn', '2', '--json']);
    expect(JSON.parse(r.out)).toMatchObject({ turn: 2, line: 3, record: { iteration: 1 } });
    expect(r.err).toMatch(/s\.jsonl:2: warning: torn line/);
  });

  it('tail parses only the last lines; the turns it prints are the full read\'s', async () => {
    await cli(['tail', file, '-n', '0']);
    const { result, calls } = await parses(() => cli(['tail', file, '-n', '3', '--json']));
    expect(calls).toBeLessThanOrEqual(3 * 2 + 8);
    expect(result.out.trim().split('\n').map((l) => (JSON.parse(l) as { iteration: number }).iteration)).toEqual([397, 398, 399]);
    // An unterminated last line is not a turn yet (a follower waits for it).
    appendFileSync(file, oursLine({ iteration: 999 }).slice(0, 40));
    const again = await cli(['tail', file, '-n', '1', '--json']);
    expect((JSON.parse(again.out) as { iteration: number }).iteration).toBe(399);
  });

  it('tail of one session among many in a file falls back to the full read when the last lines hold too few of its turns', async () => {
    const lines = [oursLine({ iteration: 0, sessionId: 'a/b' }), ...Array.from({ length: 50 }, (_, i) => oursLine({ iteration: i + 1, sessionId: 'a_b' }))];
    dir.write('a_b.jsonl', `${lines.join('\n')}\n`);
    const r = await cli(['tail', 'a/b', '--dir', dir.dir, '-n', '2', '--json']);
    expect(r.out.trim().split('\n').map((l) => (JSON.parse(l) as { iteration: number }).iteration)).toEqual([0]);
    expect(r.err).toBe('');
  });
});
