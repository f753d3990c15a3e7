/**
 * `--json` output goes to terminals too: characters a terminal acts on
 * (U+009B starts an escape sequence, U+202E reverses what follows, U+2028
 * breaks the line) are written as `\uXXXX` escapes, the same JSON to a reader.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { captureIo, makeTraceDir, oursRecord } from './fixtures.js';

const HOSTILE = 'a\u009b31mred\u202eevil\u2028next\u007fdel';

describe('--json output is terminal-safe', () => {
  it('show, tail, ls and stats escape C1 controls, bidi overrides and line separators', async () => {
    const dir = makeTraceDir();
    try {
      const record = oursRecord({ sessionId: `s${HOSTILE}` });
      (record.aggregator as Record<string, unknown>).output = HOSTILE;
      (record.aggregator as Record<string, unknown>).model = `m${HOSTILE}`;
      const file = dir.write('hostile.jsonl', `${JSON.stringify(record)}\n`);
      for (const argv of [['show', file, '--json'], ['tail', file, '--json'], ['ls', '--dir', dir.dir, '--json'], ['stats', file, '--by', 'model', '--json']]) {
        const io = captureIo({});
        expect(await runCli(argv, io.io), argv.join(' ')).toBe(0);
        expect(io.out, argv.join(' ')).not.toMatch(/[\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
        expect(io.out, argv.join(' ')).toContain('\\u009b31mred\\u202eevil\\u2028next\\u007fdel');
        // Still JSON, with the very same text inside.
        const values = io.out.trim().split('\n').map((line) => JSON.stringify(JSON.parse(line)));
        expect(values.some((v) => v.includes(HOSTILE)), argv.join(' ')).toBe(true);
      }
    } finally {
      dir.cleanup();
    }
  });
});
