/**
 * `stats` over a generated trace directory (default about 1 GB, both record
 * origins) against a bare loop that only splits lines and JSON.parses them
 * over the same files. Each side runs in its own child process so its peak
 * RSS is its own. Targets: stats peak RSS < 300 MB, stats throughput at
 * least half of the bare loop's.
 *
 *   node --import tsx bench/offline-stats.ts            # 1 GB
 *   MOA_BENCH_OFFLINE_MB=100 node --import tsx bench/offline-stats.ts
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectStats } from '../src/offline/collect-stats.js';
import { LineSplitter } from '../src/offline/line-splitter.js';
import { peakRssMb } from './peak-rss.mjs';

export interface OfflineStatsBenchOptions {
  /** Total size of the generated directory; default 1 GiB (quick: 64 MiB). Env MOA_BENCH_OFFLINE_MB overrides. */
  bytes?: number;
  quick?: boolean;
  /** Keep the generated directory (its path is returned). */
  keep?: boolean;
}

export interface OfflineStatsBenchResult {
  generatedBytes: number;
  files: number;
  records: number;
  bareMs: number;
  statsMs: number;
  bareMBps: number;
  statsMBps: number;
  /** statsMBps / bareMBps; target >= 0.5. */
  throughputRatio: number;
  /** CPU of each measured loop (stats may read files in parallel: wall flatters it, CPU does not). */
  bareCpuMs: number;
  statsCpuMs: number;
  /** statsCpuMs / bareCpuMs; issue 20's target <= 1.0. */
  cpuRatio: number;
  statsPeakRssMb: number;
  barePeakRssMb: number;
  /** Cost total computed by stats (exact decimal), as a sanity check. */
  totalCostUsd: string;
  ok: boolean;
  dir?: string;
}

const FILE_BYTES = 8 * 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);

export async function runOfflineStatsBench(options: OfflineStatsBenchOptions = {}): Promise<OfflineStatsBenchResult> {
  const envMb = Number(process.env.MOA_BENCH_OFFLINE_MB);
  const bytes = Number.isFinite(envMb) && envMb > 0 ? envMb * 1024 * 1024 : options.bytes ?? (options.quick ? 64 : 1024) * 1024 * 1024;
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-bench-offline-'));
  try {
    const generated = await generateTraceDir(dir, bytes);
    // Warm the page cache so neither side pays for the disk.
    worker('bare', dir);
    const bare = worker('bare', dir);
    const stats = worker('stats', dir);
    const mb = generated.bytes / (1024 * 1024);
    const bareMBps = mb / (bare.ms / 1000);
    const statsMBps = mb / (stats.ms / 1000);
    const throughputRatio = statsMBps / bareMBps;
    return {
      generatedBytes: generated.bytes,
      files: generated.files,
      records: stats.records,
      bareMs: Math.round(bare.ms),
      statsMs: Math.round(stats.ms),
      bareMBps: round(bareMBps),
      statsMBps: round(statsMBps),
      throughputRatio: round(throughputRatio),
      bareCpuMs: Math.round(bare.cpuMs),
      statsCpuMs: Math.round(stats.cpuMs),
      cpuRatio: round(stats.cpuMs / bare.cpuMs),
      statsPeakRssMb: round(stats.maxRssMb),
      barePeakRssMb: round(bare.maxRssMb),
      totalCostUsd: stats.cost ?? '?',
      ok: stats.maxRssMb < 300 && throughputRatio >= 0.5 && stats.records === bare.records,
      ...(options.keep ? { dir } : {}),
    };
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

interface WorkerResult { ms: number; cpuMs: number; maxRssMb: number; records: number; cost?: string }

function worker(kind: 'bare' | 'stats', dir: string): WorkerResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--worker', kind, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as WorkerResult;
}

// --- the two measured loops (run inside the child) ---------------------------

/** The floor: the same chunked reads and line splitting as the reader, then only JSON.parse. */
async function bareLoop(files: string[]): Promise<number> {
  let records = 0;
  const buffer = Buffer.allocUnsafe(1 << 20);
  const parse = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    JSON.parse(bytes.toString('utf8'));
    records += 1;
  };
  for (const file of files) {
    const handle = await open(file, 'r');
    const splitter = new LineSplitter();
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      splitter.push(buffer.subarray(0, bytesRead), (line) => parse(line.bytes));
    }
    const tail = splitter.finish();
    if (tail) parse(tail.bytes);
    await handle.close();
  }
  return records;
}

async function statsLoop(files: string[]): Promise<{ records: number; cost: string }> {
  const stats = await collectStats(files.map((file) => ({ file })), 'model');
  const total = stats.totals();
  return { records: total.turns, cost: total.costUsd };
}

