/** The real bin, spawned: proves `node --import tsx src/cli/main.ts` wiring, exit codes and tail -f. */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTraceDir, oursLine, PYTHON_LINES, type TraceDir } from './fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const ENV = { ...process.env, MOA_HOME: '/nonexistent-moa-home', NO_COLOR: '1' };

function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 30_000 });
}

describe('moa-otel bin (spawned)', () => {
  let dir: TraceDir;
  beforeEach(() => {
    dir = makeTraceDir();
    dir.write('héllo-wörld.jsonl', `${PYTHON_LINES.join('\n')}\n`);
  });
  afterEach(() => dir.cleanup());

  it('runs stats and validate with their exit codes, errors as one line without a stack', () => {
    const stats = run(['stats', '--dir', dir.dir, '--by', 'session']);
    expect(stats.status).toBe(0);
    expect(stats.stdout).toMatch(/^héllo-wörld\s+2\s+5\s+1\s+2,000\s+400\s+0\s+400\s+0\s+\$0\.001 \(\+2 unknown\)$/m);
    dir.write('torn.jsonl', `${oursLine()}\n{"ts": 17`);
    const validate = run(['validate', path.join(dir.dir, 'torn.jsonl')]);
    expect(validate.status).toBe(1);
    expect(validate.stdout).toMatch(/torn\.jsonl:2: warning: torn last line/);
    const missing = run(['ls', '--dir', path.join(dir.dir, 'missing')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^moa-otel ls: trace directory .*missing: no such file or directory\n$/);
    const flag = run(['show', 'héllo-wörld', '--dir', dir.dir, '--nope']);
    expect([flag.status, flag.stderr]).toEqual([2, "moa-otel show: Unknown option '--nope'\n"]);
  });

  it('tail -f prints turns as they are appended', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'tail', '-f', '-n', '0', 'later', '--dir', dir.dir, '--json'], { cwd: ROOT, env: ENV });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const waitFor = async (predicate: () => boolean, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout=${out} stderr=${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(() => err.includes('waiting for'), 'the wait message');
      const file = path.join(dir.dir, 'later.jsonl');
      appendFileSync(file, `${oursLine({ sessionId: 'later', iteration: 1 })}\n`);
      await waitFor(() => out.split('\n').length > 1, 'the first turn');
      // a line written in two pieces is printed once, when complete
      const second = oursLine({ sessionId: 'later', iteration: 2 });
      appendFileSync(file, second.slice(0, 40));
      await new Promise((r) => setTimeout(r, 400));
      appendFileSync(file, `${second.slice(40)}\n`);
      await waitFor(() => out.trim().split('\n').length >= 2, 'the second turn');
      const iterations = out.trim().split('\n').map((l) => (JSON.parse(l) as { iteration: number }).iteration);
      expect(iterations).toEqual([1, 2]);
      expect(err).not.toMatch(/torn|error/);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  });
});
