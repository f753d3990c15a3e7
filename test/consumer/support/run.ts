/**
 * Child processes of the consumer tier: npm and node of a chosen version,
 * with an environment the test decides (nothing OTEL_* or MOA_* leaks in from
 * the machine running the tests).
 */
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The repo's TypeScript compiler, run against a scratch app's own node_modules. */
export const TSC = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
/** Node's type declarations for the scratch apps' TypeScript (the repo's @types/node). */
export const NODE_TYPE_ROOTS = path.join(REPO_ROOT, 'node_modules/@types');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Stopped because it ran past its time limit. */
  timedOut: boolean;
}

export function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - started, timedOut: error?.killed === true && error.signal === 'SIGTERM' });
    });
  });
}

/** The base environment of a scratch app's processes: a PATH and a HOME, nothing else. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...extra };
}

/** npm's own CLI script, to run npm under a chosen Node binary (as a user of that Node would). */
export function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && fromNpm.endsWith('npm-cli.js')) return fromNpm;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      const target = realpathSync(path.join(dir, 'npm'));
      if (target.endsWith('npm-cli.js')) return target;
    } catch {
      // Not in this PATH entry.
    }
  }
  throw new Error('npm-cli.js not found on PATH');
}

/** The JSON a fixture printed on its `SCENARIO_RESULT` line; throws with the process output when there is none. */
export function scenarioResult<T>(result: RunResult): T {
  const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO_RESULT '));
  if (!line) throw new Error(`no SCENARIO_RESULT (exit ${String(result.code)})\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  return JSON.parse(line.slice('SCENARIO_RESULT '.length)) as T;
}
