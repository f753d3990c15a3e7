/** Long reads draw a progress bar on stderr when it is a terminal, and nothing when it is not. */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { captureIo, makeTraceDir, oursLine, type TraceDir } from './fixtures.js';

async function cli(argv: string[], tty: boolean) {
  const cap = captureIo();
  (cap.io.stderr as { isTTY?: boolean }).isTTY = tty;
  const code = await runCli(argv, cap.io);
  return { code, err: cap.err };
}

describe('progress on long reads', () => {
  let dir: TraceDir;
  let file: string;
  beforeAll(() => {
    dir = makeTraceDir();
    const line = oursLine();
    // Just over the 4 MiB below which no bar is drawn.
    file = dir.write('big.jsonl', `${Array.from({ length: Math.ceil((4.5 * 1024 * 1024) / line.length) }, () => line).join('\n')}\n`);
  });
  afterAll(() => dir.cleanup());

  const commands: [string, () => string[]][] = [
    ['report', () => ['report', file, '-o', path.join(dir.dir, 'r.html')]],
    ['ls', () => ['ls', '--dir', dir.dir]],
    ['validate', () => ['validate', file]],
    ['export', () => ['export', '--format', 'calls', file, '--out', path.join(dir.dir, 'c.csv')]],
    ['stats', () => ['stats', file]],
  ];

  it.each(commands)('%s draws a bar on a terminal, nothing otherwise', async (name, argsOf) => {
    const args = argsOf();
    const tty = await cli(args, true);
    expect(tty.code, tty.err).toBeLessThanOrEqual(1);
    expect(tty.err).toMatch(new RegExp(`\\r${name} [█░]{30} +\\d+% `));
    expect(tty.err).toMatch(/100% /);
    const plain = await cli(args, false);
    expect(plain.err).not.toContain('\r');
  });
});
