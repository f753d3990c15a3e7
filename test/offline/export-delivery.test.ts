/**
 * `moa-otel export --otlp` says what it delivered (16 §1): with the collector
 * down, answering 503 or 500, or hanging, it reports delivered and failed
 * spans and exits non-zero — the built CLI in a child process, so an exit in
 * the middle of a retry (exit 0, nothing printed) would show.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, receiversClosedAfterEach } from '../helpers/otlp-receiver.js';
import { makeTraceDir, oursLine, type TraceDir } from './fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const receiver = receiversClosedAfterEach();
let dir: TraceDir;
afterEach(() => dir?.cleanup?.());

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

function exportTo(url: string, env: Record<string, string> = {}): Promise<Run> {
  const file = path.join(dir.dir, 's.jsonl');
  writeFileSync(file, `${oursLine({ ts: 1 })}\n${oursLine({ ts: 2 })}\n`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'export', file, '--otlp', url], {
      cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: dir.dir, OTEL_EXPORTER_OTLP_TIMEOUT: '2500', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

describe('moa-otel export --otlp reports what it delivered', () => {
  it('delivers and says so (exit 0) when the collector takes it', async () => {
    dir = makeTraceDir();
    const rx = await receiver();
    const run = await exportTo(rx.url);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^exported 2 turns \(8 spans\)/);
    expect(rx.spans()).toHaveLength(8);
  });

  it('collector down: exit 1, one line with 0 of 8 delivered', async () => {
    dir = makeTraceDir();
    const run = await exportTo(`http://127.0.0.1:${await closedPort()}`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^moa-otel export: export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: .*; delivered 0 of 8 spans \(2 turns\), 8 not delivered\n$/);
  });

  it('503: stays alive through the retries, then exit 1 with 0 of 8 delivered', async () => {
    dir = makeTraceDir();
    const rx = await receiver();
    rx.failWith(503);
    const run = await exportTo(rx.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/delivered 0 of 8 spans \(2 turns\), 8 not delivered/);
    // The official exporter waits at least a second before its first retry of a 503: the process stayed for it.
    expect(run.ms).toBeGreaterThan(900);
  });

  it('500: exit 1, with the status in the line', async () => {
    dir = makeTraceDir();
    const rx = await receiver();
    rx.failWith(500);
    const run = await exportTo(rx.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed: HTTP 500.*; delivered 0 of 8 spans/);
  });

  it('a collector that never answers: exit 1 after about the export timeout', async () => {
    dir = makeTraceDir();
    const rx = await receiver();
    rx.respondNext({ status: 200, delayMs: 60_000 }, { status: 200, delayMs: 60_000 }, { status: 200, delayMs: 60_000 }, { status: 200, delayMs: 60_000 });
    const run = await exportTo(rx.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/delivered 0 of 8 spans/);
    expect(run.ms).toBeLessThan(20_000);
  });
});
