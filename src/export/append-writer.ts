/**
 * Appends whole lines to per-session files, safely for concurrent processes.
 *
 * Each line goes out in one write(2)/writev(2) on an O_APPEND descriptor, so
 * lines from several processes never interleave. The descriptor stays open
 * between lines (opening and checking a file per line was a fifth of a small
 * turn's cost); before each line one lstat of the file's path tells whether
 * that name still is our file. When it is not (`moa-otel prune` deleted it,
 * logrotate renamed it, the directory was removed or swapped), the
 * descriptor is closed and the file opened again through the checks of
 * `safe-open.ts`, so the next line goes where the path leads now, or nowhere
 * if that is unsafe. At most `MAX_OPEN_FILES` files stay open (least recently
 * used closed first), each closed after `IDLE_CLOSE_MS` without a line, and
 * all of them on `close()`.
 *
 * Trace files hold prompts and secrets, so a file is written only when it is
 * a regular file of ours in a directory of ours opened without following a
 * link (`safe-open.ts`). A file that ends in a torn line (a crash, a full
 * disk) gets a newline in front of the next record, in the same write
 * (`torn-tail.ts`). Failures never reach the caller: each cause is reported
 * once, counted, and reported again when it clears.
 */
import { fstatSync, lstatSync, writev, writevSync, type Stats } from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { errorText } from '../base/errors.js';
import type { EncodedLine } from './json-line.js';
import {
  closeQuietly, currentUid, directoryState, openTraceDirectory, openTraceFileIn, UnsafeTraceTargetError,
  type TraceDirectory,
} from './safe-open.js';
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
  /** Files kept open at most (default 64). */
  maxOpenFiles?: number;
  /** A file without a line for this long is closed (default 30 s). */
  idleCloseMs?: number;
}

/** A trace directory held open: files are opened relative to it, and it is never re-opened through a link. */
interface HeldDirectory {
  directory: TraceDirectory;
  lastUsed: number;
}

/** One line checked and ready for its writev. */
interface PreparedWrite {
  filePath: string;
  fd: number;
  /** The file as lstat saw it before the write (for the torn-tail tracker). */
  stats: Stats;
  tornTail: boolean;
  buffers: Buffer[];
  expected: number;
  truncated: boolean;
}

/** A session file kept open between lines. */
interface OpenFile {
  fd: number;
  directory: TraceDirectory;
  dev: number;
  ino: number;
  lastUsed: number;
}

const MAX_OPEN_FILES = 64;
const MAX_OPEN_DIRECTORIES = 16;
const IDLE_CLOSE_MS = 30_000;

const NEWLINE = Buffer.from('\n');
/** Linux accepts at most this many buffers in one writev(2); libuv splits beyond it, and a split is no longer atomic. */
const MAX_BUFFERS_PER_WRITE = 1024;
/** Buffers a line may have so that its write needs no copying here (a torn tail's newline and the final one are added). */
export const MAX_LINE_CHUNKS = MAX_BUFFERS_PER_WRITE - 2;

