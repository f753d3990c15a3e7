/**
 * A HERMES_HOME as the original agent writes it works unchanged: its `moa:`
 * keys and shapes, providers it names resolved from the environment, its
 * own keys ignored with one notice, through setup, the client and the CLI.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMoaClient } from '../../src/client/client.js';
import { runCli } from '../../src/cli/main.js';
import { resolveConfig } from '../../src/config/load.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { turnRecordSchema } from '../../src/record/schema.js';
import { setupMoaTracing } from '../../src/setup/setup.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { captureIo } from '../offline/fixtures.js';
import { scriptedServer } from './helpers.js';

const REFERENCE = 'deepseek/deepseek-v4-pro';
const AGGREGATOR = 'anthropic/claude-opus-4.8';

/** Written the way the original's docs and tests write the section (our own text, their keys and shapes). */
function hermesConfig(traceDir: string, extra = ''): string {
  return `model:
  default: review
  provider: moa
terminal:
  backend: local
moa:
  default_preset: review
  active_preset: ""
  privacy_filter: ""
  save_traces: true
  trace_dir: ${traceDir}
  presets:
    review:
      enabled: true
      reference_models:
        - provider: openrouter
          model: ${REFERENCE}
          reasoning_effort: HIGH
        - provider: openai
          model: gpt-5.5
          enabled: false
        - provider: moa
          model: default
      aggregator:
        provider: openrouter
        model: ${AGGREGATOR}
      reference_temperature: 0.6
      aggregator_temperature: 0.4
      reference_timeout: 90
      degraded_reference_policy: loud
      max_tokens: 4096
      reference_max_tokens: 600
      fanout:
        mode: every_n
        n: 3
    solo:
      enabled: false
      reference_models: []
      aggregator:
        provider: openrouter
        model: ${AGGREGATOR}
      fanout: user_turn
${extra}`;
}

let server: ScriptedServer;
let home: string;
let traceDir: string;
let env: Record<string, string>;
const notices: string[] = [];

beforeEach(async () => {
  server = await scriptedServer({
    [REFERENCE]: { reply: 'Check the config first.' },
    [AGGREGATOR]: { reply: 'Here is the answer.' },
  });
  home = mkdtempSync(path.join(tmpdir(), 'hermes-home-'));
  traceDir = path.join(home, 'moa-traces');
  writeFileSync(path.join(home, 'config.yaml'), hermesConfig(traceDir));
  // No providers: section — openrouter resolves from the environment, as the original does.
  env = { HERMES_HOME: home, OPENROUTER_API_KEY: 'sk-or-v1-test-key-0123456789', OPENROUTER_BASE_URL: server.baseURL };
  notices.length = 0;
});
afterEach(async () => {
  await server.close();
});

const records = (sessionId: string) => readFileSync(sessionFilePath(traceDir, sessionId), 'utf8').trim().split('\n')
  .map((line) => turnRecordSchema.parse(JSON.parse(line)));