async function runWorker(kind: string, dir: string): Promise<void> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(dir, f));
  // Warm up on the first two files (JIT, zod's compiled parsers) so small quick
  // runs measure steady-state throughput, as the 1 GB run does anyway.
  const warmup = files.slice(0, 2);
  for (let pass = 0; pass < 3; pass++) {
    if (kind === 'bare') await bareLoop(warmup);
    else await statsLoop(warmup);
  }
  const start = performance.now();
  const cpu = process.cpuUsage();
  let result: { records: number; cost?: string };
  if (kind === 'bare') result = { records: await bareLoop(files) };
  else result = await statsLoop(files);
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - start;
  process.stdout.write(`${JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, maxRssMb: peakRssMb(), ...result })}\n`);
}

// --- data generation ------------------------------------------------------------

const MODELS = [
  ['openai', 'gpt-4o-mini'], ['anthropic', 'claude-sonnet'], ['openrouter', 'qwen/qwen3'], ['local', 'tiny'], ['openai', 'gpt-4o'],
] as const;

function pythonDumps(value: unknown): string {
  // json.dumps(ensure_ascii=False) spacing: ", " and ": ".
  if (Array.isArray(value)) return `[${value.map(pythonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonDumps(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

function sampleRecord(i: number, session: string, python: boolean): string {
  const text = (n: number) => `Step ${i}: ${'lorem ipsum dolor sit amet, 日本語 — '.repeat(n)}`;
  const messages = [
    { role: 'system', content: 'You are an advisor. Answer briefly.' },
    ...Array.from({ length: 6 }, (_, k) => ({ role: k % 2 ? 'assistant' : 'user', content: text(3 + ((i + k) % 9)) })),
  ];
  const ts = 1_760_000_000 + i * 7.25;
  const ref = (k: number) => {
    const [provider, model] = MODELS[(i + k) % MODELS.length] as readonly [string, string];
    const base = {
      label: `${provider}:${model}`, model, provider, temperature: 0.7,
      input_messages: messages,
      output: i % 17 === k ? '[failed: HTTP 429: rate limited]' : text(4 + (k % 5)),
      usage: { input_tokens: 900 + (i % 300), output_tokens: 120 + k, cache_read_tokens: k * 64, cache_write_tokens: 0, reasoning_tokens: 0 },
      cost_usd: python ? `0.000${(1000 + ((i * 7 + k) % 9000)).toString()}` : Number(`0.000${(1000 + ((i * 7 + k) % 9000)).toString()}`),
      cost_status: 'actual', cost_source: 'provider',
    };
    return python ? base : { ...base, started_at: ts - 3, ended_at: ts - 2 + k * 0.1, duration_ms: 1000 + k * 100, span_id: (i * 10 + k + 1).toString(16).padStart(16, '0'), error: null };
  };
  const record = {
    ts, session_id: session, preset: 'default',
    references: [ref(0), ref(1), ref(2)],
    aggregator: {
      label: 'openai:gpt-4o', model: 'gpt-4o', provider: 'openai', temperature: null,
      input_messages: [...messages, { role: 'user', content: `<guidance>${text(5)}</guidance>` }],
      output: text(6), streamed: false, output_location: 'inline',
      ...(python ? {} : { usage: { input_tokens: 2400, output_tokens: 300, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 }, cost_usd: 0.0042, cost_status: 'estimated', cost_source: 'genai-prices' }),
    },
    ...(python ? {} : { trace_id: (i + 1).toString(16).padStart(32, '0'), span_id: (i + 1).toString(16).padStart(16, 'a'), duration_ms: 3000, cache: 'miss', fanout: 'user_turn', iteration: i % 5 }),
  };
  return python ? pythonDumps(record) : JSON.stringify(record);
}

async function generateTraceDir(dir: string, bytes: number): Promise<{ bytes: number; files: number }> {
  const fileCount = Math.max(2, Math.round(bytes / FILE_BYTES));
  const perFile = bytes / fileCount;
  let total = 0;
  let i = 0;
  for (let f = 0; f < fileCount; f++) {
    const session = `bench-session-${f}`;
    const stream = createWriteStream(path.join(dir, `${session}.jsonl`));
    let written = 0;
    const lines: string[] = [];
    let pendingBytes = 0;
    while (written < perFile) {
      const line = `${sampleRecord(i++, session, f % 5 === 0)}\n`;
      const size = Buffer.byteLength(line);
      lines.push(line);
      pendingBytes += size;
      written += size;
      if (pendingBytes > 1 << 20) {
        if (!stream.write(lines.join(''))) await once(stream, 'drain');
        lines.length = 0;
        pendingBytes = 0;
      }
    }
    stream.end(lines.join(''));
    await once(stream, 'finish');
    total += written;
  }
  return { bytes: total, files: fileCount };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

// --- entry points -----------------------------------------------------------------

const args = process.argv.slice(2);
if (args[0] === '--worker') {
  await runWorker(args[1] as string, args[2] as string);
} else if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const result = await runOfflineStatsBench({ quick: process.env.BENCH_QUICK === '1' });
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.ok ? 0 : 1;
}
