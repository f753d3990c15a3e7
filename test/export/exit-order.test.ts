/**
 * A process that exits while a large line is still on libuv's thread pool:
 * the lines its `exit` listener writes must land after that line. The pool is
 * kept busy (one thread, blocked in an open(2) of a FIFO that a writer opens
 * 1.5 s later) so the write is still queued, not begun, when the process
 * exits; libuv runs it only as the process ends, after everything the
 * listener wrote, unless the listener waits for it to begin (it waits up to
 * 5 s). The pool is held for wall-clock time, not CPU work: a long pbkdf2 did
 * this before, and on a loaded machine it outlasted those 5 s.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('process exit with a line on the thread pool', () => {
  it('writes the lines of the exit listener after the line on the pool', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-exit-order-'));
    const script = path.join(dir, 'cli.mjs');
    const fifo = path.join(dir, 'pool-blocker');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(script, `
      import { spawn } from 'node:child_process';
      import { open } from 'node:fs';
      import { setupMoaTracing } from ${JSON.stringify(path.join(REPO, 'dist/index.js'))};
      const tracing = setupMoaTracing({ save_traces: true, trace_dir: ${JSON.stringify(dir)} }, { env: {}, ignoreConfigFile: true });
      const moa = tracing.instrumentation;
      // The pool's only thread is busy for a while (another library's blocking call, say): opening
      // a FIFO waits for a writer, which comes in 1.5 s (O_RDWR: it never blocks, even after we exit).
      spawn('sh', ['-c', 'sleep 1.5; exec 3<>"$0"', ${JSON.stringify(fifo)}], { stdio: 'ignore' });
      open(${JSON.stringify(fifo)}, 'r', () => {});
      const big = moa.startTurn({ sessionId: 'order', preset: 'p' });
      const messages = Array.from({ length: 30 }, (_, i) => ({ role: 'user', content: i + ' ' + 'y'.repeat(100000) }));
      big.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output: 'first' });
      big.end();
      // Long enough for the line to be built and its write handed to the pool.
      setTimeout(() => {
        const small = moa.startTurn({ sessionId: 'order', preset: 'p' });
        small.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'hi' }] }).end({ output: 'second' });
        small.end();
        moa.startTurn({ sessionId: 'order', preset: 'p' }).startAggregator({ model: 'agg', provider: 'p', messages: [] });
        process.exit(0); // without shutdown(): the exit listener writes what is left
      }, 200);
    `);
    execFileSync(process.execPath, [script], { stdio: 'pipe', env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
    const records = readFileSync(path.join(dir, 'order.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { aggregator: { output: string | null }; partial?: boolean });
    expect(records.map((r) => r.aggregator.output ?? (r.partial ? 'partial' : null))).toEqual(['first', 'second', 'partial']);
  }, 20_000);
});
