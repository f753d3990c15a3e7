/**
 * Unit-tier global setup: a few tests run the built package (two loaded
 * copies of it, a child process that exits without shutdown, the bench
 * imports), so `dist/` is rebuilt when it is missing or older than `src/`.
 * `npm test` on a fresh clone then works without a separate build.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  let built = 0;
  try {
    built = statSync(path.join(ROOT, 'dist', 'index.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newestMtime(path.join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
}
