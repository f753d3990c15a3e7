/**
 * Ctrl-C, a kill and a closed terminal in the applications: `ask` writes the
 * turn under way as a partial record and exits 128 + the signal's number;
 * `serve` drains (bounded) and records every open turn, SIGHUP included.
 * Real children, real signals, models on the scripted server.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { turnRecordSchema, type TurnRecord } from '../../src/record/schema.js';
import { startScriptedServer, type ScriptedServer } from '../../src/testing/scripted-server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
/** The aggregator starts its stream (the role chunk), then sends nothing for a minute: a turn left open. */
const STALLED = { reply: 'A piece, after a very long wait.', chunkSize: 6, chunkDelayMs: 60_000 };

let upstream: ScriptedServer;
const children: ChildProcessWithoutNullStreams[] = [];
const homes: string[] = [];

beforeAll(async () => {
  upstream = await startScriptedServer({ models: { 'advisor-a': { reply: 'advice' }, aggregator: STALLED } });
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await upstream.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function configure(): { home: string; traceDir: string } {
  const home = mkdtempSync(path.join(tmpdir(), 'moa-signals-'));
  homes.push(home);
  const traceDir = path.join(home, 'traces');
  writeFileSync(path.join(home, 'config.yaml'), [
    'moa:',
    '  save_traces: true',
    `  trace_dir: ${traceDir}`,
    '  providers:',
    `    local: { base_url: "${upstream.baseURL}" }`,
    '  presets:',
    '    solo:',
    '      references: [{ provider: local, model: advisor-a }]',
    '      aggregator: { provider: local, model: aggregator }',
    '  default_preset: solo',
  ].join('\n'));
  return { home, traceDir };
}

interface Running { stdout: () => string; stderr: () => string; exit: Promise<{ code: number | null; signal: string | null }> }

function run(home: string, args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT, env: { ...process.env, MOA_HOME: home, NO_COLOR: '1', MOA_GATEWAY_TOKEN: '' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { stdout: () => out, stderr: () => err, exit };
}

async function waitFor(what: string, probe: () => boolean, context: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${context()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function records(traceDir: string, session: string): TurnRecord[] {
  const file = path.join(traceDir, `${session}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => turnRecordSchema.parse(JSON.parse(line)));
}

describe('stop signals in the applications', () => {
  it.each([['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const)(
    'ask --stream: %s mid-answer writes the paid turn as a partial record and exits %i', async (signal, expected) => {
      const { home, traceDir } = configure();
      const session = `ask-${signal}`;
      const ask = run(home, ['ask', '--stream', '--session', session, `${signal} question`]);
      await waitFor('the aggregator stream to start', () => upstream.requests.some((r) => r.model === 'aggregator' && r.sentChunks.length > 0
        && (r.messages as Array<{ content?: unknown }>).some((m) => m.content === `${signal} question`)), () => ask.stderr());
      await new Promise((r) => setTimeout(r, 200)); // the chunk on its way to the child
      process.kill(children.at(-1)!.pid!, signal);
      expect(await ask.exit).toEqual({ code: expected, signal: null });
      expect(ask.stderr()).toContain(`moa-otel ask: ${signal}: writing open turns as partial records, then exiting`);
      const [record, ...more] = records(traceDir, session);
      expect(more).toEqual([]);
      expect(record).toMatchObject({ session_id: session, preset: 'solo', partial: true, partial_reason: 'shutdown' });
      expect(record!.references).toHaveLength(1);
      expect(record!.references[0]!.output).toBe('advice');
    }, 60_000);

  it('serve: SIGHUP drains for --drain-seconds, then aborts the stalled stream; its turn is on disk, exit 0', async () => {
    const { home, traceDir } = configure();
    const serve = run(home, ['serve', '--port', '0', '--drain-seconds', '1']);
    await waitFor('the listening line', () => /listening on \S+/.test(serve.stdout()), () => serve.stderr());
    const url = /listening on (\S+)/.exec(serve.stdout())![1]!;
    const response = await fetch(`${url}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'moa', messages: [{ role: 'user', content: 'stall' }], stream: true, user: 'serve-hup' }),
    });
    const reader = response.body!.getReader();
    await reader.read(); // the stream is open and has started
    process.kill(children.at(-1)!.pid!, 'SIGHUP');
    expect(await serve.exit).toEqual({ code: 0, signal: null });
    expect(serve.stderr()).toMatch(/SIGHUP: finishing 1 open turn\(s\) \(at most 1 s\)/);
    expect(serve.stderr()).toMatch(/still open after 1 s: aborting 1 open turn\(s\)/);
    await reader.cancel().catch(() => undefined);
    const [record] = records(traceDir, 'serve-hup');
    expect(record).toMatchObject({ session_id: 'serve-hup', preset: 'solo' });
    expect(record!.aggregator).toMatchObject({ error: expect.any(String) });
  }, 60_000);
});
