/**
 * A/B of two builds on the 10.8 KB row, in one process: batches of 100
 * small turns (the workload of `small-turn.ts`), each build's batch and a
 * floor batch interleaved, their order alternating; medians of per-turn
 * means, process CPU and main-thread CPU. Runs one after the other on a
 * shared machine differ by more than most changes to the small path; here
 * both builds see the same load and the same heap.
 *
 *   cp -r dist /tmp/old-dist   # before the change (node_modules must resolve from there: keep it
 *                              # inside a copy of the package, or symlink node_modules next to it)
 *   npm run build && node --import tsx bench/small-turn-ab.ts /path/to/old/dist [dist] [--batches 40]
 *
 * The builds' lines for the same turn are compared first (timestamps and ids
 * aside): a change to the small path must not change a byte.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Moa from '../src/index.js';
import { mainThreadCpuClock } from './block-clock.js';
import { median } from './median.js';
import { runSmallTurn, smallTurnInputs, type SmallTurnInput } from './small-turn-workload.js';

type Build = typeof Moa;
type Tracing = ReturnType<Build['setupMoaTracing']>;

const args = process.argv.slice(2);
const batchesAt = args.indexOf('--batches');
const batches = batchesAt >= 0 ? Number(args.splice(batchesAt, 2)[1]) : 40;
const [oldDist, newDist = new URL('../dist', import.meta.url).pathname] = args;
if (!oldDist) {
  console.error('usage: node --import tsx bench/small-turn-ab.ts OLD_DIST [NEW_DIST] [--batches N]');
  process.exit(2);
}
const load = async (dist: string) => (await import(pathToFileURL(path.resolve(dist, 'index.js')).href)) as Build;
const builds = [await load(oldDist), await load(newDist)];

const turnOf = smallTurnInputs();
function turn(build: Build, tracing: Tracing, session: string, input: SmallTurnInput): void {
  runSmallTurn(build.startMoaTurn, tracing.instrumentation, session, input);
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const clock = mainThreadCpuClock();
const processMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

const dirs = builds.map(() => mkdtempSync(path.join(tmpdir(), 'moa-ab-')));
const tracings = builds.map((build, i) => build.setupMoaTracing({ save_traces: true, trace_dir: dirs[i] }, { env: {}, ignoreConfigFile: true, registerGlobal: false }));
try {
  const probe = turnOf();
  for (let i = 0; i < builds.length; i++) {
    turn(builds[i]!, tracings[i]!, 'probe', probe);
    await tracings[i]!.forceFlush();
  }
  const lines = dirs.map((dir) => readFileSync(path.join(dir, 'probe.jsonl'), 'utf8'));
  // What differs between two runs of the same turn: clock readings and ids.
  const steady = (line: string) => line.replace(/"(ts|started_at|ended_at|duration_ms)":[0-9.e-]+/g, '').replace(/"(span_id|trace_id)":"[0-9a-f]+"/g, '');
  console.log(`lines: ${steady(lines[0]!) === steady(lines[1]!) ? 'the same' : 'DIFFERENT'} (${Buffer.byteLength(lines[1]!)} bytes); ${clock.name}`);
  const record: unknown = JSON.parse(lines[0]!);
  const floorFile = path.join(dirs[0]!, 'floor.jsonl');
  const names = ['old', 'new', 'floor'] as const;
  const processUs: number[][] = [[], [], []];
  const mainUs: number[][] = [[], [], []];
  for (let b = 0; b < batches; b++) {
    for (const k of b % 2 ? [0, 1, 2] : [1, 0, 2]) {
      const inputs = Array.from({ length: 100 }, turnOf);
      await tick();
      const p0 = processMs();
      const m0 = clock.now();
      if (k < 2) {
        for (const next of inputs) {
          turn(builds[k]!, tracings[k]!, 'run', next);
          await tracings[k]!.forceFlush();
        }
      } else {
        for (let j = 0; j < 100; j++) appendFileSync(floorFile, `${JSON.stringify(record)}\n`);
      }
      // Per turn, in µs: a batch's milliseconds / 100 turns * 1000.
      processUs[k]!.push((processMs() - p0) * 10);
      mainUs[k]!.push((clock.now() - m0) * 10);
      rmSync(k < 2 ? path.join(dirs[k]!, 'run.jsonl') : floorFile, { force: true });
    }
  }
  for (let k = 0; k < names.length; k++) {
    console.log(`${names[k]!.padEnd(5)} per turn: process ${median(processUs[k]!).toFixed(1)} µs, main thread ${median(mainUs[k]!).toFixed(1)} µs`);
  }
  const ratio = (values: number[][]) => (median(values[1]!) / median(values[0]!)).toFixed(3);
  console.log(`new/old: process ${ratio(processUs)}, main thread ${ratio(mainUs)} (${batches} batches of 100 turns)`);
} finally {
  clock.close();
  for (const tracing of tracings) await tracing.shutdown();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
