/**
 * Trace-file fixtures of both origins: records as this package writes them
 * (numeric costs, extension keys) and lines written by hand the way the
 * original Python feature wrote them (`json.dumps` defaults: `, ` and `: `
 * separators, raw non-ASCII with ensure_ascii=False, Decimal costs as
 * strings, no extension keys).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A record in this package's format, with timing, ids and an aggregator cost. */
export function oursRecord(overrides: { ts?: number; sessionId?: string | null; iteration?: number; failSecond?: boolean } = {}): Record<string, unknown> {
  const ts = overrides.ts ?? 1_764_000_000.5;
  const failSecond = overrides.failSecond ?? true;
  return {
    ts,
    session_id: overrides.sessionId === undefined ? 'sess-ours' : overrides.sessionId,
    preset: 'default',
    references: [
      {
        label: 'openai:gpt-4o-mini', model: 'gpt-4o-mini', provider: 'openai', temperature: 0.7,
        input_messages: [{ role: 'system', content: 'You advise.' }, { role: 'user', content: 'What is 2+2?' }],
        output: 'Four, obviously.',
        usage: { input_tokens: 100, output_tokens: 20, cache_read_tokens: 50, cache_write_tokens: 0, reasoning_tokens: 5 },
        cost_usd: 0.1, cost_status: 'actual', cost_source: 'provider',
        started_at: ts - 3, ended_at: ts - 2, duration_ms: 1000, span_id: '1111111111111111', error: null,
      },
      {
        label: 'local:tiny', model: 'tiny', provider: 'local', temperature: null,
        input_messages: [{ role: 'system', content: 'You advise.' }, { role: 'user', content: 'What is 2+2?' }],
        output: failSecond ? '[failed: TimeoutError: reference timed out after 30000 ms]' : 'It is 4.',
        usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
        cost_usd: failSecond ? null : 0.2, cost_status: failSecond ? 'unknown' : 'estimated', cost_source: null,
        started_at: ts - 3, ended_at: ts - 1.5, duration_ms: 1500, span_id: '2222222222222222',
        error: failSecond ? 'TimeoutError: reference timed out after 30000 ms' : null,
      },
    ],
    aggregator: {
      label: 'openai:gpt-4o', model: 'gpt-4o', provider: 'openai', temperature: 0.2,
      input_messages: [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'user', content: [{ type: 'text', text: 'Guidance: <b>four</b>' }] },
      ],
      output: 'The answer is 4.', streamed: false, output_location: 'inline',
      usage: { input_tokens: 300, output_tokens: 10, cache_read_tokens: 0, cache_write_tokens: 7, reasoning_tokens: 0 },
      cost_usd: 0.3, cost_status: 'estimated', cost_source: 'genai-prices',
      started_at: ts - 1.4, ended_at: ts - 0.1, duration_ms: 1300, span_id: '3333333333333333', error: null,
      tool_calls: null, finish_reason: 'stop',
    },
    trace_id: '0af7651916cd43dd8448eb211c80319c',
    span_id: '4444444444444444',
    duration_ms: 2900,
    cache: 'miss',
    fanout: 'user_turn',
    iteration: overrides.iteration ?? 0,
  };
}

export function oursLine(overrides: Parameters<typeof oursRecord>[0] = {}): string {
  return JSON.stringify(oursRecord(overrides));
}

/**
 * Two lines exactly as Python's `json.dumps(record, ensure_ascii=False)`
 * writes them: spaces after separators, raw UTF-8, Decimal costs as strings.
 */
export const PYTHON_LINES = [
  '{"ts": 1763900000.123456, "session_id": "héllo-wörld", "preset": "fast", "references": [{"label": "openrouter:qwen/qwen3", "model": "qwen/qwen3", "provider": "openrouter", "temperature": 0.6, "input_messages": [{"role": "system", "content": "Berätta kort."}, {"role": "user", "content": "Was ist 日本?"}], "output": "日本 ist Japan — ein Land.", "usage": {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0}, "cost_usd": "0.00088653", "cost_status": "actual", "cost_source": "provider"}, {"label": "openrouter:mistral/small", "model": "mistral/small", "provider": "openrouter", "temperature": null, "input_messages": [{"role": "user", "content": "Was ist 日本?"}], "output": "[failed: HTTP 429: rate limited]", "usage": {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0}, "cost_usd": "0", "cost_status": "unknown", "cost_source": null}], "aggregator": {"label": "anthropic:claude-sonnet", "model": "claude-sonnet", "provider": "anthropic", "temperature": null, "input_messages": [{"role": "user", "content": "Was ist 日本?"}, {"role": "user", "content": "<guidance>日本 ist Japan</guidance>"}], "output": "Japan (日本).", "streamed": false, "output_location": "inline"}}',
  '{"ts": 1763900060.5, "session_id": "héllo-wörld", "preset": "fast", "references": [{"label": "openrouter:qwen/qwen3", "model": "qwen/qwen3", "provider": "openrouter", "temperature": 0.6, "input_messages": [{"role": "user", "content": "Und 中国?"}], "output": "中国 ist China.", "usage": {"input_tokens": 800, "output_tokens": 100, "cache_read_tokens": 400, "cache_write_tokens": 0, "reasoning_tokens": 0}, "cost_usd": "0.00011347", "cost_status": "actual", "cost_source": "provider"}], "aggregator": {"label": "anthropic:claude-sonnet", "model": "claude-sonnet", "provider": "anthropic", "temperature": null, "input_messages": [{"role": "user", "content": "Und 中国?"}], "output": null, "streamed": true, "output_location": "assistant_message_in_session_db"}}',
] as const;

export interface TraceDir {
  dir: string;
  /** Writes `name` (a path relative to the directory, parents created) and returns its full path. */
  write(name: string, content: string): string;
  cleanup(): void;
}

export function makeTraceDir(): TraceDir {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-offline-'));
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Captured in-process CLI streams. */
export function captureIo(env: Record<string, string | undefined> = {}, cwd = process.cwd()) {
  let out = '';
  let err = '';
  const stream = (append: (s: string) => void) => ({
    write(chunk: string | Uint8Array) {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
  }) as unknown as NodeJS.WritableStream;
  return {
    io: {
      stdout: stream((s) => { out += s; }),
      stderr: stream((s) => { err += s; }),
      env: { MOA_HOME: path.join(tmpdir(), 'moa-offline-no-home'), ...env },
      cwd,
    },
    get out() { return out; },
    get err() { return err; },
  };
}
