/**
 * `insights` against `stats` over the same generated session files (default
 * about 1 GB; varied advisor and answer texts so the text measures do real
 * work). Each side runs in its own child process from the built package
 * (insights' worker threads load the built worker), so peak RSS is its own
 * and worker threads count in it. Targets: insights time ≤ 2× stats' time,
 * insights peak RSS ≤ 300 MB.
 *
 *   npm run build && node --import tsx bench/insights.ts       # 1 GB
 *   MOA_BENCH_INSIGHTS_MB=128 node --import tsx bench/insights.ts
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRssMb } from './peak-rss.mjs';

export interface InsightsBenchResult {
  generatedBytes: number;
  files: number;
  records: number;
  statsMs: number;
  insightsMs: number;
  /** insightsMs / statsMs; target ≤ 2. */
  timeRatio: number;
  /** CPU time (all threads) of each side: what the work costs whatever else the machine runs. */
  statsCpuMs: number;
  insightsCpuMs: number;
  cpuRatio: number;
  statsPeakRssMb: number;
  insightsPeakRssMb: number;
  /** Both must agree on the spend (exact decimal). */
  statsCostUsd: string;
  insightsCostUsd: string;
  ok: boolean;
}

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const DIST_OFFLINE = path.join(ROOT, 'dist/offline/index.js');
const FILE_BYTES = 16 * 1024 * 1024;

export async function runInsightsBench(options: { quick?: boolean; bytes?: number } = {}): Promise<InsightsBenchResult> {
  const envMb = Number(process.env.MOA_BENCH_INSIGHTS_MB);
  const bytes = Number.isFinite(envMb) && envMb > 0 ? envMb * 1024 * 1024 : options.bytes ?? (options.quick ? 64 : 1024) * 1024 * 1024;
  if (!existsSync(path.join(ROOT, 'dist/offline/insights/worker.js'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-bench-insights-'));
  try {
    const generated = await generate(dir, bytes);
    child('stats', dir); // warm the page cache
    const stats = child('stats', dir);
    const insights = child('insights', dir);
    const timeRatio = insights.ms / stats.ms;
    return {
      generatedBytes: generated.bytes,
      files: generated.files,
      records: stats.records,
      statsMs: Math.round(stats.ms),
      insightsMs: Math.round(insights.ms),
      timeRatio: round(timeRatio),
      statsCpuMs: Math.round(stats.cpuMs),
      insightsCpuMs: Math.round(insights.cpuMs),
      cpuRatio: round(insights.cpuMs / stats.cpuMs),
      statsPeakRssMb: round(stats.maxRssMb),
      insightsPeakRssMb: round(insights.maxRssMb),
      statsCostUsd: stats.cost,
      insightsCostUsd: insights.cost,
      ok: timeRatio <= 2 && insights.maxRssMb <= 300 && stats.cost === insights.cost && stats.records === insights.records,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ChildResult { ms: number; cpuMs: number; maxRssMb: number; records: number; cost: string }

function child(kind: 'stats' | 'insights', dir: string): ChildResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', kind, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as ChildResult;
}

interface DistOffline {
  collectStats(targets: { file: string }[], group: 'model'): Promise<{ totals(): { turns: number; costUsd: string } }>;
  analyzeInsights(paths: string[]): Promise<{ turns: number; spend: { recorded_usd: string } }>;
}

async function runChild(kind: string, dir: string): Promise<void> {
  const offline = (await import(DIST_OFFLINE)) as DistOffline;
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(dir, f));
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let records: number;
  let cost: string;
  if (kind === 'stats') {
    const totals = (await offline.collectStats(files.map((file) => ({ file })), 'model')).totals();
    records = totals.turns;
    cost = totals.costUsd;
  } else {
    const doc = await offline.analyzeInsights([dir]);
    records = doc.turns;
    cost = doc.spend.recorded_usd;
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, maxRssMb: peakRssMb(), records, cost })}\n`);
}

// --- data: sessions of 3-reference turns, every few a tool loop ----------------

const VOCABULARY = Array.from({ length: 4000 }, (_, i) => `w${(i * 2654435761 % 1_000_003).toString(36)}`);

function text(seed: number, words: number): string {
  let x = seed >>> 0;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    out.push(VOCABULARY[x % VOCABULARY.length] as string);
  }
  return out.join(' ');
}

function record(i: number, session: string, iteration: number): string {
  const ts = 1_760_000_000 + i * 5;
  const advice = [0, 1, 2].map((k) => text(i * 3 + k, 150 + k * 40));
  const answer = `${advice[0]?.slice(0, 400)} ${advice[2]?.slice(200, 700)} ${text(i * 7 + 1, 60)}`;
  const messages = [
    { role: 'system', content: 'You are a helpful agent.' },
    ...Array.from({ length: 6 }, (_, k) => ({ role: k % 2 ? 'assistant' : 'user', content: text(i + k * 13, 80) })),
  ];
  const toolLoop = i % 9 === 4;
  return JSON.stringify({
    ts, session_id: session, preset: i % 3 ? 'default' : 'deep',
    references: advice.map((output, k) => ({
      label: `p${k}:model-${k}`, model: `model-${k}`, provider: `p${k}`, temperature: 0.7,
      input_messages: messages,
      output: i % 23 === k ? '[failed: HTTP 429: rate limited]' : output,
      usage: { input_tokens: 900, output_tokens: 200, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
      cost_usd: Number(`0.000${1000 + ((i * 7 + k) % 9000)}`), cost_status: 'actual', cost_source: 'provider',
      started_at: ts - 4, ended_at: ts - 3 + k * 0.25 + (i % 5) * 0.1, duration_ms: 1000 + k * 250, error: null,
    })),
    aggregator: {
      label: 'p9:boss', model: 'boss', provider: 'p9', temperature: null,
      input_messages: [...messages, { role: 'user', content: `Advice: ${advice.join(' ')}` }],
      output: toolLoop ? null : answer, streamed: false, output_location: 'inline',
      usage: { input_tokens: 2400, output_tokens: 300, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
      cost_usd: 0.0042, cost_status: 'actual', cost_source: 'provider', started_at: ts - 2, ended_at: ts - 0.5,
      ...(toolLoop ? { tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'search', arguments: '{}' } }], finish_reason: 'tool_calls' } : { finish_reason: 'stop' }),
    },
    trace_id: (i + 1).toString(16).padStart(32, '0'), started_at: ts - 4, duration_ms: 3500, cache: 'miss', fanout: 'user_turn', iteration,
  });
}

export async function generate(dir: string, bytes: number): Promise<{ bytes: number; files: number }> {
  const files = Math.max(2, Math.round(bytes / FILE_BYTES));
  let total = 0;
  let i = 0;
  for (let f = 0; f < files; f++) {
    const session = `bench-${f}`;
    const stream = createWriteStream(path.join(dir, `${session}.jsonl`));
    let written = 0;
    let pending: string[] = [];
    let pendingBytes = 0;
    while (written < bytes / files) {
      const line = `${record(i, session, 1)}\n`;
      i += 1;
      const size = Buffer.byteLength(line);
      pending.push(line);
      pendingBytes += size;
      written += size;
      if (pendingBytes > 1 << 20) {
        if (!stream.write(pending.join(''))) await once(stream, 'drain');
        pending = [];
        pendingBytes = 0;
      }
    }
    stream.end(pending.join(''));
    await once(stream, 'finish');
    total += written;
  }
  return { bytes: total, files };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await runChild(args[1] as string, args[2] as string);
} else if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const result = await runInsightsBench({ quick: process.env.BENCH_QUICK === '1' });
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.ok ? 0 : 1;
}
