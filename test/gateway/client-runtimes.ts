/**
 * The runtimes the client-library tests need, cached under ~/.cache/moa-otel
 * (never in the repo): Node 24 from `scripts/node-version.sh` for packages
 * that need Node 22+, and a Python venv with the `openai` package from PyPI.
 * Clients run as child processes while the gateway serves them from the test
 * process, so everything here is asynchronous.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CACHE = process.env.MOA_OTEL_CACHE ?? path.join(homedir(), '.cache', 'moa-otel');

/** The Python `openai` release the venv holds; a venv with another one is rebuilt. */
export const PYTHON_OPENAI_VERSION = '3.57.0';

export function node24(): string {
  const found = spawnSync('bash', [path.join(ROOT, 'scripts/node-version.sh'), '24'], { encoding: 'utf8', timeout: 300_000 });
  if (found.status !== 0) throw new Error(`scripts/node-version.sh 24 failed: ${found.stderr}`);
  return found.stdout.trim();
}

/** `~/.cache/moa-otel/venv-openai/bin/python`, created on first use (built aside, then renamed into place). */
export function pythonWithOpenai(): string {
  const venv = path.join(CACHE, 'venv-openai');
  const python = path.join(venv, 'bin', 'python');
  if (existsSync(python) && openaiVersion(python) === PYTHON_OPENAI_VERSION) return python;
  const building = `${venv}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  run('python3', ['-m', 'venv', building]);
  run(path.join(building, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `openai==${PYTHON_OPENAI_VERSION}`]);
  rmSync(venv, { recursive: true, force: true });
  renameSync(building, venv);
  return python;
}

function openaiVersion(python: string): string | undefined {
  const probe = spawnSync(python, ['-c', 'import openai; print(openai.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.error?.message}`);
}

/** Runs a client program to completion and parses the one JSON line it prints. */
export function runClient<T>(command: string, args: string[], timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${path.basename(args[args.length - 2] ?? command)} exited ${code}: ${stderr.slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T);
      } catch {
        reject(new Error(`no JSON result; stdout=${stdout.slice(-2000)} stderr=${stderr.slice(-2000)}`));
      }
    });
  });
}

/** `node24 --import tsx <script>` for a TypeScript client under test/gateway/clients. */
export function tsClientArgs(script: string, input: unknown): string[] {
  return ['--import', 'tsx', path.join(ROOT, 'test/gateway/clients', script), JSON.stringify(input)];
}

export function pyClientArgs(script: string, input: unknown): string[] {
  return [path.join(ROOT, 'test/gateway/clients', script), JSON.stringify(input)];
}
