/**
 * Appends whole lines to per-session files, safely for concurrent processes.
 *
 * Each line goes out in one write(2) on an O_APPEND descriptor, so lines from
 * several processes never interleave. The directory is created 0700 and files
 * 0600 (trace files hold prompts and secrets). A descriptor is opened per line:
 * that is what makes deletion or rotation by `moa-otel prune` or logrotate
 * safe, and it costs no more than the `appendFileSync` floor it is measured
 * against. Failures never reach the caller: they are reported once per cause
 * through the OpenTelemetry diagnostic logger and counted.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';

export interface WriterStats {
  linesWritten: number;
  bytesWritten: number;
  writeErrors: number;
}

export class AppendWriter {
  readonly stats: WriterStats = { linesWritten: 0, bytesWritten: 0, writeErrors: 0 };
  private readonly reportedCauses = new Set<string>();
  private readonly knownDirs = new Set<string>();

  /** Returns true when the whole line reached the file. */
  appendLine(filePath: string, line: string): boolean {
    const data = Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8');
    let fd: number | undefined;
    try {
      fd = this.open(filePath);
      let offset = 0;
      // A regular file takes the whole buffer in one call; the loop only
      // guards against a short write (e.g. a signal) losing the tail.
      while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
      this.stats.linesWritten += 1;
      this.stats.bytesWritten += data.length;
      return true;
    } catch (err) {
      this.knownDirs.delete(path.dirname(filePath));
      this.stats.writeErrors += 1;
      this.reportOnce(filePath, err);
      return false;
    } finally {
      if (fd !== undefined) {
        try { closeSync(fd); } catch { /* nothing left to save */ }
      }
    }
  }

  private open(filePath: string): number {
    const dir = path.dirname(filePath);
    if (!this.knownDirs.has(dir)) this.ensureDir(dir);
    try {
      return openSync(filePath, 'a', 0o600);
    } catch (err) {
      // The directory was removed since we last made it (prune, a test, a user): make it again once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.ensureDir(dir);
      return openSync(filePath, 'a', 0o600);
    }
  }

  private ensureDir(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.knownDirs.add(dir);
  }

  private reportOnce(filePath: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.name : 'unknown');
    const cause = `${code}:${path.dirname(filePath)}`;
    if (this.reportedCauses.has(cause)) return;
    this.reportedCauses.add(cause);
    const message = err instanceof Error ? err.message : String(err);
    diag.error(`moa-otel: cannot write trace file ${filePath} (${code}): ${message}. Turns go on; further ${code} errors for this directory are counted, not repeated.`);
  }
}