/** Longest wait at process exit for a write on the thread pool to begin (`waitForBackgroundWritesToBegin`). */
const EXIT_WAIT_MS = 5_000;
/** Never notified: `Atomics.wait` on it is a sleep. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

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
  /** Open files by path, least recently used first. */
  private readonly files = new Map<string, OpenFile>();
  /** The last entry of `files` (the one used last), when known. */
  private lastUsedFile: OpenFile | undefined;
  /** Open trace directories by path, least recently used first. */
  private readonly directories = new Map<string, HeldDirectory>();
  private readonly maxOpenFiles: number;
  private readonly idleCloseMs: number;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Whose files may be written: this process's user, when the writer was made. */
  private readonly uid = currentUid();
  /** Descriptors with a write on the thread pool, and their file's size before it; closing one waits for it (`closeAfterWrite`). */
  private readonly writing = new Map<number, number>();
  private readonly closeAfterWrite = new Set<number>();

  constructor(options: AppendWriterOptions = {}) {
    this.reporter = new CauseReporter(options.log ?? ((message) => diag.error(message)));
    this.maxOpenFiles = Math.max(1, options.maxOpenFiles ?? MAX_OPEN_FILES);
    this.idleCloseMs = options.idleCloseMs ?? IDLE_CLOSE_MS;
  }

  /** Descriptors held now (files and directories). */
  get openDescriptors(): number {
    return this.files.size + this.directories.size;
  }

  /**
   * Appends one line (a newline is added). `line` is either text or an
   * `EncodedLine` from `encodeLine`, which may be larger than one string can
   * hold. Returns true when the whole line reached the file.
   */
  appendLine(filePath: string, line: string | EncodedLine): boolean {
    const write = this.prepare(filePath, line);
    if (!write) return false;
    let written: number;
    try {
      written = writevSync(write.fd, write.buffers);
    } catch (err) {
      this.failed(filePath, err);
      return false;
    }
    return this.finished(write, written);
  }

  /**
   * The same, with the write(2) itself done on libuv's thread pool: copying
   * megabytes into the page cache takes milliseconds the event loop should
   * not wait for. The checks before it (lstat, torn tail) still run here;
   * the line is still one writev on the O_APPEND descriptor, which stays open
   * until the write is done even if the file is closed meanwhile (a closed
   * descriptor's number could be reused by another file). The caller must
   * not start another line to the same file before this one resolves.
   */
  appendLineInBackground(filePath: string, line: string | EncodedLine): Promise<boolean> {
    const write = this.prepare(filePath, line);
    if (!write) return Promise.resolve(false);
    this.writing.set(write.fd, write.stats.size);
    return new Promise((resolve) => {
      const done = (err: NodeJS.ErrnoException | null, written: number) => {
        this.writing.delete(write.fd);
        if (this.closeAfterWrite.delete(write.fd)) closeQuietly(write.fd);
        if (err) {
          this.failed(filePath, err);
          resolve(false);
        } else resolve(this.finished(write, written));
      };
      try {
        writev(write.fd, write.buffers, done);
      } catch (err) {
        done(err as NodeJS.ErrnoException, 0);
      }
    });
  }

  /**
   * For a process exit, where no callback runs any more: waits (at most
   * `maxMs`) until each write on the thread pool has begun — its file grew —
   * so that a line written now goes after it (a write holds its file's lock
   * while it runs). A write not begun yet would be run by libuv only as the
   * process ends, after the lines the exit listener writes. The process waits
   * for its pool's work at exit anyway: this wait adds no time of its own.
   */
  waitForBackgroundWritesToBegin(maxMs = EXIT_WAIT_MS): void {
    const deadline = Date.now() + maxMs;
    for (const [fd, sizeBefore] of this.writing) {
      while (Date.now() < deadline) {
        let size: number;
        try {
          size = fstatSync(fd).size;
        } catch {
          break;
        }
        if (size > sizeBefore) break;
        Atomics.wait(PAUSE, 0, 0, 1);
      }
    }
  }

  /** The descriptor and buffers of one line, after the checks; undefined (reported) when the line cannot go out. */
  private prepare(filePath: string, line: string | EncodedLine): PreparedWrite | undefined {
    try {
      const { fd, stats } = this.descriptorFor(filePath);
      const tornTail = this.tails.needsNewline(filePath, fd, stats);
      const buffers = lineBuffers(line, tornTail);
      const expected = totalBytes(buffers);
      return { filePath, fd, stats, tornTail, buffers, expected, truncated: typeof line !== 'string' && line.truncatedChars > 0 };
    } catch (err) {
      this.failed(filePath, err);
      return undefined;
    }
  }

  /** Counts a write that returned; a short one is a failure. */
  private finished(write: PreparedWrite, written: number): boolean {
    const { filePath } = write;
    try {
      if (written !== write.expected) {
        this.stats.partialWrites += 1;
        throw new PartialWriteError(written, write.expected);
      }
      this.tails.wrote(filePath, write.stats, written);
      this.stats.linesWritten += 1;
      this.stats.bytesWritten += written;
      if (write.tornTail) this.stats.tornTailsClosed += 1;
      if (write.truncated) this.stats.linesTruncated += 1;
      this.recovered(filePath);
      return true;
    } catch (err) {
      this.failed(filePath, err);
      return false;
    }
  }

  /** Closes every descriptor; a later line opens its file again. */
  close(): void {
    for (const filePath of [...this.files.keys()]) this.closeFile(filePath);
    for (const held of this.directories.values()) closeQuietly(held.directory.fd);
    this.directories.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /**
   * The descriptor of `filePath` and its current stats: the one kept open
   * while the path still names that file (one lstat), else a freshly opened
   * and checked one.
   */
  private descriptorFor(filePath: string): { fd: number; stats: Stats } {
    const kept = this.files.get(filePath);
    if (kept) {
      const stats = lstatQuietly(filePath);
      // The same private, singly linked file: the checks made at open still hold.
      if (stats && stats.ino === kept.ino && stats.dev === kept.dev && stats.nlink === 1 && (stats.mode & 0o077) === 0) {
        kept.lastUsed = Date.now();
        // Least recently used first: moved to the end, unless it is there already (a session writing line after line).
        if (this.lastUsedFile !== kept) {
          this.files.delete(filePath);
          this.files.set(filePath, kept);
          this.lastUsedFile = kept;
        }
        return { fd: kept.fd, stats };
      }
      this.closeFile(filePath);
    }
    return this.openFile(filePath);
  }

  private openFile(filePath: string): { fd: number; stats: Stats } {
    const dir = path.dirname(filePath);
    const name = path.basename(filePath);
    let directory = this.directoryFor(dir);
    let opened;
    try {
      opened = openTraceFileIn(directory, name, this.uid);
    } catch (err) {
      // The directory was removed since we opened it (prune, a test, a user): open (and make) it again once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.forgetDirectory(dir);
      directory = this.directoryFor(dir);
      opened = openTraceFileIn(directory, name, this.uid);
    }
    if (opened.tightened) this.stats.permissionsTightened += 1;
    while (this.files.size >= this.maxOpenFiles) this.closeFile(this.files.keys().next().value as string);
    const file = { fd: opened.fd, directory, dev: opened.stats.dev, ino: opened.stats.ino, lastUsed: Date.now() };
    this.files.set(filePath, file);
    this.lastUsedFile = file;
    this.scheduleIdleClose();
    return opened;
  }

  /**
   * The directory `dir` names now, through the descriptor held for it. It is
   * opened again only when it was deleted or the path names another real
   * directory of ours; while the path is a link, or names nothing because
   * the directory was moved away, lines are refused (a second user swapping
   * it would otherwise have us make a new one, or write through the link).
   */
  private directoryFor(dir: string): TraceDirectory {
    const held = this.directories.get(dir);
    let state: ReturnType<typeof directoryState> | undefined;
    if (held) {
      held.lastUsed = Date.now();
      state = directoryState(held.directory);
      if (state === 'same') return held.directory;
      if (state === 'moved') {
        throw new UnsafeTraceTargetError('replaced', dir, `trace directory ${dir} was moved away (it still exists under another name) and nothing stands in its place; lines are not written until it is back`);
      }
      if (state === 'deleted') this.forgetDirectory(dir);
    }
    // Only a path that never had a directory of ours, or whose directory was
    // deleted, gets a new one: after a link stood there, the path may name
    // nothing for a moment while the real directory is swapped back.
    const create = state === undefined || state === 'deleted';
    const directory = openTraceDirectory(dir, this.uid, { create });
    this.forgetDirectory(dir);
    if (directory.tightened) this.stats.permissionsTightened += 1;
    while (this.directories.size >= MAX_OPEN_DIRECTORIES) this.forgetDirectory(this.directories.keys().next().value as string);
    this.directories.set(dir, { directory, lastUsed: Date.now() });
    this.scheduleIdleClose();
    return directory;
  }

  /** Closes the descriptor held for `dir` and the files opened through it. */
  private forgetDirectory(dir: string): void {
    const held = this.directories.get(dir);
    if (!held) return;
    for (const [filePath, file] of [...this.files]) if (file.directory === held.directory) this.closeFile(filePath);
    closeQuietly(held.directory.fd);
    this.directories.delete(dir);
  }

  private closeFile(filePath: string): void {
    const file = this.files.get(filePath);
    if (!file) return;
    this.files.delete(filePath);
    if (this.lastUsedFile === file) this.lastUsedFile = undefined;
    if (this.writing.has(file.fd)) this.closeAfterWrite.add(file.fd);
    else closeQuietly(file.fd);
  }

  /** Closes files left idle; the timer never keeps the process alive. */
  private scheduleIdleClose(): void {
    if (this.idleTimer || this.openDescriptors === 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const before = Date.now() - this.idleCloseMs;
      for (const [filePath, file] of [...this.files]) if (file.lastUsed <= before) this.closeFile(filePath);
      for (const [dir, held] of [...this.directories]) {
        const inUse = [...this.files.values()].some((file) => file.directory === held.directory);
        if (!inUse && held.lastUsed <= before) this.forgetDirectory(dir);
      }
      this.scheduleIdleClose();
    }, this.idleCloseMs);
    this.idleTimer.unref();
  }

  private failed(filePath: string, err: unknown): void {
    const dir = path.dirname(filePath);
    // Open and check the file again before the next line: the error may have left a torn tail or a replaced file.
    // The directory stays held: it is looked at again anyway, and is never re-opened while its path is a link.
    this.closeFile(filePath);
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

  private recovered(filePath: string): void {
    // A file-system error is kept per directory and a refusal per file: a line
    // that goes through clears both, with one message.
    if (!this.reporter.anyFailing) return; // every line that goes through passes here
    const dir = path.dirname(filePath);
    const failing = this.reporter.failing;
    const scopes = new Set(failing.map(scopeOf).filter((scope) => scope === filePath || scope === dir));
    if (scopes.size === 0) return;
    const scope = scopes.has(filePath) ? filePath : dir;
    this.reporter.recoverAll((cause) => scopes.has(scopeOf(cause)), (failures) => `moa-otel: writing to ${scope} works again after ${failures} failed line${failures === 1 ? '' : 's'}.`);
  }
}

