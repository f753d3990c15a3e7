/**
 * The readers on every input format, one run: a generated trace directory
 * (default 256 MiB; MOA_BENCH_FORMATS_MB overrides) as plain JSONL, as gzip,
 * and as OTLP JSON lines (`export --out` of each session). Each command runs
 * from the built `dist/` in its own child (`reader-child.mjs`), so its CPU
 * holds no TypeScript loader and its peak RSS is its own.
 *
 * Each format is measured against its own floor: split + JSON.parse of the
 * bytes that format's reader has to read (after gunzip for gzip; the OTLP
 * JSON lines for OTLP input), since no reader can beat parsing its input by
 * parsing a smaller one. The plain-file floor is also shown for the other
 * formats. Targets (issue 20): stats/ls/validate <= 1.0x, export/report
 * <= 2x, every format <= 300 MB RSS, `show --turn N` reads one line.
 *
 * `show --turn late` is short: most of its CPU is loading the command. That
 * start-up (the same command with `--help`, which loads its modules and
 * exits) is printed and subtracted; the rest is compared with the session's
 * floor and with the floor of finding and parsing that one line.
 *
 * `report` runs on one session of that directory and on a growing agent
 * session (`growing-session-file.ts`: 50 turns, +20 KB of conversation per
 * turn, three references), whose lines repeat the whole conversation.
 *
 *   node --import tsx bench/offline-formats.ts     (after npm run build)
 *   MOA_BENCH_FORMATS_ONLY=report node --import tsx bench/offline-formats.ts   (the report rows alone)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { runCli } from '../src/cli/main.js';
import { runOfflineStatsBench } from './offline-stats.js';
import { writeGrowingSession } from './growing-session-file.js';

const SELF = fileURLToPath(import.meta.url);
const CHILD = path.join(path.dirname(SELF), 'reader-child.mjs');

interface Run { ms: number; cpuMs: number; mainCpuMs: number | null; bootCpuMs: number; maxRssMb: number }

function child(args: string[]): Run {
  const out = execFileSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as Run;
}

const ok = (value: number, target: number) => (value <= target ? 'ok' : 'OVER');

export async function runOfflineFormatsBench(mb: number): Promise<void> {
  const generated = await runOfflineStatsBench({ bytes: mb * 1024 * 1024, keep: true });
  const plain = generated.dir as string;
  const root = path.dirname(plain);
  const gz = path.join(root, `${path.basename(plain)}-gz`);
  const otlp = path.join(root, `${path.basename(plain)}-otlp`);
  mkdirSync(gz);
  mkdirSync(otlp);
  let out = '';
  try {
    const files = readdirSync(plain).filter((f) => f.endsWith('.jsonl')).sort();
    for (const name of files) {
      writeFileSync(path.join(gz, `${name}.gz`), gzipSync(readFileSync(path.join(plain, name))));
      const sink = { write: () => true } as unknown as NodeJS.WritableStream;
      await runCli(['export', path.join(plain, name), '--out', path.join(otlp, `${name.replace(/\.jsonl$/, '')}.otlp.json`)], { stdout: sink, stderr: sink, env: { MOA_HOME: '/nonexistent' }, cwd: root });
    }
    // Its own directory: benches of other checkouts may run at the same time in the same tmpdir.
    out = mkdtempSync(path.join(root, 'bench-out-'));
    child(['floor-plain', plain]); // warm the page cache
    child(['floor-plain', otlp]);
    const floors = { plain: child(['floor-plain', plain]), gzip: child(['floor-gzip', gz]), otlp: child(['floor-plain', otlp]) };
    const mib = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + readFileSync(path.join(dir, name)).length, 0) / 2 ** 20;
    console.log(`Readers on ${(generated.generatedBytes / 2 ** 20).toFixed(0)} MiB (${generated.records} turns, ${files.length} sessions); commands run from dist/, CPU from the command's start (its module loading included)`);
    console.log(`  floors (split + JSON.parse of what each format's reader reads): plain ${floors.plain.cpuMs.toFixed(0)} ms CPU (${floors.plain.maxRssMb.toFixed(0)} MB RSS);`
      + ` gzip ${floors.gzip.cpuMs.toFixed(0)} ms (gunzip included, ${mib(gz).toFixed(1)} MiB compressed); OTLP JSON ${floors.otlp.cpuMs.toFixed(0)} ms (${mib(otlp).toFixed(0)} MiB of OTLP lines)`);
    const first = path.join(plain, files[0] as string);
    const cases: [string, string[], keyof typeof floors, number][] = [
      ['stats (plain)', ['stats', plain], 'plain', 1],
      ['ls (plain)', ['ls', '--dir', plain], 'plain', 1],
      ['validate (plain)', ['validate', plain], 'plain', 1],
      ['export --format calls (plain)', ['export', '--format', 'calls', plain, '--out', path.join(out, 'c.csv')], 'plain', 2],
      ['stats (gzip)', ['stats', gz], 'gzip', 1],
      ['ls (gzip)', ['ls', '--dir', gz], 'gzip', 1],
      ['validate (gzip)', ['validate', gz], 'gzip', 1],
      ['stats (OTLP JSON)', ['stats', otlp], 'otlp', 1],
      // `ls --dir` lists `*.jsonl` session files: the OTLP files are named as inputs.
      ['ls (OTLP JSON)', ['ls', otlp], 'otlp', 1],
      ['validate (OTLP JSON)', ['validate', otlp], 'otlp', 1],
    ];
    for (const [label, args, format, target] of cases) {
      const run = child(['cli', ...args]);
      const ratio = run.cpuMs / floors[format].cpuMs;
      const vsPlain = format === 'plain' ? '' : `, ${(run.cpuMs / floors.plain.cpuMs).toFixed(2)}x the plain floor`;
      console.log(`  ${label.padEnd(30)} ${run.cpuMs.toFixed(0).padStart(6)} ms CPU  ${ratio.toFixed(2)}x its floor (target <= ${target}x: ${ok(ratio, target)}${vsPlain})`
        + `  wall ${run.ms.toFixed(0)} ms  ${run.maxRssMb.toFixed(0)} MB RSS (${ok(run.maxRssMb, 300)})`);
    }
    // One session. A command's CPU here includes loading its modules, which on
    // one small session is most of it: that start-up is measured apart (the
    // same command with --help: it loads everything and exits) and the ratio
    // is on the rest, beside the raw one.
    const session = child(['floor-plain', first]);
    reportRow('report (one session)', first, out, session);
    await growingReportRow(out);
    const late = Math.max(1, Math.floor(generated.records / files.length) - 10);
    const show = child(['cli', 'show', first, '--turn', String(late)]);
    const startup = child(['cli', 'show', '--help']);
    const oneLine = child(['floor-line', first, String(late)]);
    const beyond = Math.max(0, show.cpuMs - startup.cpuMs);
    console.log(`  ${`show --turn ${late} (one session)`.padEnd(30)} ${show.cpuMs.toFixed(0).padStart(6)} ms CPU, of which start-up ${startup.cpuMs.toFixed(0)} ms (show --help; Node itself ${show.bootCpuMs.toFixed(0)} ms before that);`
      + ` the rest ${beyond.toFixed(0)} ms = ${(beyond / session.cpuMs).toFixed(2)}x of that session's floor (${session.cpuMs.toFixed(0)} ms; target: reads one line, <= 1x: ${ok(beyond / session.cpuMs, 1)}),`
      + ` ${(beyond / oneLine.cpuMs).toFixed(2)}x finding and parsing that line alone (${oneLine.cpuMs.toFixed(1)} ms)`);
  } finally {
    for (const dir of [plain, gz, otlp, out]) if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `report` on one session against that session's floor, its start-up
 * measured apart; `session` is the floor's run. Prints one row and the size
 * of the page next to the file's.
 */
