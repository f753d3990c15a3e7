import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { closedPort, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const MIB = 1024 * 1024;
const TURNS = 200;
const SPAN_BYTES = 1_000_000;
const MAX_QUEUE_BYTES = 32 * MIB;
/** Room for what is not queued spans: the span in the making, one encoded request, the exporter's bookkeeping, GC timing. */
const MARGIN = 32 * MIB;

interface WorkerReport {
  peakBytes: number;
  dropped?: number;
  failedRequests: number;
}

function runWorker(mode: 'bounded' | 'sdk', url: string): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      '--expose-gc', '--import', 'tsx', 'test/fixtures/otlp-memory-worker.ts', mode, url, String(TURNS), String(SPAN_BYTES), String(MAX_QUEUE_BYTES),
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerReport) : reject(new Error(`worker exited with ${code}: ${out}`))));
  });
}

async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}/v1/traces`;
}

describe('memory while the collector is down (200 turns of 1 MB spans, measured after GC in a child process)', () => {
  it('stays under the byte bound plus a margin when nothing listens', async () => {
    const report = await runWorker('bounded', await closedPortUrl());
    expect(report.failedRequests).toBeGreaterThan(0);
    expect(report.dropped).toBeGreaterThan(TURNS / 2);
    expect(report.peakBytes).toBeLessThan(MAX_QUEUE_BYTES + MARGIN);
  });

  it('stays under the byte bound plus a margin when the collector answers 503', async () => {
    const receiver = await startOtlpReceiver();
    receiver.failWith(503);
    try {
      const report = await runWorker('bounded', `${receiver.url}/v1/traces`);
      expect(report.failedRequests).toBeGreaterThan(0);
      expect(report.peakBytes).toBeLessThan(MAX_QUEUE_BYTES + MARGIN);
    } finally {
      await receiver.close();
    }
  });

  it('would not with a queue bounded in spans only (the SDK BatchSpanProcessor, as the control)', async () => {
    const report = await runWorker('sdk', await closedPortUrl());
    expect(report.peakBytes).toBeGreaterThan(MAX_QUEUE_BYTES + MARGIN);
  });
});
