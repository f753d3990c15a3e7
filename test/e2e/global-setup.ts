/**
 * Global setup of the end-to-end tier: make sure the collector and Jaeger
 * binaries exist (scripts/stack.sh build reuses cached ones, else builds them
 * — minutes on a fresh machine) and hand their paths to the tests.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    otelcolBin: string;
    jaegerBin: string;
  }
}

const execFileAsync = promisify(execFile);
const STACK_SCRIPT = fileURLToPath(new URL('../../scripts/stack.sh', import.meta.url));

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  const { stdout, stderr } = await execFileAsync('bash', [STACK_SCRIPT, 'build'], {
    timeout: 45 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`scripts/stack.sh build failed: ${error.message}\n${error.stderr ?? ''}`);
  });
  process.stderr.write(stderr);
  const paths = Object.fromEntries(
    stdout
      .split('\n')
      .map((line) => line.match(/^(OTELCOL_BIN|JAEGER_BIN)=(.+)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  if (!paths.OTELCOL_BIN || !paths.JAEGER_BIN) throw new Error(`scripts/stack.sh build printed no binary paths:\n${stdout}`);
  process.stderr.write(`[e2e] binaries ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  project.provide('otelcolBin', paths.OTELCOL_BIN);
  project.provide('jaegerBin', paths.JAEGER_BIN);
}
