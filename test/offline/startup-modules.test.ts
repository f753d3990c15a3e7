/**
 * What an offline command loads before reading: given paths, it reads no
 * config file, so the YAML parser (a fifth of its start-up) stays unloaded;
 * reading a config file still loads and uses it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { oursLine } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs the CLI in a fresh process; its exit code and whether the `yaml` package got loaded. */
function runFresh(args: string[], home: string): { code: number; yamlLoaded: boolean } {
  const script = `
    import { createRequire } from 'node:module';
    const { runCli } = await import(${JSON.stringify(MAIN)});
    const sink = { write: () => true };
    const code = await runCli(${JSON.stringify(args)}, { stdout: sink, stderr: sink, env: { MOA_HOME: ${JSON.stringify(home)} }, cwd: process.cwd() });
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((file) => /[\\\\/]node_modules[\\\\/]yaml[\\\\/]/.test(file));
    process.stdout.write(JSON.stringify({ code, yamlLoaded: loaded }));
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as { code: number; yamlLoaded: boolean };
}

describe('offline start-up', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads no YAML parser for a command given paths, and one to read a config file', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'moa-startup-'));
    const traces = path.join(dir, 'traces');
    const file = path.join(dir, 's.jsonl');
    writeFileSync(file, `${oursLine()}\n`);
    expect(runFresh(['validate', file], path.join(dir, 'no-home'))).toEqual({ code: 0, yamlLoaded: false });
    // No paths: the trace directory comes from the config file, which is YAML.
    mkdirSync(traces);
    writeFileSync(path.join(traces, 's.jsonl'), `${oursLine()}\n`);
    writeFileSync(path.join(dir, 'config.yaml'), `moa:\n  trace_dir: ${JSON.stringify(traces)}\n`);
    expect(runFresh(['ls'], dir)).toEqual({ code: 0, yamlLoaded: true });
  });
});