/** lstat that answers undefined for a path that does not lead to an entry now (gone, a link in the way, …). */
function lstatQuietly(filePath: string): Stats | undefined {
  try {
    return lstatSync(filePath, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The buffers of one line, for one writev: an optional newline closing a torn tail, the line, its newline. */
function lineBuffers(line: string | EncodedLine, tornTail: boolean): Buffer[] {
  const body = typeof line === 'string' ? [Buffer.from(line.endsWith('\n') ? line.slice(0, -1) : line, 'utf8')] : line.chunks;
  // Built by hand, not spread: this runs for every line.
  const buffers: Buffer[] = tornTail ? [NEWLINE] : [];
  const last = body.length - 1;
  for (let i = 0; i < last; i++) buffers.push(body[i] as Buffer);
  const end = body[last];
  // A newline that follows the line in its memory goes with its last chunk: one buffer less for writev.
  if (end && typeof line !== 'string' && line.newlineAfter === true) buffers.push(Buffer.from(end.buffer, end.byteOffset, end.length + 1));
  else {
    if (end) buffers.push(end);
    buffers.push(NEWLINE);
  }
  return buffers.length <= MAX_BUFFERS_PER_WRITE ? buffers : coalesce(buffers, MAX_BUFFERS_PER_WRITE);
}

function totalBytes(buffers: readonly Buffer[]): number {
  let bytes = 0;
  for (const buffer of buffers) bytes += buffer.length;
  return bytes;
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
