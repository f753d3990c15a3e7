/**
 * The configs the original agent ships and documents (`test/fixtures/hermes/`),
 * each as `HERMES_HOME/config.yaml`, run here the way the original runs them:
 * its default config, its docs' presets, a fuller file with its own provider
 * sections and `${VAR}`s, and one-key variants its normaliser repairs.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { createMoaClient } from '../../src/client/client.js';
import { presetProblems } from '../../src/gateway/models.js';
import { resolveConfig } from '../../src/config/load.js';
import type { MoaConfig } from '../../src/config/schema.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { turnRecordSchema } from '../../src/record/schema.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { captureIo } from '../offline/fixtures.js';
import { scriptedServer } from './helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/hermes');

function homeWith(fixture: string): string {
  const home = mkdtempSync(path.join(tmpdir(), 'hermes-fixture-'));
  copyFileSync(path.join(FIXTURES, fixture), path.join(home, 'config.yaml'));
  return home;
}

async function cli(env: Record<string, string>, ...argv: string[]) {
  // MOA_HOME would win over HERMES_HOME: it names the same home here.
  const cap = captureIo({ ...env, ...(env.HERMES_HOME ? { MOA_HOME: env.HERMES_HOME } : {}) });
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

function records(dir: string, sessionId: string) {
  return readFileSync(sessionFilePath(dir, sessionId), 'utf8').trim().split('\n').map((line) => turnRecordSchema.parse(JSON.parse(line)));
}

const slot = (s: { provider: string; model: string }) => `${s.provider}:${s.model}`;

/** Our resolved preset in the original normaliser's terms. */
function hermesView(config: MoaConfig, presetName: string) {
  const preset = config.presets[presetName]!;
  return {
    reference_models: preset.references.map(slot),
    aggregator: slot(preset.aggregator),
    fanout: preset.fanout ?? config.fanout,
    enabled: preset.enabled,
    reference_timeout: preset.reference_timeout ?? null,
    reference_temperature: preset.reference_temperature ?? null,
    reference_tool_result_budget: preset.reference_tool_result_budget ?? config.tool_result_budget,
    privacy_filter: config.privacy_filter,
    default_preset: config.default_preset,
    active_preset: config.active_preset ?? '',
  };
}

interface Variant { set: string; value: unknown; hermes: Record<string, unknown>; notice?: boolean }
const variantsFile = parseYaml(readFileSync(path.join(FIXTURES, 'variants.yaml'), 'utf8')) as { base: Record<string, unknown>; variants: Variant[] };

function withKey(base: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  const keys = dotted.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return copy;
}

describe('one-key variants the original normaliser accepts', () => {
  expect(variantsFile.variants).toHaveLength(32);
  for (const variant of variantsFile.variants) {
    it(`moa.${variant.set}: ${JSON.stringify(variant.value)} → ${JSON.stringify(variant.hermes)}`, () => {
      const home = mkdtempSync(path.join(tmpdir(), 'hermes-variant-'));
      writeFileSync(path.join(home, 'config.yaml'), toYaml({ moa: withKey(variantsFile.base, variant.set, variant.value) }));
      const notices: string[] = [];
      const config = resolveConfig({}, { env: { HERMES_HOME: home }, notice: (line) => notices.push(line) });
      expect(hermesView(config, 'main')).toMatchObject(variant.hermes);
      if (variant.notice === false) {
        expect(notices).toEqual([]);
      } else {
        // One line, naming the key and what was assumed.
        expect(notices).toHaveLength(1);
        expect(notices[0]).toContain(`${home}/config.yaml: moa.${variant.set}`);
      }
    });
  }
});

