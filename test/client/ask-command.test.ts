import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { DEFAULT_MODELS, scriptedServer } from './helpers.js';

let server: ScriptedServer | undefined;
afterEach(async () => { await server?.close(); });

function capture() {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString(); cb(); } });
  return { stream, text: () => text };
}

function homeWith(config: string): string {
  const home = mkdtempSync(path.join(tmpdir(), 'moa-ask-'));
  writeFileSync(path.join(home, 'config.yaml'), config);
  return home;
}

async function ask(args: string[], env: Record<string, string>) {
  const out = capture();
  const err = capture();
  const code = await runCli(['ask', ...args], { stdout: out.stream, stderr: err.stream, env, cwd: process.cwd() });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('moa-otel ask', () => {
  it('runs one MoA turn against the configured providers and saves the trace', async () => {
    // One advisor fails echoing the key, as some providers do: it must not reach the file.
    server = await scriptedServer({
      ...DEFAULT_MODELS,
      'advisor-b': { failStatus: 401, failMessage: 'Incorrect API key provided: sk-test-secret-123' },
    });
    const traces = mkdtempSync(path.join(tmpdir(), 'moa-ask-traces-'));
    const home = homeWith([
      'moa:',
      '  save_traces: true',
      `  trace_dir: ${traces}`,
      '  providers:',
      `    local: { base_url: "${server.baseURL}", api_key_env: LOCAL_KEY }`,
      '  presets:',
      '    duo:',
      '      references: [{ provider: local, model: advisor-a }, { provider: local, model: advisor-b }]',
      '      aggregator: { provider: local, model: aggregator }',
    ].join('\n'));
    const result = await ask(['Is it raining?', '--preset', 'duo', '--session', 'ask-test'], { MOA_HOME: home, LOCAL_KEY: 'sk-test-secret-123' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Final answer from the aggregator.\n');
    const file = path.join(traces, 'ask-test.jsonl');
    expect(result.stderr).toContain(file);
    const text = readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain('sk-test-secret-123');
    expect(server.requests.filter((r) => r.model.startsWith('advisor'))).toHaveLength(2);
  });

  it('streams with --stream', async () => {
    server = await scriptedServer();
    const home = soloPresetHome(server.baseURL);
    const result = await ask(['hi', '--stream'], { MOA_HOME: home });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Final answer from the aggregator.\n');
    expect(server.requests.find((r) => r.model === 'aggregator')?.stream).toBe(true);
  });

  it('--json prints one object; an unknown --preset is one clear line', async () => {
    server = await scriptedServer();
    const home = soloPresetHome(server.baseURL);
    const ok = await ask(['hi', '--json', '--session', 's1'], { MOA_HOME: home });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ answer: 'Final answer from the aggregator.', sessionId: 's1', sessionFile: null });
    const bad = await ask(['hi', '--preset', 'nope'], { MOA_HOME: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no preset named "nope" (presets: solo)');
  });

  it('without a needed key: one line naming the variable, exit code 2, no call made', async () => {
    server = await scriptedServer();
    const home = homeWith([
      'moa:',
      `  providers: { local: { base_url: "${server.baseURL}" }, paid: { base_url: "${server.baseURL}", api_key_env: PAID_API_KEY } }`,
      '  presets:',
      '    mix: { references: [{ provider: local, model: advisor-a }], aggregator: { provider: paid, model: aggregator } }',
    ].join('\n'));
    const result = await ask(['hi'], { MOA_HOME: home });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('PAID_API_KEY');
    expect(server.requests).toHaveLength(0);
  });
});

describe('moa-otel ask never prints an API key', () => {
  // Providers answer a bad key with a 401 that echoes it; this one echoes the whole Authorization header.
  const ECHO_AUTHORIZATION = { failStatus: 401, failMessage: (r: { headers: Record<string, unknown> }) => `Incorrect API key provided: ${String(r.headers.authorization)}` };
  const KEY = 'sk-ask-echo-0123456789abcdef';
  const OTHER_KEY = 'other-provider-key-9876543210';

  function echoHome(baseURL: string): string {
    return homeWith([
      'moa:',
      '  providers:',
      `    local: { base_url: "${baseURL}", api_key_env: LOCAL_KEY }`,
      `    other: { base_url: "${baseURL}", api_key: "${OTHER_KEY}" }`,
      '  presets:',
      '    solo: { references: [{ provider: other, model: advisor-a }], aggregator: { provider: local, model: aggregator } }',
    ].join('\n'));
  }

  for (const stream of [false, true]) {
    it(`masks a key the aggregator's 401 echoes${stream ? ' (--stream)' : ''}`, async () => {
      server = await scriptedServer({ ...DEFAULT_MODELS, aggregator: ECHO_AUTHORIZATION });
      const result = await ask(['hi', ...(stream ? ['--stream'] : [])], { MOA_HOME: echoHome(server.baseURL), LOCAL_KEY: KEY });
      // The server did receive the key and echo it: the masking is what keeps it off the terminal.
      expect(server.requests.find((r) => r.model === 'aggregator')?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('401');
      expect(result.stderr).toContain('Bearer [REDACTED]');
      expect(result.stderr + result.stdout).not.toContain(KEY);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it("masks every configured key, not only the failing provider's", async () => {
    server = await scriptedServer({ ...DEFAULT_MODELS, aggregator: { failStatus: 403, failMessage: `upstream rejected key ${OTHER_KEY}` } });
    const result = await ask(['hi'], { MOA_HOME: echoHome(server.baseURL), LOCAL_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('upstream rejected key [REDACTED]');
    expect(result.stderr).not.toContain(OTHER_KEY);
  });
});

describe('moa-otel ask under redact: true', () => {
  it("masks the secret shapes a provider's error text quotes from the prompt, as the gateway does", async () => {
    const quoted = 'ann@example.com ghp_abcdefghijklmnopqrstuvwxyz0123456789 AKIAIOSFODNN7EXAMPLE';
    server = await scriptedServer({ ...DEFAULT_MODELS, aggregator: { failStatus: 400, failMessage: `cannot process the message: "${quoted}"` } });
    const home = homeWith([
      'moa:',
      '  redact: true',
      `  providers: { local: { base_url: "${server.baseURL}" } }`,
      '  presets:',
      '    solo: { references: [{ provider: local, model: advisor-a }], aggregator: { provider: local, model: aggregator } }',
    ].join('\n'));
    const result = await ask([`my details: ${quoted}`], { MOA_HOME: home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^moa-otel ask: the aggregator call failed: .*400.*cannot process the message: "\[REDACTED\] \[REDACTED\] \[REDACTED\]"\n$/);
  });
});

/** A MoA home whose config has one local provider and a one-reference preset `solo`. */
function soloPresetHome(baseURL: string): string {
  return homeWith([
    'moa:',
    `  providers: { local: { base_url: "${baseURL}" } }`,
    '  presets:',
    '    solo: { references: [{ provider: local, model: advisor-a }], aggregator: { provider: local, model: aggregator } }',
  ].join('\n'));
}