function reportRow(label: string, file: string, out: string, session: Run): void {
  const sessionBytes = statSync(file).size;
  const html = path.join(out, 'r.html');
  const report = child(['cli', 'report', file, '-o', html]);
  const reportStartup = child(['cli', 'report', '--help']);
  const reportWork = Math.max(0, report.cpuMs - reportStartup.cpuMs);
  console.log(`  ${label.padEnd(30)} ${report.cpuMs.toFixed(0).padStart(6)} ms CPU = start-up ${reportStartup.cpuMs.toFixed(0)} ms + work ${reportWork.toFixed(0)} ms;`
    + ` work ${(reportWork / session.cpuMs).toFixed(2)}x of that session's floor ${session.cpuMs.toFixed(0)} ms (target <= 2x: ${ok(reportWork / session.cpuMs, 2)}; with start-up ${(report.cpuMs / session.cpuMs).toFixed(2)}x)  ${report.maxRssMb.toFixed(0)} MB RSS`);
  // On a short run V8's optimizing compiler (background threads) is a large share of the CPU: shown apart.
  const background = report.mainCpuMs === null || reportStartup.mainCpuMs === null ? null
    : Math.max(0, reportWork - Math.max(0, report.mainCpuMs - reportStartup.mainCpuMs));
  console.log(`  (the report's HTML is ${(statSync(html).size / sessionBytes).toFixed(3)}x the session's ${(sessionBytes / 2 ** 20).toFixed(1)} MiB: writing it is part of the work`
    + `${background === null ? '' : `; of the work, ~${background.toFixed(0)} ms ran on V8's background threads (optimizing compiler, GC helpers)`})`);
}

/**
 * `report` on a growing agent session written into `out`. The corpus's
 * sessions repeat no message between turns; an agent's does: every line
 * holds the whole conversation so far once per call.
 */
async function growingReportRow(out: string): Promise<void> {
  const growing = path.join(out, 'growing.jsonl');
  const grown = await writeGrowingSession(growing);
  child(['floor-plain', growing]); // warm the page cache
  reportRow(`report (growing, ${grown.turns} turns)`, growing, out, child(['floor-plain', growing]));
}

/** Only the report rows, on the first session of a small corpus (2 x 8 MiB) and on the growing session. */
async function runReportRowsOnly(): Promise<void> {
  const generated = await runOfflineStatsBench({ bytes: 16 * 1024 * 1024, keep: true });
  const dir = generated.dir as string;
  const out = mkdtempSync(path.join(path.dirname(dir), 'bench-out-'));
  try {
    const first = path.join(dir, readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()[0] as string);
    child(['floor-plain', first]); // warm the page cache
    reportRow('report (one session)', first, out, child(['floor-plain', first]));
    await growingReportRow(out);
  } finally {
    for (const d of [dir, out]) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  if (process.env.MOA_BENCH_FORMATS_ONLY === 'report') {
    await runReportRowsOnly();
  } else {
    const mb = Number(process.env.MOA_BENCH_FORMATS_MB) || 256;
    await runOfflineFormatsBench(mb);
  }
}
