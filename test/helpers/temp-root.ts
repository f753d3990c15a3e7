/**
 * Unit-tier global setup: every temporary directory the tests make (through
 * `os.tmpdir()`, which reads TMPDIR at each call, in the test processes and
 * in the children they start) goes under one directory of this run, removed
 * when the run ends. Tests clean up after themselves where it matters to
 * them; a failed or killed test leaves nothing behind in /tmp either way.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), 'moa-unit-'));
  // The security tests' second user must reach the directories they make in here.
  chmodSync(root, 0o755);
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
