/**
 * Producing MoA turns for the end-to-end tier: through the `demo` command (a
 * real process, like a user runs it) or, where a test needs control over
 * sizes and timing, through the public instrumentation API in this process.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setupMoaTracing, startMoaTurn, type ChatMessage, type MoaTracing } from '../../../src/index.js';
import { REPO_ROOT } from './stack.js';

const execFileAsync = promisify(execFile);

/** The subset of a JSONL turn record (DESIGN §3) these tests read. */
export interface CallRecord {
  label: string;
  model: string;
  provider: string;
  input_messages: unknown[];
  output: string | null;
  usage?: { input_tokens?: number; output_tokens?: number; cache_read_tokens?: number; cache_write_tokens?: number; reasoning_tokens?: number };
  cost_usd?: number | string | null;
  cost_status?: string | null;
  span_id: string;
  /** Why the call failed (a failed reference); null or absent when it answered. */
  error?: string | null;
  /** Aggregator only. */
  tool_calls?: unknown[] | null;
  finish_reason?: string | null;
}
export interface TurnRecordLine {
  session_id: string | null;
  preset: string;
  trace_id: string;
  span_id: string;
  references: CallRecord[];
  aggregator: CallRecord;
}

export async function readTurnRecords(file: string): Promise<TurnRecordLine[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TurnRecordLine);
}

/** What `moa-otel demo --json` reports about its OTLP export. */
export interface DemoOtlpReport {
  endpoint: string;
  exportedSpans: number;
  failedSpans: number;
  droppedSpans: number;
}

export interface DemoResult {
  sessionId: string;
  sessionFile: string;
  records: number;
  traceIds: string[];
  otlp?: DemoOtlpReport;
  /** The demo's exit code: 1 when the OTLP export failed (the JSONL file is written either way). */
  exitCode: number;
  stderr: string;
}

/**
 * Runs `moa-otel demo --json` as a child process. HOME and MOA_HOME point at
 * a scratch folder so no developer config file takes part.
 */
export async function runDemo(options: { dir: string; otlpUrl: string; home: string; timeoutMs?: number }): Promise<DemoResult> {
  let stdout: string;
  let stderr: string;
  let exitCode = 0;
  try {
    ({ stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--dir', options.dir, '--otlp', options.otlpUrl, '--json'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, HOME: options.home, MOA_HOME: options.home, NO_COLOR: '1' },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    ));
  } catch (err) {
    // A failed export exits 1 after printing its JSON; anything else (a timeout, a crash) is the test's failure.
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code !== 1 || typeof failed.stdout !== 'string') throw err;
    ({ stdout, stderr = '' } = failed as { stdout: string; stderr?: string });
    exitCode = 1;
  }
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`demo printed no JSON object:\n${stdout}`);
  return { ...(JSON.parse(stdout.slice(start)) as Omit<DemoResult, 'exitCode' | 'stderr'>), exitCode, stderr };
}

/** Tracing set up like an application would, writing JSONL to `dir` and OTLP to `otlpUrl`. */
export function setupTestTracing(options: {
  dir: string;
  home: string;
  otlpUrl: string;
  maxExportBytes?: number;
  protocol?: 'http/protobuf' | 'http/json';
}): MoaTracing {
  return setupMoaTracing(
    {
      save_traces: true,
      trace_dir: options.dir,
      otlp: {
        enabled: true,
        endpoint: `${options.otlpUrl}/v1/traces`,
        // These tests look at spans request by request: metrics would share the collector's port.
        metrics: false,
        ...(options.maxExportBytes !== undefined ? { max_export_bytes: options.maxExportBytes } : {}),
        ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
      },
    },
    { env: { HOME: options.home, MOA_HOME: options.home }, ignoreConfigFile: true, registerGlobal: false },
  );
}

export interface ScriptedCall {
  model: string;
  provider: string;
  messages: ChatMessage[];
  output: string;
}

/** Drives one cache-MISS iteration through the public instrumentation API. */
export function recordScriptedTurn(
  tracing: MoaTracing,
  turn: { sessionId: string; preset: string; references: ScriptedCall[]; aggregator: ScriptedCall },
): void {
  const moa = startMoaTurn({ sessionId: turn.sessionId, preset: turn.preset, cache: 'miss', iteration: 0, instrumentation: tracing.instrumentation });
  turn.references.forEach((ref, index) => {
    const call = moa.startReference({ index, model: ref.model, provider: ref.provider, messages: ref.messages, temperature: 0.3 });
    call.end({
      output: ref.output,
      usage: { inputTokens: 100 + index, outputTokens: 20, cacheReadTokens: 5, cacheWriteTokens: 0, reasoningTokens: 0 },
      cost: { usd: 0.0012, status: 'estimated', source: 'e2e' },
    });
  });
  const agg = moa.startAggregator({ model: turn.aggregator.model, provider: turn.aggregator.provider, messages: turn.aggregator.messages, stream: false });
  agg.end({
    output: turn.aggregator.output,
    usage: { inputTokens: 300, outputTokens: 40, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 7 },
    cost: { usd: 0.004, status: 'estimated', source: 'e2e' },
    finishReason: 'stop',
  });
  moa.end();
}

/** The JSONL files a trace dir holds (one per session). */
export async function sessionFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.jsonl')).map((n) => join(dir, n));
}

/** The one turn record written under `dir` (one session file, one line); throws otherwise. */
export async function onlyTurnRecord(dir: string): Promise<TurnRecordLine> {
  const files = await sessionFiles(dir);
  if (files.length !== 1 || !files[0]) throw new Error(`expected one session file in ${dir}, found ${files.length}`);
  const records = await readTurnRecords(files[0]);
  if (records.length !== 1 || !records[0]) throw new Error(`expected one turn record in ${files[0]}, found ${records.length}`);
  return records[0];
}

/** Every span id a record names: root, each reference, the aggregator. */
export function recordSpanIds(record: TurnRecordLine): string[] {
  return [record.span_id, ...record.references.map((r) => r.span_id), record.aggregator.span_id];
}
