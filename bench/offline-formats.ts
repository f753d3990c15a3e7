/**
 * The readers on every input format, one run: a generated trace directory
 * (default 256 MiB; MOA_BENCH_FORMATS_MB overrides) as plain JSONL, as gzip,
 * and as OTLP JSON lines (`export --out` of each session); each command runs
 * in its own child so its peak RSS is its own. Printed as CPU-time ratios
 * against a bare split + JSON.parse of the plain files (targets, issue 20:
 * stats/ls/validate <= 1.0x, export/report <= 2x, every format <= 300 MB RSS).
 *
 *   node --import tsx bench/offline-formats.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { runCli } from '../src/cli/main.js';
import { LineSplitter } from '../src/offline/line-splitter.js';
import { runOfflineStatsBench } from './offline-stats.js';

const SELF = fileURLToPath(import.meta.url);

interface Run { ms: number; cpuMs: number; maxRssMb: number }

function child(args: string[]): Run {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--formats-worker', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as Run;
}

/** A session file, or every file of a directory. */
async function bare(target: string): Promise<void> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  const files = target.endsWith('.jsonl') ? [target] : readdirSync(target).sort().map((name) => path.join(target, name));
  for (const file of files) {
    const handle = await open(file, 'r');
    const splitter = new LineSplitter();
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      splitter.push(buffer.subarray(0, bytesRead), (line) => { if (line.bytes.length > 0) JSON.parse(line.bytes.toString('utf8')); });
    }
    await handle.close();
  }
}

async function worker(args: string[]): Promise<void> {
  const [kind, ...rest] = args;
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const io = { stdout: sink, stderr: sink, env: { MOA_HOME: '/nonexistent' }, cwd: process.cwd() };
  const start = performance.now();
  const cpu = process.cpuUsage();
  if (kind === 'bare') await bare(rest[0] as string);
  else await runCli(args, io);
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

export async function runOfflineFormatsBench(mb: number): Promise<void> {
  const generated = await runOfflineStatsBench({ bytes: mb * 1024 * 1024, keep: true });
  const plain = generated.dir as string;
  const root = path.dirname(plain);
  const gz = path.join(root, `${path.basename(plain)}-gz`);
  const otlp = path.join(root, `${path.basename(plain)}-otlp`);
  mkdirSync(gz);
  mkdirSync(otlp);
  try {
    const files = readdirSync(plain).filter((f) => f.endsWith('.jsonl')).sort();
    for (const name of files) {
      writeFileSync(path.join(gz, `${name}.gz`), gzipSync(readFileSync(path.join(plain, name))));
      const sink = { write: () => true } as unknown as NodeJS.WritableStream;
      await runCli(['export', path.join(plain, name), '--out', path.join(otlp, `${name.replace(/\.jsonl$/, '')}.otlp.json`)], { stdout: sink, stderr: sink, env: { MOA_HOME: '/nonexistent' }, cwd: root });
    }
    const out = path.join(root, 'bench-out');
    mkdirSync(out, { recursive: true });
    child(['bare', plain]); // warm the page cache
    const floor = child(['bare', plain]);
    console.log(`Readers on ${(generated.generatedBytes / 2 ** 20).toFixed(0)} MiB (${generated.records} turns, ${files.length} sessions); floor: split + JSON.parse ${floor.cpuMs.toFixed(0)} ms CPU, ${floor.maxRssMb.toFixed(0)} MB RSS`);
    const first = path.join(plain, files[0] as string);
    const cases: [string, string[], number][] = [
      ['stats (plain)', ['stats', plain], 1],
      ['ls (plain)', ['ls', '--dir', plain], 1],
      ['validate (plain)', ['validate', plain], 1],
      ['export --format calls (plain)', ['export', '--format', 'calls', plain, '--out', path.join(out, 'c.csv')], 2],
      ['stats (gzip)', ['stats', gz], 1],
      ['stats (OTLP JSON)', ['stats', otlp], 1],
      ['validate (OTLP JSON)', ['validate', otlp], 1],
    ];
    for (const [label, args, target] of cases) {
      const run = child(args);
      const ratio = run.cpuMs / floor.cpuMs;
      console.log(`  ${label.padEnd(30)} ${run.cpuMs.toFixed(0).padStart(6)} ms CPU  ${ratio.toFixed(2)}x (target <= ${target}x: ${ratio <= target ? 'ok' : 'OVER'})  ${run.maxRssMb.toFixed(0)} MB RSS (${run.maxRssMb <= 300 ? 'ok' : 'OVER'})`);
    }
    // One session. A command's CPU here includes loading its modules (the first
    // call compiles them), which on one small session is most of it: that
    // start-up is measured apart (the same command with --help: it loads
    // everything and exits) and the ratio is on the rest, beside the raw one.
    const session = child(['bare', first]);
    const sessionBytes = statSync(first).size;
    for (const [label, args, target] of [
      ['report (one session)', ['report', first, '-o', path.join(out, 'r.html')], 2],
      ['show --turn late (one session)', ['show', first, '--turn', '700'], 1],
    ] as [string, string[], number][]) {
      const run = child(args);
      const startup = child([args[0] as string, '--help']);
      const work = Math.max(0, run.cpuMs - startup.cpuMs);
      const ratio = work / session.cpuMs;
      console.log(`  ${label.padEnd(30)} ${run.cpuMs.toFixed(0).padStart(6)} ms CPU = start-up ${startup.cpuMs.toFixed(0)} ms + work ${work.toFixed(0)} ms;`
        + ` work ${ratio.toFixed(2)}x of that session's floor ${session.cpuMs.toFixed(0)} ms (target <= ${target}x: ${ratio <= target ? 'ok' : 'OVER'}; with start-up ${(run.cpuMs / session.cpuMs).toFixed(2)}x)  ${run.maxRssMb.toFixed(0)} MB RSS`);
    }
    const html = statSync(path.join(out, 'r.html')).size;
    console.log(`  (the report's HTML is ${(html / sessionBytes).toFixed(2)}x the session's ${(sessionBytes / 2 ** 20).toFixed(1)} MiB: writing it is part of the work)`);
  } finally {
    for (const dir of [plain, gz, otlp, path.join(root, 'bench-out')]) rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--formats-worker') {
  await worker(args.slice(1));
} else if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const mb = Number(process.env.MOA_BENCH_FORMATS_MB) || 256;
  await runOfflineFormatsBench(mb);
}
