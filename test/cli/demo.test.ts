import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { turnRecordSchema } from '../../src/record/schema.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('moa-otel demo', () => {
  it('--json prints exactly one object and writes a valid session file with the MISS turns', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-demo-test-'));
    const { code, stdout, stderr } = await runCli(['demo', '--dir', dir, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['sessionId', 'sessionFile', 'records', 'traceIds']);
    expect(typeof out.sessionId).toBe('string');
    expect(path.dirname(String(out.sessionFile))).toBe(dir);

    const fileLines = readFileSync(String(out.sessionFile), 'utf8').trim().split('\n');
    // Two user turns: the first takes a tool iteration whose HIT is not written.
    expect(fileLines).toHaveLength(2);
    expect(out.records).toBe(2);
    const records = fileLines.map((l) => turnRecordSchema.parse(JSON.parse(l)));
    expect(records.map((r) => r.cache)).toEqual(['miss', 'miss']);
    expect(out.traceIds).toEqual(records.map((r) => r.trace_id));
    for (const r of records) {
      expect(r.session_id).toBe(out.sessionId);
      expect(r.references).toHaveLength(2);
      expect(r.references[0]?.output).not.toBe(r.references[1]?.output);
    }
    expect(records[0]?.aggregator.tool_calls).toHaveLength(1);
    expect(records.flatMap((r) => r.references.map((ref) => ref.cost_status))).toEqual(['estimated', 'actual', 'estimated', 'actual']);
    expect(records[0]?.aggregator.cost_status).toBe('included');
    expect(records[0]?.references[0]?.usage.cache_read_tokens).toBeGreaterThan(0);
    expect(records[0]?.references[1]?.usage.reasoning_tokens).toBeGreaterThan(0);
    expect(statSync(String(out.sessionFile)).mode & 0o777).toBe(0o600);
    expect(readFileSync(String(out.sessionFile), 'utf8')).not.toMatch(/api[_-]?key/i);
  });

  it('--stream records streamed aggregator output; the text output shows trees and trace ids', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-demo-test-'));
    const { code, stdout } = await runCli(['demo', '--dir', dir, '--stream']);
    expect(code).toBe(0);
    expect(stdout).toContain('assistant (streamed): ');
    expect(stdout).toContain('trace ids:');
    expect(stdout).toMatch(/session file: .*\.jsonl \(2 recorded turns/);
    expect(stdout).toContain('└─ aggregator');
    const file = /session file: (\S+\.jsonl)/.exec(stdout)?.[1];
    const records = readFileSync(file!, 'utf8').trim().split('\n').map((l) => turnRecordSchema.parse(JSON.parse(l)));
    expect(records.map((r) => r.aggregator.streamed)).toEqual([true, true]);
    expect(records[1]?.aggregator.output_location).toBe('inline_from_stream');
  });

  it('--otlp sends the spans to <url>/v1/traces (http/protobuf) and says how many arrived', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'moa-demo-test-'));
      const { code, stdout } = await runCli(['demo', '--dir', dir, '--json', '--otlp', receiver.url]);
      expect(code).toBe(0);
      const out = JSON.parse(stdout) as { traceIds: string[]; otlp: { exportedSpans: number; failedSpans: number } };
      expect(receiver.requests.length).toBeGreaterThan(0);
      expect(new Set(receiver.requests.map((r) => r.path))).toEqual(new Set(['/v1/traces']));
      expect(new Set(receiver.requests.map((r) => r.contentType))).toEqual(new Set(['application/x-protobuf']));
      const spans = receiver.spans();
      for (const id of out.traceIds) expect(spans.some((s) => s.traceId === id)).toBe(true);
      expect(spans.some((s) => s.name.startsWith('invoke_workflow moa'))).toBe(true);
      expect(out.otlp).toMatchObject({ exportedSpans: spans.length, failedSpans: 0 });
    } finally {
      await receiver.close();
    }
  });

  it('--otlp with no collector listening says so on stderr, never "spans sent", and exits 1', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-demo-test-'));
    const { code, stdout, stderr } = await runCli(['demo', '--dir', dir, '--otlp', `http://127.0.0.1:${port}`]);
    expect(stdout).not.toMatch(/spans sent/);
    expect(stderr).toMatch(/OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed for \d+ of \d+ spans/);
    expect(code).toBe(1);
  });

  it('--otlp with credentials and a query: the failure line shows scheme, host and path only, the path before the query', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-demo-test-'));
    const { code, stdout, stderr } = await runCli(['demo', '--dir', dir, '--json', '--otlp', `http://ann:s3cr3t-pw@127.0.0.1:${port}?token=tok-123456`]);
    expect(code).toBe(1);
    expect(stderr).toContain(`OTLP export to http://127.0.0.1:${port}/v1/traces failed`);
    expect(JSON.parse(stdout)).toMatchObject({ otlp: { endpoint: `http://127.0.0.1:${port}/v1/traces` } });
    expect(stdout + stderr).not.toMatch(/s3cr3t-pw|tok-123456|ann:/);
  });

  it('rejects unknown options with one line and exit code 2', async () => {
    const { code, stderr } = await runCli(['demo', '--nope']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
