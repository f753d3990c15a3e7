/**
 * `moa-otel serve` as users run it: the real bin, spawned, configured through
 * <home>/config.yaml, upstream models on the scripted server, spans to the
 * in-process OTLP receiver. Signals are real signals.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startScriptedServer, type ScriptedModel, type ScriptedServer } from '../../src/testing/scripted-server.js';
import { attr, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { ADVICE_A, ADVICE_B } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const ANSWER = 'A streamed answer, one slow piece at a time.';

let upstream: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
let child: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await upstream?.close();
  await receiver?.close();
  child = upstream = receiver = undefined;
});

interface Setup { home: string; traceDir: string }

async function configure(aggregator: ScriptedModel, otlpEndpoint?: (receiverUrl: string) => string): Promise<Setup> {
  upstream = await startScriptedServer({ models: { 'advisor-a': { reply: ADVICE_A }, 'advisor-b': { reply: ADVICE_B }, aggregator } });
  receiver = await startOtlpReceiver();
  const home = mkdtempSync(path.join(tmpdir(), 'moa-serve-home-'));
  const traceDir = path.join(home, 'traces');
  writeFileSync(path.join(home, 'config.yaml'), [
    'moa:',
    '  save_traces: true',
    `  trace_dir: ${traceDir}`,
    `  otlp: { endpoint: "${otlpEndpoint ? otlpEndpoint(receiver.url) : `${receiver.url}/v1/traces`}" }`,
    '  providers:',
    `    local: { base_url: "${upstream.baseURL}" }`,
    `    paid: { base_url: "${upstream.baseURL}", api_key_env: PAID_API_KEY }`,
    '  presets:',
    '    duo:',
    '      references: [{ provider: local, model: advisor-a }, { provider: local, model: advisor-b }]',
    '      aggregator: { provider: local, model: aggregator }',
    '    pricey: { references: [{ provider: paid, model: advisor-a }], aggregator: { provider: paid, model: aggregator } }',
    '  default_preset: duo',
  ].join('\n'));
  return { home, traceDir };
}

interface Served { url: string; stdout: () => string; stderr: () => string; exit: Promise<number | null> }

async function serve(setup: Setup, args: string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT, env: { ...process.env, MOA_HOME: setup.home, NO_COLOR: '1', MOA_GATEWAY_TOKEN: '' },
  });
  child = proc;
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  proc.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await waitFor('the listening line', () => /listening on (\S+)/.exec(out)?.[1], () => `stdout=${out} stderr=${err}`);
  await waitFor('the traces line', () => /traces (to|off)/.test(out), () => `stdout=${out}`);
  return { url, stdout: () => out, stderr: () => err, exit };
}

async function waitFor<T>(what: string, probe: () => T | undefined, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${context()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function chat(url: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function recordsIn(traceDir: string, sessionId: string): Record<string, unknown>[] {
  return readFileSync(path.join(traceDir, `${sessionId}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('moa-otel serve', () => {
  it('SIGTERM finishes the open turn, refuses new work, flushes traces and exits 0', async () => {
    const setup = await configure({ reply: ANSWER, chunkSize: 6, chunkDelayMs: 80 });
    const served = await serve(setup);
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(served.stdout()).toContain(`traces to ${setup.traceDir} and ${receiver!.url}/v1/traces`);
    // The preset whose key is missing is named once; the others are served.
    expect(served.stderr()).toMatch(/warning: preset "pricey" cannot run: .*PAID_API_KEY/);

    const models = await (await fetch(`${served.url}/models`)).json() as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['moa', 'moa/duo', 'moa/pricey']);

    const response = chat(served.url, { model: 'moa/duo', messages: [{ role: 'user', content: 'slow please' }], stream: true, user: 'serve-drain' });
    await waitFor('the aggregator to start streaming', () => upstream!.requests.find((r) => r.model === 'aggregator')?.sentChunks.length);
    child!.kill('SIGTERM');
    await waitFor('the drain notice', () => served.stderr().includes('finishing 1 open turn(s)'));
    const before = upstream!.requests.length;
    // Refused: no new connection is accepted, and a kept-alive one gets a 503 and is closed.
    const late = await chat(served.url, { model: 'moa', messages: [{ role: 'user', content: 'late' }] }).then((r) => r.status, () => 'refused');
    expect(['refused', 503]).toContain(late);
    expect(upstream!.requests.length).toBe(before);

    const res = await response;
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const streamed = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '').join('');
    expect(streamed).toBe(ANSWER);
    expect(await served.exit).toBe(0);
    expect(served.stderr()).toContain('stopped');

    const [record] = recordsIn(setup.traceDir, 'serve-drain');
    expect(record).toMatchObject({ session_id: 'serve-drain', preset: 'duo', aggregator: { output: ANSWER, streamed: true } });
    // The OTLP batch was flushed on the way out.
    const root = receiver!.spans().find((s) => s.traceId === record?.trace_id && s.name.startsWith('invoke_workflow moa'));
    expect(root && attr(root, 'moa.session_id')).toBe('serve-drain');
    expect(receiver!.spans().filter((s) => s.traceId === record?.trace_id)).toHaveLength(4);
  });

  it('a second SIGTERM aborts the open turn: the caller gets a 503, the turn is recorded, exit 0', async () => {
    const setup = await configure({ hang: true });
    const served = await serve(setup);
    const response = chat(served.url, { model: 'moa', messages: [{ role: 'user', content: 'never answered' }], metadata: { session_id: 'serve-abort' } });
    await waitFor('the aggregator call', () => upstream!.requests.some((r) => r.model === 'aggregator'));
    child!.kill('SIGTERM');
    await waitFor('the drain notice', () => served.stderr().includes('finishing 1 open turn(s)'));
    child!.kill('SIGTERM');
    const res = await response;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'shutting_down', type: 'server_error' } });
    expect(await served.exit).toBe(0);
    const [record] = recordsIn(setup.traceDir, 'serve-abort');
    expect(record).toMatchObject({ session_id: 'serve-abort', aggregator: { output: null, error: expect.any(String) } });
  });

  it('prints the OTLP URL without its user info and query (either may hold a credential)', async () => {
    const setup = await configure({ reply: ANSWER }, (url) => `${url.replace('://', '://collector:s3cr3t-pw@')}/v1/traces?token=tok-123456`);
    const served = await serve(setup);
    expect(served.stdout()).toContain(`traces to ${setup.traceDir} and ${receiver!.url}/v1/traces\n`);
    expect(served.stdout() + served.stderr()).not.toMatch(/s3cr3t-pw|tok-123456|collector:/);
    child!.kill('SIGTERM');
    expect(await served.exit).toBe(0);
  });

  it('bad setups are one line and exit 2, before anything listens', async () => {
    const setup = await configure({ reply: ANSWER });
    const run = async (args: string[], env: Record<string, string> = {}) => {
      let stdout = '';
      let stderr = '';
      const sink = (append: (text: string) => void) => new Writable({ write(chunk: Buffer, _enc, done) { append(chunk.toString()); done(); } });
      const code = await runCli(['serve', ...args], {
        stdout: sink((t) => { stdout += t; }), stderr: sink((t) => { stderr += t; }), env: { MOA_HOME: setup.home, ...env }, cwd: ROOT,
      });
      return { code, stdout, stderr };
    };
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--host', '0.0.0.0'], {}, /refusing to listen on 0\.0\.0\.0 without a token.*MOA_GATEWAY_TOKEN/],
      [['--host', '0.0.0.0'], { MOA_GATEWAY_TOKEN: 'short' }, /token is too short/],
      [['--port', 'http'], {}, /--port expects a port number/],
      [['--max-body', 'lots'], {}, /--max-body expects a size/],
      [['--nope'], {}, /Unknown option '--nope'/],
      [[], { MOA_HOME: mkdtempSync(path.join(tmpdir(), 'moa-serve-empty-')) }, /no MoA presets configured/],
    ];
    for (const [args, env, message] of cases) {
      const result = await run(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
    expect(upstream!.requests).toHaveLength(0);
  });
});
