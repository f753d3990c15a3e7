/**
 * Global setup of the consumer tier: `npm pack` (its prepack builds dist/
 * afresh), the Node binaries the apps run on, and the scratch apps installed
 * from the tarball, all under one temp directory removed afterwards
 * (MOA_OTEL_KEEP_SCRATCH=1 keeps it for a look).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { APPS, installApp, type AppName, type InstalledApp, type NodeMajor } from './apps.js';
import { REPO_ROOT } from './run.js';

declare module 'vitest' {
  export interface ProvidedContext {
    consumerTarball: string;
    consumerNodes: Record<`${NodeMajor}`, string>;
    consumerApps: Record<AppName, InstalledApp>;
  }
}

const execFileAsync = promisify(execFile);

export default async function setup(project: TestProject): Promise<() => void> {
  const started = performance.now();
  const root = mkdtempSync(path.join(tmpdir(), 'moa-otel-consumer-'));
  const cleanup = (): void => {
    if (process.env.MOA_OTEL_KEEP_SCRATCH === '1') process.stderr.write(`[consumer] scratch apps kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  };
  try {
    await execFileAsync('npm', ['pack', '--pack-destination', root], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
    const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack left no tarball in ${root}`);
    const packedMs = performance.now() - started;

    const nodes = { 20: await nodeBinary(20), 24: await nodeBinary(24) };
    const names = Object.keys(APPS) as AppName[];
    const installed = await Promise.all(names.map((name) => installApp(name, root, path.join(root, tarball), nodes[APPS[name].node])));
    const apps = Object.fromEntries(installed.map((app) => [app.name, app])) as Record<AppName, InstalledApp>;

    process.stderr.write(`[consumer] npm pack ${(packedMs / 1000).toFixed(1)}s; installs (in parallel) ${
      installed.map((a) => `${a.name} ${(a.install.ms / 1000).toFixed(1)}s`).join(', ')}; setup ${((performance.now() - started) / 1000).toFixed(1)}s\n`);
    project.provide('consumerTarball', path.join(root, tarball));
    project.provide('consumerNodes', { '20': nodes[20], '24': nodes[24] });
    project.provide('consumerApps', apps);
  } catch (err) {
    cleanup();
    throw err;
  }
  return cleanup;
}

/** The running Node when it is that major, else a cached build from the npm registry (scripts/node-version.sh). */
async function nodeBinary(major: NodeMajor): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const { stdout } = await execFileAsync('bash', [path.join(REPO_ROOT, 'scripts/node-version.sh'), String(major)], { timeout: 10 * 60_000 });
  return stdout.trim();
}
