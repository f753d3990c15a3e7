/**
 * Appends whole lines to per-session files, safely for concurrent processes.
 *
 * Each line goes out in one write(2)/writev(2) on an O_APPEND descriptor, so
 * lines from several processes never interleave. A descriptor is opened per
 * line: that is what makes deletion or rotation by `moa-otel prune` or
 * logrotate safe, and it costs no more than the `appendFileSync` floor it is
 * measured against.
 *
 * Trace files hold prompts and secrets, so a file is written only when it is
 * a regular file of ours in a directory of ours, both made private
 * (`safe-open.ts`). A file that ends in a torn line (a crash, a full disk)
 * gets a newline in front of the next record, in the same write
 * (`torn-tail.ts`). Failures never reach the caller: each cause is reported
 * once, counted, and reported again when it clears.
 */
import { closeSync, writevSync } from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { errorText } from '../base/errors.js';
import type { EncodedLine } from './json-line.js';
import { currentUid, ensurePrivateDirectory, openTraceFileForAppend, UnsafeTraceTargetError, type OpenedTraceFile } from './safe-open.js';
import { TailTracker } from './torn-tail.js';

export interface WriterStats {
  /** Lines that reached their file whole. */
  linesWritten: number;
  bytesWritten: number;
  /** Lines lost to a file-system error (disk full, permission, bad path, a write that stopped part-way). */
  writeErrors: number;
  /** Lines not written because the file or its directory is unsafe (a link, a FIFO, someone else's). */
  linesRefused: number;
  /** Of `writeErrors`, writes that stopped part-way; the next record still starts on its own line. */
  partialWrites: number;
  /** Records that went out after a newline because the file ended in a torn line. */
  tornTailsClosed: number;
  /** Trace files and directories whose group/other permissions were removed. */
  permissionsTightened: number;
  /** Records written with their longest contents cut so that the line fits (see `encodeLine`). */
  linesTruncated: number;
}

export interface AppendWriterOptions {
  /** Where failure and recovery reports go (default: the OpenTelemetry diag logger, error level). */
  log?: (message: string) => void;
}

const NEWLINE = Buffer.from('\n');
/** Linux accepts at most this many buffers in one writev(2); libuv splits beyond it, and a split is no longer atomic. */
const MAX_BUFFERS_PER_WRITE = 1024;

/** A write that stopped part-way without an error code (libuv returns the count written so far). */
class PartialWriteError extends Error {
  readonly code = 'partial-write';

  constructor(written: number, expected: number) {
    super(`only ${written} of ${expected} bytes were written (the file system refused the rest: disk full or a file size limit?)`);
  }
}

export class AppendWriter {
  readonly stats: WriterStats = {
    linesWritten: 0, bytesWritten: 0, writeErrors: 0, linesRefused: 0,
    partialWrites: 0, tornTailsClosed: 0, permissionsTightened: 0, linesTruncated: 0,
  };
  private readonly reporter: CauseReporter;
  private readonly tails = new TailTracker();
  private readonly knownDirs = new Set<string>();
  /** Whose files may be written: this process's user, when the writer was made. */
  private readonly uid = currentUid();

  constructor(options: AppendWriterOptions = {}) {
    this.reporter = new CauseReporter(options.log ?? ((message) => diag.error(message)));
  }

  /**
   * Appends one line (a newline is added). `line` is either text or an
   * `EncodedLine` from `encodeLine`, which may be larger than one string can
   * hold. Returns true when the whole line reached the file.
   */
  appendLine(filePath: string, line: string | EncodedLine): boolean {
    const dir = path.dirname(filePath);
    let opened: OpenedTraceFile | undefined;
    try {
      opened = this.open(filePath, dir);
      const tornTail = this.tails.needsNewline(filePath, opened.fd, opened.stats);
      const buffers = lineBuffers(line, tornTail);
      const expected = buffers.reduce((sum, b) => sum + b.length, 0);
      const written = writevSync(opened.fd, buffers);
      if (written !== expected) {
        this.stats.partialWrites += 1;
        throw new PartialWriteError(written, expected);
      }
      this.tails.wrote(filePath, opened.stats, written);
      this.stats.linesWritten += 1;
      this.stats.bytesWritten += written;
      if (tornTail) this.stats.tornTailsClosed += 1;
      if (typeof line !== 'string' && line.truncatedChars > 0) this.stats.linesTruncated += 1;
      this.recovered(filePath, dir);
      return true;
    } catch (err) {
      this.failed(filePath, dir, err);
      return false;
    } finally {
      if (opened) {
        try { closeSync(opened.fd); } catch { /* nothing left to save */ }
      }
    }
  }

