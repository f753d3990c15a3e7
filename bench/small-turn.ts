/**
 * The 10.8 KB row of the JSONL bench on its own, for profiling and quick
 * A/B runs: the same workload (new mixed-script conversation every turn,
 * three references with their own arrays, the aggregator) and the same
 * floor, interleaved, medians of process CPU.
 *
 *   node --import tsx bench/small-turn.ts [rounds] [--loop N]
 *
 * `--loop N` only runs N instrumented turns (for `node --cpu-prof`).
 * `--batches N` times batches of 100 turns (and 100 floor writes) instead of
 * single ones: per-turn means of each batch, median over N batches. Finer
 * than single turns (no clock granularity, no tail) for A/B comparisons of
 * a change; the bench's own measure is the single-turn median.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setupMoaTracing, startMoaTurn } from './bench-deps.js';
import { median } from './median.js';
import { runSmallTurn, smallTurnInputs, type SmallTurnInput } from './small-turn-workload.js';

type Tracing = ReturnType<typeof setupMoaTracing>;
function turn(tracing: Tracing, session: string, input: SmallTurnInput): void {
  runSmallTurn(startMoaTurn, tracing.instrumentation, session, input);
}

const turnOf = smallTurnInputs();
const cpuMs = (s: NodeJS.CpuUsage) => { const u = process.cpuUsage(s); return (u.user + u.system) / 1000; };
const tick = () => new Promise<void>((r) => setImmediate(r));

const dir = mkdtempSync(path.join(tmpdir(), 'moa-small-'));
const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
const loopAt = process.argv.indexOf('--loop');
const batchesAt = process.argv.indexOf('--batches');
try {
  if (batchesAt >= 0) {
    const batches = Number(process.argv[batchesAt + 1] ?? 60);
    const probe = turnOf();
    turn(tracing, 'probe', probe);
    await tracing.forceFlush();
    const record: unknown = JSON.parse(readFileSync(path.join(dir, 'probe.jsonl'), 'utf8'));
    const floorFile = path.join(dir, 'floor.jsonl');
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < batches; i++) {
      const inputs = Array.from({ length: 100 }, turnOf);
      const s = process.cpuUsage();
      for (const next of inputs) {
        turn(tracing, 'run', next);
        await tracing.forceFlush();
      }
      a.push(cpuMs(s) * 10);
      await tick();
      const f = process.cpuUsage();
      for (let j = 0; j < 100; j++) appendFileSync(floorFile, `${JSON.stringify(record)}\n`);
      b.push(cpuMs(f) * 10);
      await tick();
      rmSync(path.join(dir, 'run.jsonl'), { force: true });
      rmSync(floorFile, { force: true });
    }
    const ia = median(a);
    const fb = median(b);
    console.log(`10.8 KB, batches of 100: instrumented ${ia.toFixed(1)} us  floor ${fb.toFixed(1)} us  ratio ${(ia / fb).toFixed(2)}x`);
  } else if (loopAt >= 0) {
    const n = Number(process.argv[loopAt + 1] ?? 5000);
    for (let i = 0; i < n; i++) {
      const next = turnOf();
      turn(tracing, 'loop', next);
      await tracing.forceFlush();
      if (i % 500 === 499) rmSync(path.join(dir, 'loop.jsonl'), { force: true });
    }
  } else {
    const rounds = Number(process.argv[2] ?? 3000);
    const probe = turnOf();
    turn(tracing, 'probe', probe);
    await tracing.forceFlush();
    const lineText = readFileSync(path.join(dir, 'probe.jsonl'), 'utf8').trimEnd();
    const record: unknown = JSON.parse(lineText);
    const floorFile = path.join(dir, 'floor.jsonl');
    const floor = () => appendFileSync(floorFile, `${JSON.stringify(record)}\n`);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const next = turnOf();
      const s = process.cpuUsage();
      turn(tracing, 'run', next);
      await tracing.forceFlush();
      a.push(cpuMs(s));
      await tick();
      const f = process.cpuUsage();
      floor();
      b.push(cpuMs(f));
      await tick();
      if (i % 500 === 499) { rmSync(path.join(dir, 'run.jsonl'), { force: true }); rmSync(floorFile, { force: true }); }
    }
    const ia = median(a);
    const fb = median(b);
    console.log(`10.8 KB (line ${Buffer.byteLength(lineText)} B): instrumented ${(ia * 1000).toFixed(1)} us  floor ${(fb * 1000).toFixed(1)} us  ratio ${(ia / fb).toFixed(2)}x  (means ${(a.reduce((x, y) => x + y) / a.length * 1000).toFixed(1)} / ${(b.reduce((x, y) => x + y) / b.length * 1000).toFixed(1)} us)`);
  }
} finally {
  await tracing.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
