/**
 * The real string limit, end to end: a turn whose three calls carry 200 M
 * characters of messages each (600 M serialized, more than the 536,870,888
 * one JS string can hold) is written, not lost: its longest contents are cut
 * with a marker so that the line fits, and the offline reader reads it back.
 * The unit tier tests the same code with small injected bounds; this one
 * needs several GB of memory and tens of seconds, so it runs in a child
 * process with a large heap, here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const MESSAGE_CHARS = 200_000_000;

describe('a turn larger than one string can hold', () => {
  it('is written with its longest contents cut, as one line the reader reads', async () => {
    const work = await mkdtemp(join(tmpdir(), 'moa-e2e-huge-'));
    try {
      const fixture = resolve(import.meta.dirname, '../fixtures/huge-turn.ts');
      const { stdout } = await execFileAsync(process.execPath, ['--max-old-space-size=12288', '--import', 'tsx', fixture, work, String(MESSAGE_CHARS)], { maxBuffer: 1 << 20 });
      const result = JSON.parse(stdout) as {
        fileBytes: number; maxStringLength: number; problems: unknown[];
        calls: Array<{ roles: string[]; cutMarker: boolean; contentChars: number; output: string | null }>;
      };
      expect(result.problems).toEqual([]);
      // One line, as long as a string can be, and no longer.
      expect(result.fileBytes).toBeLessThanOrEqual(result.maxStringLength + 1);
      expect(result.fileBytes).toBeGreaterThan(result.maxStringLength * 0.98);
      expect(result.calls).toHaveLength(3);
      for (const call of result.calls) {
        expect(call.roles).toEqual(['system', 'user']);
        expect(call.cutMarker).toBe(true);
        expect(call.contentChars).toBeLessThan(MESSAGE_CHARS);
        expect(call.contentChars).toBeGreaterThan(MESSAGE_CHARS * 0.8);
      }
      expect(result.calls.map((c) => c.output)).toEqual(['advice a', 'advice b', 'the answer']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
