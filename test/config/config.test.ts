import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MoaConfigError, resolveConfig } from '../../src/config/load.js';
import { expandPath, resolveHome, resolveTraceDir } from '../../src/config/paths.js';
import { otlpSettings, parseResourceAttributes } from '../../src/config/settings.js';
import type { MoaConfig } from '../../src/config/schema.js';

const otlpWanted = (config: MoaConfig, env: Record<string, string>) => otlpSettings(config, env).enabled;
import { bundleFixture } from '../fixtures/bundle.js';

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

describe('config edges: one line at configuration time', () => {
  it('a FIFO named config.yaml is refused at once instead of hanging every command on its first read', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'moa-fifo-'));
    execFileSync('mkfifo', [path.join(home, 'config.yaml')]);
    // In a child: the old read blocked the whole process, waiting for a writer that never came.
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      import('${path.resolve(import.meta.dirname, '../../src/config/load.ts')}').then(({ resolveConfig }) => {
        try { resolveConfig({}, { env: { MOA_HOME: ${JSON.stringify(home)} } }); console.log('accepted'); }
        catch (err) { console.log(err.message); }
      });`], { encoding: 'utf8', timeout: 20_000 });
    expect(child.signal, 'the read blocked').toBeNull();
    expect(child.stdout.trim()).toMatch(new RegExp(`cannot read ${home}/config\\.yaml: not a regular file$`));
  });

  it('a NUL in trace_dir is refused (every write would fail)', () => {
    expect(configError({ trace_dir: '/tmp/a\0b' })).toMatch(/^moa config: trace_dir \(from options\): a path cannot hold a NUL character/);
    const home = homeWith('moa:\n  trace_dir: "/tmp/x\\0y"\n');
    expect(() => resolveConfig({}, { env: { MOA_HOME: home } })).toThrow(/^moa config: trace_dir \(from .*config\.yaml\): a path cannot hold a NUL character/);
  });

  it("reference_timeout beyond Node's longest timer is refused (it fired after 1 ms: every reference timed out)", () => {
    const preset = (seconds: number) => ({ presets: { p: { references: [{ provider: 'x', model: 'm' }], aggregator: { provider: 'x', model: 'y' }, reference_timeout: seconds } } });
    expect(configError(preset(3_000_000))).toMatch(/^moa config: presets\.p\.reference_timeout \(from options\): expected at most 2147483 seconds/);
    expect(configError(preset(2_147_483))).toBe('');
    expect(configError(preset(30))).toBe('');
  });
});

/** The message of the error `resolveConfig` throws for these options and environment ('' when it accepts them). */
function configError(options: Record<string, unknown>, env: Record<string, string> = {}): string {
  try {
    resolveConfig(options, { env, ignoreConfigFile: true });
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(MoaConfigError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
}

describe('configuration edges', () => {
  it('leaves an unset or empty variable in trace_dir as written, never resolving to / or the current directory', () => {
    const env = { EMPTY: '', BASE: '/data' };
    expect(expandPath('$UNSET/x', env)).toBe('$UNSET/x');
    expect(expandPath('${NOPE}/y', env)).toBe('${NOPE}/y');
    expect(expandPath('$EMPTY/x', env)).toBe('$EMPTY/x');
    expect(resolveTraceDir('$UNSET/x', env)).toBe(path.resolve('$UNSET/x'));
    expect(resolveTraceDir('$EMPTY', env)).toBe(path.resolve('$EMPTY'));
    expect(resolveTraceDir('$UNSET/x', env)).not.toBe('/x');
    // A `~` that a value brings in is not the user's home.
    expect(expandPath('$T/x', { T: '~/t' })).toBe('~/t/x');
    expect(expandPath('$BASE/$UNSET', env)).toBe('/data/$UNSET');
  });

  it('expands ~user to that user\'s home, and leaves an unknown user as written', () => {
    const rootHome = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('root:'))?.split(':')[5];
    expect(rootHome).toBeTruthy();
    expect(expandPath('~root/traces', {})).toBe(path.join(rootHome as string, 'traces'));
    expect(expandPath('~root', {})).toBe(rootHome);
    expect(expandPath('~no-such-user-4711/traces', {})).toBe('~no-such-user-4711/traces');
  });

  it('bounds timeouts to what a Node.js timer can wait', () => {
    expect(configError({ reference_timeout_ms: 2 ** 31 })).toMatch(/^moa config: reference_timeout_ms \(from options\): expected at most 2147483647 ms/);
    expect(configError({}, { MOA_REFERENCE_TIMEOUT_MS: '9999999999' })).toMatch(/^moa config: reference_timeout_ms \(from environment variable MOA_REFERENCE_TIMEOUT_MS\): expected at most/);
    expect(configError({ otlp: { timeout_ms: 2 ** 40 } })).toMatch(/^moa config: otlp\.timeout_ms .*expected at most 2147483647 ms/);
    expect(resolveConfig({ reference_timeout_ms: 2 ** 31 - 1 }, { env: {}, ignoreConfigFile: true }).reference_timeout_ms).toBe(2 ** 31 - 1);
  });

  it('accepts only http(s) URLs for the OTLP endpoint and provider base URLs', () => {
    for (const url of ['ftp://collector:21/v1/traces', 'file:///etc/passwd', 'javascript:alert(1)', 'ws://collector:4318']) {
      expect(configError({ otlp: { endpoint: url } })).toMatch(/^moa config: otlp\.endpoint \(from options\): expected an http\(s\) URL/);
      expect(configError({ providers: { p: { base_url: url } } })).toMatch(/^moa config: providers\.p\.base_url \(from options\): expected an http\(s\) URL/);
    }
    expect(configError({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'file:///tmp/x' })).toMatch(/^moa config: otlp\.endpoint \(from environment\): expected an http\(s\) URL/);
    expect(configError({ otlp: { endpoint: 'https://collector:4318/v1/traces' }, providers: { p: { base_url: 'http://127.0.0.1:1/v1' } } })).toBe('');
    // A URL with a password is never echoed back.
    expect(configError({ otlp: { endpoint: 'ftp://user:hunter2@collector/' } })).not.toContain('hunter2');
  });

  it('refuses header values with CR/LF and bad %-escapes with one line naming the key, never echoing a value', () => {
    const variable = 'OTEL_EXPORTER_OTLP_HEADERS';
    expect(configError({}, { [variable]: 'x-key=%zz-secret' })).toMatch(/^moa config: otlp\.headers \(from environment variable OTEL_EXPORTER_OTLP_HEADERS\): .*malformed %-escape in the value of "x-key"$/);
    expect(configError({}, { [variable]: 'x-key=abc%0D%0AInjected: yes' })).toMatch(/^moa config: otlp\.headers .*the value of header "x-key" holds a line break/);
    expect(configError({ otlp: { headers: { 'x-key': 'abc\r\nInjected: yes' } } })).toMatch(/^moa config: otlp\.headers \(from options\): the value of header "x-key" holds a line break/);
    expect(configError({ otlp: { headers: { 'bad name': 'v' } } })).toMatch(/not a valid HTTP field name/);
    expect(configError({}, { [variable]: 'authorization Bearer sk-live-secret' })).toMatch(/item 1 has no "="/);
    expect(configError({}, { [variable]: 'authorization Bearer sk-live-secret' })).not.toContain('sk-live-secret');
    expect(configError({}, { [variable]: 'x-key=%zz-secret' })).not.toContain('secret');
    // A well-formed list still parses, %-decoded.
    expect(resolveConfig({}, { env: { [variable]: 'a=1, b = x%20y ,' }, ignoreConfigFile: true }).otlp.headers).toEqual({ a: '1', b: 'x y' });
  });

  it('says what a union-typed key expects when the value fits none of its shapes', () => {
    expect(configError({ redact: 5 })).toMatch(/^moa config: redact \(from options\): expected true\/false, a list of regular expressions, or a mapping/);
    expect(configError({}, { MOA_REDACT: 'sometimes' })).toMatch(/^moa config: redact \(from environment variable MOA_REDACT\): expected true\/false, a list of regular expressions/);
    expect(configError({ otlp: { headers: 5 } })).toMatch(/^moa config: otlp\.headers \(from options\): expected a mapping of header names to values, or "name=value,name2=value2"/);
    expect(configError({ otlp: { headers: { a: 5 } } })).toMatch(/^moa config: otlp\.headers\.a \(from options\): expected string/);
    expect(configError({ redact: { emails: 'perhaps' } })).toMatch(/^moa config: redact\.emails \(from options\): expected a boolean/);
    expect(configError({ redact: ['('] })).toMatch(/^moa config: redact\.0 \(from options\): not a valid regular expression/);
  });

  it('accepts any pattern the linear-time engine runs (nested quantifiers too), refuses lookahead and backreferences with one line naming the key', () => {
    for (const pattern of ['(?=x)token', 'a(?!b)', '(ab)\\1']) {
      expect(configError({ redact: ['token-\\d+', pattern] })).toMatch(/^moa config: redact\.1 \(from options\): refused: .*\(RE2 runs in linear time, so it has no lookahead and no backreferences\)$/);
      expect(configError({ redact: { patterns: [pattern] } })).toMatch(/^moa config: redact\.patterns\.0 /);
    }
    // The error never quotes the pattern: it may spell out the secret it hides.
    expect(configError({ redact: ['hunter2(?=x)'] })).not.toContain('hunter2');
    // Shapes a backtracking engine takes exponential time on are harmless on an automaton.
    for (const pattern of ['project-\\d+', '(a+)+', '(.*)*', '(a|a)*b', '(?<=id=)\\d+', '[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}', '.*password']) {
      expect(configError({ redact: [pattern] })).toBe('');
    }
    const home = homeWith('moa:\n  redact: ["a(?!b)"]\n');
    expect(() => resolveConfig({}, { env: { MOA_HOME: home } })).toThrow(new RegExp(`^moa config: redact\\.0 \\(from ${home}/config\\.yaml\\): refused`));
  });

  it('privacy_filter masks phone numbers through the built-in pattern, and redact: { phones } asks for it directly', () => {
    expect(configError({ redact: { phones: true } })).toBe('');
    expect(configError({ redact: { phones: 'maybe' } })).toMatch(/^moa config: redact\.phones \(from options\): expected a boolean/);
  });

  it('reads OTEL_RESOURCE_ATTRIBUTES with the same parser: a bad escape costs only that attribute', () => {
    expect(parseResourceAttributes('a=1,b=%zz,=x,c,d=%41')).toEqual({ a: '1', d: 'A' });
  });

  // Only an unknown user id lacks both; that takes root, to run a child as one.
  it.runIf(process.getuid?.() === 0)('without HOME and without a passwd entry: one line naming HOME, not a SystemError (as root)', async () => {
    // The child runs as another user, who may reach neither this checkout (a private clone) nor a Node binary under /root
    // (the cached Node 24): it runs bundles from a directory open to all, on the system Node when ours is out of reach.
    const config = await bundleFixture(path.resolve(import.meta.dirname, '../fixtures/resolve-config.ts'));
    const cliBundle = await bundleFixture(path.resolve(import.meta.dirname, '../../src/cli/main.ts'));
    try {
      const node = reachableByOthers(process.execPath) ? process.execPath : 'node';
      const asStranger = (args: string[]) => spawnSync(node, args, {
        cwd: path.dirname(config.file), env: { PATH: process.env.PATH ?? '' }, uid: 54321, gid: 54321, encoding: 'utf8', timeout: 30_000,
      });
      const resolved = asStranger([config.file]);
      expect(resolved.stdout, resolved.stderr).toMatch(/^MoaConfigError: moa config: cannot tell the home directory: HOME is not set .*; set HOME or MOA_HOME\n$/);
      const cli = asStranger([cliBundle.file, 'ask', 'hi']);
      expect(cli.status, cli.stderr).toBe(2);
      expect(cli.stderr).toMatch(/^moa-otel ask: moa config: cannot tell the home directory: HOME is not set/);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      config.cleanup();
      cliBundle.cleanup();
    }
  });
});

/** Whether a user other than the owner can run `file`: every directory on its path and the file itself are open to others. */
function reachableByOthers(file: string): boolean {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
  }
  return (statSync(file).mode & 0o001) !== 0;
}
