/**
 * Global setup of the end-to-end tier: make sure the collector and Jaeger
 * binaries (scripts/stack.sh build) and the Phoenix venv (scripts/phoenix.sh
 * install) exist — both reuse what is cached, else build or install it,
 * minutes on a fresh machine — and hand their paths to the tests.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    otelcolBin: string;
    jaegerBin: string;
    phoenixBin: string;
  }
}

const execFileAsync = promisify(execFile);

/** Runs one of the repo's setup scripts and reads the NAME=path lines it prints. */
async function runSetupScript(script: string, command: string, names: readonly string[]): Promise<Record<string, string>> {
  const path = fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url));
  const started = Date.now();
  const { stdout, stderr } = await execFileAsync('bash', [path, command], {
    timeout: 45 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`scripts/${script} ${command} failed: ${error.message}\n${error.stderr ?? ''}`);
  });
  process.stderr.write(stderr);
  const paths: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = line.match(/^([A-Z_]+)=(.+)$/);
    if (match?.[1] && match[2] && names.includes(match[1])) paths[match[1]] = match[2];
  }
  const missing = names.filter((name) => !paths[name]);
  if (missing.length > 0) throw new Error(`scripts/${script} ${command} printed no ${missing.join(', ')}:\n${stdout}`);
  process.stderr.write(`[e2e] scripts/${script} ${command}: ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  return paths;
}

export default async function setup(project: TestProject): Promise<void> {
  // The Go build is CPU-bound, the pip install mostly waits on downloads: side by side.
  const [stack, phoenix] = await Promise.all([
    runSetupScript('stack.sh', 'build', ['OTELCOL_BIN', 'JAEGER_BIN']),
    runSetupScript('phoenix.sh', 'install', ['PHOENIX_BIN']),
  ]);
  project.provide('otelcolBin', stack.OTELCOL_BIN ?? '');
  project.provide('jaegerBin', stack.JAEGER_BIN ?? '');
  project.provide('phoenixBin', phoenix.PHOENIX_BIN ?? '');
}