describe('the fixtures as HERMES_HOME/config.yaml', () => {
  let server: ScriptedServer;
  let traces: string;
  beforeEach(async () => {
    server = await scriptedServer({
      'deepseek/deepseek-v4-pro': { reply: 'Advice from DeepSeek.' },
      'anthropic/claude-opus-4.8': { reply: 'Answer from Opus.' },
      'openai/gpt-5.5': { reply: 'Answer from GPT.' },
    });
    traces = mkdtempSync(path.join(tmpdir(), 'hermes-traces-'));
  });
  afterEach(async () => {
    await server.close();
  });

  const openrouter = () => ({ OPENROUTER_API_KEY: 'sk-or-v1-fixture-key', OPENROUTER_BASE_URL: server.baseURL, MOA_SAVE_TRACES: 'true', MOA_TRACE_DIR: traces });

  it('default config: the signed-in openai-codex reference fails with its reason, the turn goes on', async () => {
    const env = { HERMES_HOME: homeWith('default.yaml'), ...openrouter() };
    const asked = await cli(env, 'ask', 'Review the plan.', '--session', 'hermes-default');
    expect(asked.code, asked.err).toBe(0);
    expect(asked.out).toBe('Answer from Opus.\n');
    expect(asked.err).toContain('moa-otel ask: reference openai-codex:gpt-5.5 will fail: provider "openai-codex" is reached through a ChatGPT sign-in (OAuth), which moa-otel cannot use');
    const [record] = records(traces, 'hermes-default');
    expect(record!.references.map((r) => [r.label, r.output])).toEqual([
      ['openai-codex:gpt-5.5', expect.stringMatching(/^\[failed: .*ChatGPT sign-in \(OAuth\)/)],
      ['openrouter:deepseek/deepseek-v4-pro', 'Advice from DeepSeek.'],
    ]);
    // As the original, the aggregator is told about the failed advisor.
    const guidance = JSON.stringify(server.requests.find((r) => r.model === 'anthropic/claude-opus-4.8')!.messages.at(-1));
    expect(guidance).toContain('openai-codex:gpt-5.5');
    expect(server.requests.map((r) => r.model).sort()).toEqual(['anthropic/claude-opus-4.8', 'deepseek/deepseek-v4-pro']);
  });

  it('docs presets: each resolves as documented; a signed-in-only aggregator refuses with its reason', async () => {
    const env = { HERMES_HOME: homeWith('docs-presets.yaml'), ...openrouter() };
    const config = resolveConfig({}, { env, notice: () => {} });
    expect(Object.keys(config.presets)).toEqual(['default', 'fresh', 'cadence', 'deep_review']);
    expect(config.presets.fresh!.fanout).toBe('per_iteration');
    expect(config.presets.cadence!.fanout).toBe('every_n:3');
    expect(config.presets.deep_review!.references.map((r) => r.reasoning)).toEqual(['low', 'xhigh', undefined]);
    expect(config.presets.deep_review!.aggregator.reasoning).toBe('high');
    expect(config.privacy_filter).toBe('display');

    // What `moa-otel serve` warns about: a preset that cannot run, and references that will fail in one that can.
    expect(presetProblems(createMoaClient({ env, notice: () => {} }))).toEqual([
      { preset: 'default', reference: 'openai-codex:gpt-5.5', reason: expect.stringMatching(/^provider "openai-codex" is reached through a ChatGPT sign-in/) },
      { preset: 'deep_review', reason: expect.stringMatching(/^provider "openai-codex" is reached through a ChatGPT sign-in/) },
    ]);
    const fresh = await cli(env, 'ask', 'Go.', '--preset', 'fresh', '--session', 'hermes-fresh');
    expect(fresh.code, fresh.err).toBe(0);
    expect(fresh.out).toBe('Answer from GPT.\n');
    const deep = await cli(env, 'ask', 'Go.', '--preset', 'deep_review');
    expect(deep.code).toBe(2);
    expect(deep.err).toMatch(/^moa-otel ask: provider "openai-codex" is reached through a ChatGPT sign-in \(OAuth\), which moa-otel cannot use; to call it, define "openai-codex" under providers: with a base_url and an api_key\n$/);
  });

  it('a fuller file: providers:, custom_providers:, custom, ${VAR}s, known providers, Responses API, failed references', async () => {
    for (const model of ['proxy-model', 'vllm-model', 'house-model', 'deepseek-ai/DeepSeek-V4-Flash', 'trinity-large', 'gpt-5.5']) {
      server.setModel(model, { reply: `advice from ${model}` });
    }
    server.setModel('agg-model', { reply: 'the team answer' });
    const home = homeWith('fuller.yaml');
    const env = {
      HERMES_HOME: home, MOA_TRACE_DIR: traces, MOA_AGG_MODEL: 'agg-model',
      MOA_CUSTOM_URL: server.baseURL, MOA_CUSTOM_KEY: 'key-custom',
      MOA_PROXY_URL: server.baseURL, MY_PROXY_KEY: 'key-proxy',
      MOA_CODEX_URL: server.baseURL, MOA_CODEX_KEY: 'key-codex',
      MOA_VLLM_URL: server.baseURL,
      DEEPINFRA_API_KEY: 'key-deepinfra', DEEPINFRA_BASE_URL: server.baseURL,
      ARCEEAI_API_KEY: 'key-arcee', ARCEE_BASE_URL: server.baseURL,
    };
    const notices: string[] = [];
    const config = resolveConfig({}, { env, notice: (line) => notices.push(line.replace(`moa-otel: ${home}/config.yaml: `, '')) });
    expect(Object.keys(config.providers).sort()).toEqual(['custom', 'custom:local-vllm', 'my-proxy', 'openai-codex']);
    expect(config.trace_dir).toBe(traces);
    expect(config.presets.team!.aggregator.model).toBe('agg-model');
    expect(notices).toEqual([
      'moa.presets.team.reference_timeout: 0 means "inherit": reference_timeout_ms applies, as the original inherits its default timeout',
      'moa.presets.team.fanout: "USER_TURN" is read as user_turn, as the original does',
      'providers.not-set: base_url names a variable that is not set (${MOA_NEVER_SET_URL}); left out',
    ]);

    const asked = await cli(env, 'ask', 'Plan the release.', '--session', 'hermes-fuller', '--json');
    expect(asked.code, asked.err).toBe(0);
    expect(JSON.parse(asked.out).answer).toBe('the team answer');
    expect(asked.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^moa-otel ask: reference xai-oauth:grok-4\.5 will fail: provider "xai-oauth" is reached through an xAI Grok sign-in \(OAuth\)/),
      expect.stringMatching(/^moa-otel ask: reference nowhere:ghost will fail: unknown provider "nowhere"/),
    ]);
    const byModel = (model: string) => server.requests.find((r) => r.model === model)!;
    // openai-codex speaks the Responses API: called there, with its key.
    expect(byModel('gpt-5.5').endpoint).toBe('responses');
    expect(byModel('gpt-5.5').headers.authorization).toBe('Bearer key-codex');
    expect(byModel('proxy-model').headers.authorization).toBe('Bearer key-proxy');
    expect(byModel('house-model').headers.authorization).toBe('Bearer key-custom');
    expect(byModel('deepseek-ai/DeepSeek-V4-Flash').headers.authorization).toBe('Bearer key-deepinfra');
    expect(byModel('trinity-large').headers.authorization).toBe('Bearer key-arcee');
    expect(byModel('agg-model').endpoint).toBe('chat.completions');

    const [record] = records(traces, 'hermes-fuller');
    expect(record!.references.map((r) => [r.label, r.output?.startsWith('[failed:') ? 'failed' : r.output])).toEqual([
      ['my-proxy:proxy-model', 'advice from proxy-model'],
      ['custom:local-vllm:vllm-model', 'advice from vllm-model'],
      ['custom:house-model', 'advice from house-model'],
      ['deepinfra:deepseek-ai/DeepSeek-V4-Flash', 'advice from deepseek-ai/DeepSeek-V4-Flash'],
      ['arcee:trinity-large', 'advice from trinity-large'],
      ['openai-codex:gpt-5.5', 'advice from gpt-5.5'],
      ['xai-oauth:grok-4.5', 'failed'],
      ['nowhere:ghost', 'failed'],
    ]);
    const codex = record!.references[5]!;
    expect(codex.usage?.input_tokens).toBeGreaterThan(0);
    expect(record!.aggregator.model).toBe('agg-model');
  });

  it('provider names as the original matches them: any case, and its aliases (claude, grok, hf, …)', async () => {
    server.setModel('claude-x', { reply: 'from claude' });
    server.setModel('grok-x', { reply: 'from grok' });
    const home = mkdtempSync(path.join(tmpdir(), 'hermes-alias-'));
    writeFileSync(path.join(home, 'config.yaml'), toYaml({ moa: { presets: { mixed: {
      reference_models: [{ provider: 'Claude', model: 'claude-x' }, { provider: 'GROK', model: 'grok-x' }],
      aggregator: { provider: 'OpenRouter', model: 'openai/gpt-5.5' },
    } } } }));
    const env = {
      HERMES_HOME: home, ...openrouter(),
      ANTHROPIC_API_KEY: 'key-anthropic', ANTHROPIC_BASE_URL: server.baseURL, XAI_API_KEY: 'key-xai', XAI_BASE_URL: server.baseURL,
    };
    const client = createMoaClient({ env, notice: () => {}, maxRetries: 0 });
    expect(client.preflight().unusableReferences).toEqual([]);
    const answer = await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]!.message.content).toBe('Answer from GPT.');
    const auth = (model: string) => server.requests.find((r) => r.model === model)!.headers.authorization;
    expect([auth('claude-x'), auth('grok-x'), auth('openai/gpt-5.5')]).toEqual(['Bearer key-anthropic', 'Bearer key-xai', 'Bearer sk-or-v1-fixture-key']);
  });

  it('reading commands never depend on presets: ls, validate, stats and show read traces under a rejected preset', async () => {
    const env = { HERMES_HOME: homeWith('default.yaml'), ...openrouter() };
    expect((await cli(env, 'ask', 'Hello?', '--session', 'hermes-read')).code).toBe(0);
    // A value neither the original nor moa-otel accepts: the preset is rejected.
    const file = path.join(env.HERMES_HOME, 'config.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('fanout: user_turn', 'fanout: user_turn\n      reference_max_tokens: -3'));
    const asked = await cli(env, 'ask', 'Hello?');
    expect(asked.code).toBe(2);
    expect(asked.err).toContain('reference_max_tokens');
    for (const argv of [['ls'], ['validate', 'hermes-read'], ['stats'], ['show', 'hermes-read']]) {
      const result = await cli(env, ...argv);
      expect(result.code, `${argv.join(' ')}: ${result.err}`).toBe(0);
    }
  });
});
