/**
 * Child processes for the end-to-end tier: real service binaries started by a
 * test, their output kept in a log file, and always stopped again — by the
 * test's teardown, or at the latest when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  exited(): boolean;
  log(): Promise<string>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // Last line of defence: a crashed test must not leave services listening.
  for (const child of running) child.kill('SIGKILL');
});

export function startService(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, logFile: string): ServiceProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  running.add(child);
  let exitCode: number | null | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      running.delete(child);
      resolve();
    });
    child.once('error', () => {
      exitCode = -1;
      running.delete(child);
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  return {
    name,
    pid,
    logFile,
    exited: () => exitCode !== undefined,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async stop() {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exitedPromise;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits for an HTTP 200 from `url`, failing at once when the service died. */
export async function waitForHealthy(service: ServiceProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.exited()) throw new Error(`${service.name} exited before it became healthy:\n${(await service.log()).slice(-4000)}`);
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return;
    if (Date.now() > deadline) {
      throw new Error(`${service.name} not healthy at ${url} after ${timeoutMs} ms:\n${(await service.log()).slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
