import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MoaConfigError, resolveConfig } from '../../src/config/load.js';
import { expandPath, resolveHome, resolveTraceDir } from '../../src/config/paths.js';
import { otlpWanted } from '../../src/setup/processors.js';

function homeWith(yaml: string): string {
  const home = mkdtempSync(path.join(tmpdir(), 'moa-home-'));
  writeFileSync(path.join(home, 'config.yaml'), yaml);
  return home;
}

describe('configuration', () => {
  it('has safe defaults: nothing saved, nothing exported', () => {
    const c = resolveConfig({}, { env: {}, ignoreConfigFile: true });
    expect(c.save_traces).toBe(false);
    expect(c.trace_cache_hits).toBe(false);
    expect(c.fanout).toBe('user_turn');
    expect(otlpWanted(c, {})).toBe(false);
  });

  it('takes code over environment over config file', () => {
    const home = homeWith('moa:\n  save_traces: true\n  trace_dir: /from/file\n  fanout: per_iteration\n  trace_cache_hits: true\n');
    const env = { MOA_HOME: home, MOA_TRACE_DIR: '/from/env' };
    const c = resolveConfig({ fanout: 'every_n:3' }, { env });
    expect(c.save_traces).toBe(true); // file
    expect(c.trace_dir).toBe('/from/env'); // env over file
    expect(c.fanout).toBe('every_n:3'); // code over both
    expect(c.trace_cache_hits).toBe(true);
  });

  it('reads presets and providers from the file and accepts camelCase from code', () => {
    const home = homeWith([
      'moa:',
      '  providers:',
      '    local: { base_url: "http://127.0.0.1:9/v1", api_key_env: LOCAL_KEY }',
      '  presets:',
      '    duo:',
      '      references: [{ provider: local, model: a }, { provider: local, model: b, temperature: 0.2 }]',
      '      aggregator: { provider: local, model: c }',
    ].join('\n'));
    const c = resolveConfig({ providers: { extra: { baseURL: 'http://127.0.0.1:8/v1', apiKeyEnv: 'X' } }, saveTraces: 'false' }, { env: { MOA_HOME: home } });
    expect(c.presets.duo?.references).toHaveLength(2);
    expect(c.providers.local?.api_key_env).toBe('LOCAL_KEY');
    expect(c.providers.extra?.base_url).toBe('http://127.0.0.1:8/v1');
    expect(c.save_traces).toBe(false);
  });

  it('treats booleans strictly', () => {
    for (const [value, expected] of [['false', false], ['FALSE', false], ['0', false], ['no', false], ['true', true], ['on', true]] as const) {
      expect(resolveConfig({}, { env: { MOA_SAVE_TRACES: value }, ignoreConfigFile: true }).save_traces).toBe(expected);
    }
    expect(() => resolveConfig({}, { env: { MOA_SAVE_TRACES: 'fals' }, ignoreConfigFile: true })).toThrow(MoaConfigError);
  });

  it('fails with one line naming the key, the source and what was expected', () => {
    const cases: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
      [{ save_traces: 'maybe' }, {}, /^moa config: save_traces \(from options\): expected a boolean.*got "maybe"$/],
      [{}, { MOA_FANOUT: 'sometimes' }, /^moa config: fanout \(from environment variable MOA_FANOUT\): expected user_turn, per_iteration or every_n:N/],
      [{ otlp: { endpoint: 'not a url' } }, {}, /^moa config: otlp\.endpoint \(from options\): expected an http\(s\) URL/],
      [{ colour: 'blue' }, {}, /^moa config: unknown key colour/],
      [{ presets: { p: { references: [{ provider: 'x' }], aggregator: { provider: 'x', model: 'y' } } } }, {}, /^moa config: presets\.p\.references\.0\.model: expected string/],
    ];
    for (const [options, env, pattern] of cases) {
      let message = '';
      try { resolveConfig(options, { env, ignoreConfigFile: true }); } catch (err) { message = (err as Error).message; }
      expect(message).toMatch(pattern);
      expect(message).not.toContain('\n');
    }
  });

  it('names the file for a bad value there, and for broken YAML', () => {
    const home = homeWith('moa:\n  trace_cache_hits: perhaps\n');
    expect(() => resolveConfig({}, { env: { MOA_HOME: home } })).toThrow(new RegExp(`trace_cache_hits \\(from ${home}/config.yaml\\)`));
    const broken = homeWith('moa: [unclosed\n');
    expect(() => resolveConfig({}, { env: { MOA_HOME: broken } })).toThrow(/invalid YAML/);
  });

  it('honours the standard OTEL variables', () => {
    const c = resolveConfig({}, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-key=abc,x-team=a%20b', OTEL_SERVICE_NAME: 'agent' }, ignoreConfigFile: true });
    expect(c.otlp.endpoint).toBe('http://collector:4318/v1/traces');
    expect(c.otlp.headers).toEqual({ 'x-key': 'abc', 'x-team': 'a b' });
    expect(c.service_name).toBe('agent');
    expect(otlpWanted(c, {})).toBe(true);
    expect(otlpWanted(c, { OTEL_SDK_DISABLED: 'true' })).toBe(false);
    const specific = resolveConfig({}, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:2/custom' }, ignoreConfigFile: true });
    expect(specific.otlp.endpoint).toBe('http://b:2/custom');
    const off = resolveConfig({ otlp: { enabled: false } }, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1' }, ignoreConfigFile: true });
    expect(otlpWanted(off, {})).toBe(false);
  });
});

describe('paths', () => {
  it('resolves home from MOA_HOME, HERMES_HOME, then ~/.hermes, with profiles', () => {
    expect(resolveHome({ MOA_HOME: '/m', HERMES_HOME: '/h' })).toBe('/m');
    expect(resolveHome({ HERMES_HOME: '/h' })).toBe('/h');
    expect(resolveHome({})).toBe(path.join(homedir(), '.hermes'));
    expect(resolveHome({ MOA_HOME: '/m' }, 'work')).toBe('/m/profiles/work');
    expect(resolveTraceDir(undefined, { HERMES_HOME: '/h' })).toBe('/h/moa-traces');
  });

  it('expands ~, $VAR and ${VAR} in trace_dir', () => {
    const env = { BASE: '/data', WHO: 'ann' };
    expect(expandPath('~/traces', env)).toBe(path.join(homedir(), 'traces'));
    expect(expandPath('$BASE/${WHO}/t', env)).toBe('/data/ann/t');
    expect(resolveTraceDir('${BASE}/x', env)).toBe('/data/x');
  });
});

describe('error sources', () => {
  it('blames the layer that holds an unknown key (code; the shared file\'s own keys are ignored), and never echoes a credential', () => {
    const home = homeWith('moa:\n  colour: blue\n');
    const notices: string[] = [];
    expect(resolveConfig({ save_traces: true }, { env: { MOA_HOME: home }, notice: (l) => notices.push(l) }).save_traces).toBe(true);
    expect(notices).toEqual([`moa-otel: ${home}/config.yaml: ignored keys moa-otel does not use (section moa:): colour`]);
    expect(() => resolveConfig({ colour: 'blue' } as never, { env: { MOA_HOME: home }, notice: () => {} })).toThrow(/^moa config: unknown key colour \(from options\)/);
    let message = '';
    try {
      resolveConfig({ providers: { p: { base_url: 'http://127.0.0.1:1/v1', api_key: 12345678 as unknown as string } } }, { env: {}, ignoreConfigFile: true });
    } catch (err) { message = (err as Error).message; }
    expect(message).toMatch(/^moa config: providers\.p\.api_key \(from options\): expected string/);
    expect(message).not.toContain('12345678');
  });
});
