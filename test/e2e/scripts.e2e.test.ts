/**
 * `scripts/stack.sh` as a person runs it: `up` starts Jaeger and the
 * collector in the background from the cached binaries, `status` sees them
 * healthy, `down` stops them. While they run, `build` (what the e2e global
 * setup runs) must not wait on them: the cache lock `up` took to build is
 * not handed down to the services it starts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/processes.js';
import { binaries, REPO_ROOT } from './support/stack.js';

const execFileAsync = promisify(execFile);
const STACK = join(REPO_ROOT, 'scripts', 'stack.sh');

interface Run { code: number; stdout: string; stderr: string }

async function stack(command: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync('bash', [STACK, command], { env, timeout: timeoutMs, killSignal: 'SIGKILL' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; killed?: boolean; stdout: string; stderr: string };
    return { code: e.killed ? -1 : e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scripts/stack.sh', () => {
  it('up, status, a build while the services run, down', async () => {
    // A cache of its own (pid files, logs, lock), with the binaries the global setup built.
    const cache = await mkdtemp(join(tmpdir(), 'moa-e2e-stack-script-'));
    await symlink(dirname(binaries().otelcol), join(cache, 'bin'));
    const [grpc, http, health, jaegerGrpc, queryHttp, queryGrpc, jaegerHealth, prometheus] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, MOA_OTEL_CACHE: cache,
      OTLP_GRPC_PORT: String(grpc), OTLP_HTTP_PORT: String(http), HEALTH_CHECK_PORT: String(health),
      JAEGER_OTLP_GRPC_PORT: String(jaegerGrpc), JAEGER_QUERY_HTTP_PORT: String(queryHttp),
      JAEGER_QUERY_GRPC_PORT: String(queryGrpc), JAEGER_HEALTH_PORT: String(jaegerHealth),
      PROMETHEUS_PORT: String(prometheus),
    };
    try {
      const up = await stack('up', env);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/collector: healthy after/);
      // Where `up` says to look for metrics, the collector's Prometheus exporter answers.
      const metricsUrl = `http://127.0.0.1:${prometheus}/metrics`;
      expect(up.stderr).toContain(metricsUrl);
      expect((await fetch(metricsUrl)).status).toBe(200);

      const status = await stack('status', env);
      expect(status.code, status.stdout).toBe(0);
      expect(status.stdout).toMatch(/^collector: running \(pid \d+\), healthy$/m);
      expect(status.stdout).toMatch(/^jaeger: running \(pid \d+\), healthy$/m);

      const build = await stack('build', env, 20_000);
      expect(build.code, 'build waited on the lock held by the running services').toBe(0);
      expect(build.stdout).toContain(`OTELCOL_BIN=${join(cache, 'bin', basename(binaries().otelcol))}`);
    } finally {
      const down = await stack('down', env);
      await rm(cache, { recursive: true, force: true });
      expect(down.code, down.stderr).toBe(0);
      expect(down.stderr).toMatch(/collector: stopped \(pid \d+\)/);
    }
    const after = await stack('status', env);
    expect(after.stdout).toMatch(/^collector: stopped$/m);
  });
});
