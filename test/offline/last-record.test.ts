import { appendFileSync, statSync, truncateSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastRecordTs } from '../../src/offline/last-record.js';
import { readTurnRecords } from '../../src/offline/reader.js';
import { makeTraceDir, oursLine, oursRecord, PYTHON_LINES, type TraceDir } from './fixtures.js';

/** The last record's time as the forward reader sees it: what prune's backward read must agree with. */
async function readerLastTs(file: string, maxLineBytes?: number): Promise<number | null> {
  let ts: number | null = null;
  for await (const { record } of readTurnRecords(file, { maxLineBytes })) ts = record.ts;
  return ts;
}

/** A valid record whose line is `chars` long or more, spanning many of the backward reader's chunks. */
function longLine(ts: number, chars: number): string {
  const record = oursRecord({ ts });
  (record.aggregator as { output: string }).output = 'x'.repeat(chars);
  return JSON.stringify(record);
}

describe('lastRecordTs (prune)', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('finds the last record as the reader does, whatever follows it', async () => {
    const cases: Array<[string, string, number | null]> = [
      ['plain', `${oursLine({ ts: 100 })}\n${oursLine({ ts: 200 })}\n`, 200],
      ['torn tail', `${oursLine({ ts: 100 })}\n${oursLine({ ts: 200 }).slice(0, 50)}`, 100],
      ['blank lines, CRLF', `${oursLine({ ts: 100 })}\r\n\n \n`, 100],
      ['BOM, no newline', `\uFEFF${oursLine({ ts: 100 })}`, 100],
      ['python', `${PYTHON_LINES.join('\n')}\n`, 1763900060.5],
      ['glued behind a torn fragment', `${oursLine({ ts: 100 })}\n${oursLine({ ts: 150 }).slice(0, 200)}${oursLine({ ts: 200 })}\n`, 200],
      ['long last line', `${oursLine({ ts: 100 })}\n${longLine(200, 300_000)}\n`, 200],
      ['nothing valid', 'not json\n{}\n', null],
      ['empty', '', null],
    ];
    for (const [name, content, expected] of cases) {
      const file = dir.write(`${name.replace(/\W+/g, '-')}.jsonl`, content);
      expect(await lastRecordTs(file), name).toBe(expected);
      expect(await readerLastTs(file), name).toBe(expected);
    }
  });

  it('skips a last line longer than a reader can hold, without holding it', async () => {
    const file = dir.write('long.jsonl', `${oursLine({ ts: 100 })}\n${longLine(200, 300_000)}\n`);
    const maxLineBytes = 100_000;
    expect(await readerLastTs(file, maxLineBytes)).toBe(100);
    expect(await lastRecordTs(file, maxLineBytes)).toBe(100);
    // Unterminated too: the line is measured, not kept.
    const unterminated = dir.write('long-unterminated.jsonl', `${oursLine({ ts: 100 })}\n${longLine(200, 300_000)}`);
    expect(await lastRecordTs(unterminated, maxLineBytes)).toBe(100);
    expect(await lastRecordTs(unterminated)).toBe(200);
  });

  it('a last line longer than a string can hold (600 MB, sparse): measured backwards, never held', async () => {
    const file = dir.write('huge-tail.jsonl', `${oursLine({ ts: 100 })}\n`);
    truncateSync(file, statSync(file).size + 600_000_000);
    expect(await lastRecordTs(file)).toBe(100);
    appendFileSync(file, `\n${oursLine({ ts: 200 })}`);
    expect(await lastRecordTs(file)).toBe(200);
  });
});
