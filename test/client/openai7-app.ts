/**
 * A scratch application whose `openai` is version 7, as an app using the
 * OpenAI Agents SDK has: moa-otel compiled into its node_modules (so the
 * package's `import 'openai'` finds the app's copy), the Agents SDK and every
 * other dependency linked from this repository. Version 6 stays reachable as
 * `openai6`, for code typed against it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const MODULES = path.join(REPO, 'node_modules');

export interface ScratchApp {
  dir: string;
  /** Type-checks the app's files with the repository's TypeScript; resolves with tsc's output (throws on errors). */
  typecheck(): Promise<string>;
  /** Runs one of the app's TypeScript files (through tsx) and returns its stdout. */
  run(file: string, env: Record<string, string>): Promise<string>;
}

/** The `openai` 7 the Agents SDK resolves, found the way Node finds it from the SDK. */
function openai7Dir(): string {
  const fromSdk = createRequire(path.join(MODULES, '@openai/agents-openai/package.json'));
  // The package root is the folder of its main entry's nearest package.json.
  let dir = path.dirname(realpathSync(fromSdk.resolve('openai')));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export async function createOpenAI7App(files: Record<string, string>): Promise<ScratchApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-openai7-app-'));
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(MODULES)) {
    if (entry === 'openai' || entry === '.bin' || entry.startsWith('.')) continue;
    symlinkSync(path.join(MODULES, entry), path.join(modules, entry));
  }
  const openai7 = openai7Dir();
  if (!JSON.parse(readFileSync(path.join(openai7, 'package.json'), 'utf8')).version.startsWith('7.')) throw new Error(`expected openai 7 at ${openai7}`);
  symlinkSync(openai7, path.join(modules, 'openai'));
  symlinkSync(path.join(MODULES, 'openai'), path.join(modules, 'openai6'));

  // moa-otel itself: compiled from this worktree's sources into the app (a link would resolve `openai` from the repo).
  const pkgDir = path.join(modules, 'moa-otel');
  const tsc = path.join(MODULES, 'typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', path.join(REPO, 'tsconfig.build.json'), '--outDir', path.join(pkgDir, 'dist')], { cwd: REPO });
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
  pkg.exports = { ...pkg.exports, './client': { types: './dist/client/index.d.ts', import: './dist/client/index.js' } };
  writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify(pkg, null, 2));

  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'openai7-app', private: true, type: 'module' }));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
      skipLibCheck: true, types: ['node'], lib: ['ES2023', 'DOM'],
    },
    include: Object.keys(files),
  }));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);

  return {
    dir,
    async typecheck() {
      try {
        const { stdout } = await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir });
        return stdout;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        throw new Error(`tsc failed in ${dir}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    },
    async run(file, env) {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: dir, env: { ...process.env, ...env } });
      return stdout;
    },
  };
}