describe('a HERMES_HOME written by the original agent', () => {
  it('resolves its keys and shapes, ignoring the ones moa-otel does not use with one notice', () => {
    const config = resolveConfig({}, { env, notice: (line) => notices.push(line) });
    const review = config.presets.review!;
    expect(review.references.map((r) => [r.provider, r.model, r.enabled, r.reasoning])).toEqual([
      ['openrouter', REFERENCE, true, 'high'], ['openai', 'gpt-5.5', false, undefined], ['moa', 'default', true, undefined],
    ]);
    expect(review.fanout).toBe('every_n:3');
    expect([review.reference_temperature, review.aggregator_temperature, review.reference_timeout, review.reference_max_tokens]).toEqual([0.6, 0.4, 90, 600]);
    expect(config.presets.solo!.enabled).toBe(false);
    expect(config.default_preset).toBe('review');
    expect(config.save_traces).toBe(true);
    // The original gives an empty reference list its default references (unused here: the preset is disabled).
    expect(config.presets.solo!.references.map((s) => `${s.provider}:${s.model}`)).toEqual(['openai-codex:gpt-5.5', 'openrouter:deepseek/deepseek-v4-pro']);
    expect(notices).toEqual([
      `moa-otel: ${home}/config.yaml: moa.presets.solo.reference_models: no complete reference slot; the original's default references are used (openai-codex:gpt-5.5, openrouter:deepseek/deepseek-v4-pro)`,
      `moa-otel: ${home}/config.yaml: ignored keys moa-otel does not use (section moa:): presets.review.degraded_reference_policy, presets.review.max_tokens`,
    ]);
  });

  it('runs a turn through setupMoaTracing() and createMoaClient() with the original\'s semantics', async () => {
    const tracing = setupMoaTracing({}, { env, notice: () => {} });
    const client = createMoaClient({ instrumentation: tracing.instrumentation, env, sessionId: 'hermes-1', notice: (l) => notices.push(l) });
    const response = await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'Review my plan.' }] });
    await tracing.shutdown();
    expect(response.choices[0]!.message.content).toBe('Here is the answer.');

    // The disabled slot is left out, the moa slot is skipped: one reference request.
    const refs = server.requests.filter((r) => r.model === REFERENCE);
    expect(refs).toHaveLength(1);
    expect(refs[0]!.body).toMatchObject({ temperature: 0.6, max_tokens: 600, reasoning_effort: 'high' });
    expect(refs[0]!.headers.authorization).toBe('Bearer sk-or-v1-test-key-0123456789');
    const agg = server.requests.find((r) => r.model === AGGREGATOR)!;
    expect(agg.body.temperature).toBe(0.4);
    const guidance = String(agg.messages.at(-1)!.content);
    expect(guidance).toContain('Check the config first.');
    expect(guidance).toContain('moa:default (skipped: MoA presets cannot recursively reference MoA)');

    const [record] = records('hermes-1');
    expect(record!.references.map((r) => r.output)).toEqual(['Check the config first.', '[skipped: MoA presets cannot recursively reference MoA]']);
    expect(record!.fanout).toBe('every_n:3');
    expect(response.moa.calls.map((c) => [c.role, c.error])).toEqual([
      ['reference', null], ['reference', 'skipped: MoA presets cannot recursively reference MoA'], ['aggregator', null],
    ]);
  });

  it('a disabled preset is the aggregator alone: no fan-out, no guidance, a record with references: [] each time', async () => {
    const tracing = setupMoaTracing({}, { env, notice: () => {} });
    const client = createMoaClient({ instrumentation: tracing.instrumentation, env, sessionId: 'hermes-solo', notice: () => {} });
    const messages = [{ role: 'user' as const, content: 'Just answer.' }];
    await client.chat.completions.create({ model: 'solo', messages });
    await client.chat.completions.create({ model: 'solo', messages });
    await tracing.shutdown();
    expect(server.requests.map((r) => r.model)).toEqual([AGGREGATOR, AGGREGATOR]);
    expect(server.requests[0]!.messages).toEqual(messages);
    const written = records('hermes-solo');
    expect(written).toHaveLength(2);
    for (const record of written) {
      expect(record.references).toEqual([]);
      expect(record.cache).toBe('miss');
    }
  });

  it('active_preset, when it names a preset, is what model "moa" means', async () => {
    writeFileSync(path.join(home, 'config.yaml'), hermesConfig(traceDir).replace('active_preset: ""', 'active_preset: solo'));
    const client = createMoaClient({ env, notice: () => {} });
    expect(client.resolvePreset('moa').name).toBe('solo');
    expect(client.resolvePreset('review').name).toBe('review');
  });

  it('privacy_filter masks e-mail addresses and phone numbers in the record; full also in the guidance', async () => {
    writeFileSync(path.join(home, 'config.yaml'), hermesConfig(traceDir).replace('privacy_filter: ""', 'privacy_filter: full'));
    server.setModel(REFERENCE, { reply: 'Mail ann@example.com or call 555-123-4567 about v1.2.3.' });
    const tracing = setupMoaTracing({}, { env, notice: () => {} });
    const client = createMoaClient({ instrumentation: tracing.instrumentation, env, sessionId: 'hermes-pii', notice: () => {} });
    await client.chat.completions.create({ model: 'review', messages: [{ role: 'user', content: 'I am bob@example.org' }] });
    await tracing.shutdown();
    const line = readFileSync(sessionFilePath(traceDir, 'hermes-pii'), 'utf8');
    expect(line).not.toMatch(/ann@example\.com|bob@example\.org|555-123-4567/);
    expect(line).toContain('v1.2.3');
    const guidance = String(server.requests.find((r) => r.model === AGGREGATOR)!.messages.at(-1)!.content);
    expect(guidance).toContain('Mail [REDACTED] or call [REDACTED] about v1.2.3.');
  });

  it('a provider the original names but no key is set for fails with the variable to set', () => {
    const client = createMoaClient({ env: { HERMES_HOME: home }, notice: () => {} });
    expect(() => client.preflight('review')).toThrow(/provider "openrouter" needs an API key: set OPENROUTER_API_KEY/);
  });

  it('the CLI reads it: ls, stats, show and ask succeed', async () => {
    const run = async (...argv: string[]) => {
      // captureIo points MOA_HOME elsewhere by default; here it names the same hermes home.
      const cap = captureIo({ ...env, MOA_HOME: home });
      const code = await runCli(argv, cap.io);
      return { code, out: cap.out, err: cap.err };
    };
    const asked = await run('ask', 'Review my plan.', '--session', 'hermes-cli');
    expect(asked.err, asked.err).not.toMatch(/moa config/);
    expect(asked.code, asked.err).toBe(0);
    expect(asked.out).toBe('Here is the answer.\n');
    for (const [argv, shown] of [[['ls'], 'hermes-cli'], [['stats'], AGGREGATOR], [['show', 'hermes-cli'], REFERENCE]] as const) {
      const result = await run(...argv);
      expect(result.code, `${argv.join(' ')}: ${result.err}`).toBe(0);
      expect(result.out).toContain(shown);
    }
  });
});