  private open(filePath: string, dir: string): OpenedTraceFile {
    if (!this.knownDirs.has(dir)) this.checkDir(dir);
    let opened: OpenedTraceFile;
    try {
      opened = openTraceFileForAppend(filePath, this.uid);
    } catch (err) {
      // The directory was removed since we last made it (prune, a test, a user): make it again once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.checkDir(dir);
      opened = openTraceFileForAppend(filePath, this.uid);
    }
    if (opened.tightened) this.stats.permissionsTightened += 1;
    return opened;
  }

  private checkDir(dir: string): void {
    if (ensurePrivateDirectory(dir, this.uid)) this.stats.permissionsTightened += 1;
    this.knownDirs.add(dir);
  }

  private failed(filePath: string, dir: string, err: unknown): void {
    // Look at both again before the next line: the error may have left a torn tail or a changed directory.
    this.knownDirs.delete(dir);
    this.tails.forget(filePath);
    const unsafe = err instanceof UnsafeTraceTargetError;
    if (unsafe) this.stats.linesRefused += 1;
    else this.stats.writeErrors += 1;
    const code = (err as { code?: unknown }).code;
    const codeText = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
    // A refused file is reported per file (each is its own planted entry); a
    // file-system error per directory (a full disk fails every session file).
    const scope = unsafe ? err.target : dir;
    this.reporter.fail(causeKey(codeText, scope), () => unsafe
      ? `moa-otel: refusing to write trace file ${filePath}: ${errorText(err)}. Nothing is written there and turns go on; further lines are counted (writer stats linesRefused), not repeated.`
      : `moa-otel: cannot write trace file ${filePath} (${codeText}): ${errorText(err)}. Turns go on; further ${codeText} errors for this directory are counted, not repeated.`);
  }

  private recovered(filePath: string, dir: string): void {
    for (const cause of this.reporter.failing) {
      const scope = scopeOf(cause);
      if (scope !== filePath && scope !== dir) continue;
      this.reporter.recover(cause, (failures) => `moa-otel: writing to ${scope} works again after ${failures} failed line${failures === 1 ? '' : 's'}.`);
    }
  }
}

/** The buffers of one line, for one writev: an optional newline closing a torn tail, the line, its newline. */
function lineBuffers(line: string | EncodedLine, tornTail: boolean): Buffer[] {
  const body = typeof line === 'string' ? [Buffer.from(line.endsWith('\n') ? line.slice(0, -1) : line, 'utf8')] : line.chunks;
  const buffers = tornTail ? [NEWLINE, ...body, NEWLINE] : [...body, NEWLINE];
  return buffers.length <= MAX_BUFFERS_PER_WRITE ? buffers : coalesce(buffers, MAX_BUFFERS_PER_WRITE);
}

/** Joins neighbouring buffers so there are at most `max`, keeping the order. */
function coalesce(buffers: readonly Buffer[], max: number): Buffer[] {
  const perGroup = Math.ceil(buffers.length / max);
  const out: Buffer[] = [];
  for (let i = 0; i < buffers.length; i += perGroup) out.push(Buffer.concat(buffers.slice(i, i + perGroup)));
  return out;
}

const SCOPE_SEPARATOR = '\u0000';

function causeKey(code: string, scope: string): string {
  return `${code}${SCOPE_SEPARATOR}${scope}`;
}

function scopeOf(cause: string): string {
  return cause.slice(cause.indexOf(SCOPE_SEPARATOR) + 1);
}
