/**
 * Opens a trace file for appending only when it is safe to put prompts and
 * keys in it.
 *
 * Anyone who can create entries in the trace directory could otherwise plant
 * a symbolic link (and have us append JSON to `~/.bashrc`), a FIFO (and block
 * the agent for ever), or a world-readable file of their own (and read every
 * prompt). So the file is opened with O_NOFOLLOW and O_NONBLOCK, and the
 * descriptor, not the path, is checked with fstat: only a regular file of the
 * current user, with a single link, is written. Group/other permission bits
 * are removed with fchmod on that same descriptor, so the file checked is the
 * file changed. The directory is held to the same rule: ours, and private.
 *
 * Nothing here can wait on another process: O_NONBLOCK makes opening a FIFO
 * return at once, and a regular file never blocks on anyone.
 */
import { closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, type Stats } from 'node:fs';

// O_RDWR rather than O_WRONLY: the torn-tail check reads the last byte through
// this same descriptor, so the byte checked belongs to the file written.
// Node sets close-on-exec on every descriptor it opens (O_CLOEXEC is not
// exported on every platform, hence the fallback).
const CLOSE_ON_EXEC = (constants as Record<string, number | undefined>).O_CLOEXEC ?? 0;
const APPEND_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT
  | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | CLOSE_ON_EXEC;
const DIRECTORY_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NONBLOCK ?? 0) | CLOSE_ON_EXEC;
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
const GROUP_OTHER_BITS = 0o077;
const GROUP_OTHER_WRITE = 0o022;

export type UnsafeReason = 'symlink' | 'not-regular' | 'foreign-owner' | 'hard-linked' | 'not-private';

/** A path we refuse to write: a fact about the file system, not a failed system call. */
export class UnsafeTraceTargetError extends Error {
  readonly code = 'unsafe';

  /** `target`: the path refused (the file, or its directory). */
  constructor(readonly reason: UnsafeReason, readonly target: string, message: string) {
    super(message);
    this.name = 'UnsafeTraceTargetError';
  }
}

export interface OpenedTraceFile {
  fd: number;
  /** fstat of the descriptor (its mode as found: a permission change moves no other field). */
  stats: Stats;
  /** Group/other permission bits were removed. */
  tightened: boolean;
}

/** The uid files must belong to; undefined where the platform has none (then ownership is not checked). */
export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * Creates `dir` (and missing parents) 0700 if needed, then checks through a
 * descriptor that it is a directory of ours, removing group/other bits.
 * Returns whether its permissions were tightened.
 */
export function ensurePrivateDirectory(dir: string, uid = currentUid()): boolean {
  mkdirSync(dir, { recursive: true, mode: DIRECTORY_MODE });
  // A symlinked trace directory is the user's own configuration: it is
  // followed, and the directory it leads to is the one checked.
  const fd = openSync(dir, DIRECTORY_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isDirectory()) throw new UnsafeTraceTargetError('not-regular', dir, `trace directory ${dir} is not a directory`);
    if (uid !== undefined && stats.uid !== uid) {
      throw new UnsafeTraceTargetError('foreign-owner', dir, `trace directory ${dir} belongs to uid ${stats.uid}, not to this process (uid ${uid}): someone else controls what is in it`);
    }
    return tighten(fd, stats, DIRECTORY_MODE, (mode) =>
      new UnsafeTraceTargetError('not-private', dir, `trace directory ${dir} is ${(mode & GROUP_OTHER_WRITE) !== 0 ? 'writable' : 'readable'} by other users (mode ${octal(mode)}) and could not be made private`));
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Opens `filePath` for appending (created 0600 if absent). Throws
 * UnsafeTraceTargetError for anything but a regular, singly linked file of
 * ours; other errors (ENOENT, ENOSPC, EACCES…) are thrown as they come.
 */
export function openTraceFileForAppend(filePath: string, uid = currentUid()): OpenedTraceFile {
  let fd: number;
  try {
    fd = openSync(filePath, APPEND_FLAGS, FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // O_NOFOLLOW reports a symbolic link as ELOOP; O_NONBLOCK reports a FIFO
    // without a reader (and a socket) as ENXIO instead of waiting.
    if (code === 'ELOOP') throw new UnsafeTraceTargetError('symlink', filePath, 'it is a symbolic link');
    if (code === 'ENXIO') throw new UnsafeTraceTargetError('not-regular', filePath, 'it is a FIFO or a socket, not a regular file');
    if (code === 'EISDIR') throw new UnsafeTraceTargetError('not-regular', filePath, 'it is a directory, not a regular file');
    throw err;
  }
  try {
    const stats = fstatSync(fd);
    refuseUnlessOurs(filePath, stats, uid);
    const tightened = tighten(fd, stats, FILE_MODE, (mode) =>
      new UnsafeTraceTargetError('not-private', filePath, `it is readable by other users (mode ${octal(mode)}) and could not be made private`));
    return { fd, stats, tightened };
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

function refuseUnlessOurs(filePath: string, stats: Stats, uid: number | undefined): void {
  if (!stats.isFile()) throw new UnsafeTraceTargetError('not-regular', filePath, `it is ${kindOf(stats)}, not a regular file`);
  if (uid !== undefined && stats.uid !== uid) {
    throw new UnsafeTraceTargetError('foreign-owner', filePath, `it belongs to uid ${stats.uid}, not to this process (uid ${uid})`);
  }
  // A second name for the file may be another file of ours (a hard link
  // planted next to the traces): appending would write into it.
  if (stats.nlink > 1) throw new UnsafeTraceTargetError('hard-linked', filePath, `it has ${stats.nlink} hard links (another name could be another file of yours); a trace file has exactly one`);
}

/** Removes group/other bits through the descriptor; returns whether it had to. */
function tighten(fd: number, stats: Stats, privateMode: number, refusal: (mode: number) => Error): boolean {
  const mode = stats.mode & 0o7777;
  if ((mode & GROUP_OTHER_BITS) === 0) return false;
  try {
    fchmodSync(fd, privateMode);
  } catch {
    throw refusal(mode);
  }
  return true;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing left to save on a descriptor we are giving up.
  }
}
