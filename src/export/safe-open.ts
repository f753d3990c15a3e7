/**
 * Opens trace directories and trace files only when it is safe to put prompts
 * and keys in them.
 *
 * Anyone who can create entries in the trace directory could otherwise plant
 * a symbolic link (and have us append JSON to `~/.bashrc`), a FIFO (and block
 * the agent for ever), or a world-readable file of their own (and read every
 * prompt). Anyone who can rename entries in the directory's parent could swap
 * the directory itself for a link between two lines. So:
 *
 * - the directory is opened once, with O_DIRECTORY|O_NOFOLLOW, and checked
 *   through that descriptor: a directory of ours, not writable by others,
 *   not a home directory or the file-system root. It is never chmodded unless
 *   moa-otel has just created it: tightening a directory someone chose
 *   (`/tmp`, `~`) would take it away from the others who use it;
 * - files are created and opened relative to that descriptor (on Linux
 *   through `/proc/self/fd/<dirfd>/<name>`, since Node has no `openat`;
 *   elsewhere by path, then the directory's device and inode are compared
 *   again), with O_NOFOLLOW and O_NONBLOCK, and the file descriptor, not the
 *   path, is checked: only a regular file of ours with one link is written.
 *   Group/other bits of a file are removed with fchmod on that same
 *   descriptor, so the file checked is the file changed.
 *
 * Nothing here can wait on another process: O_NONBLOCK makes opening a FIFO
 * return at once, and a regular file never blocks on anyone.
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

// O_RDWR rather than O_WRONLY: the torn-tail check reads the last byte through
// this same descriptor, so the byte checked belongs to the file written.
// Node sets close-on-exec on every descriptor it opens (O_CLOEXEC is not
// exported on every platform, hence the fallback).
const CLOSE_ON_EXEC = (constants as Record<string, number | undefined>).O_CLOEXEC ?? 0;
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const APPEND_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT
  | NO_FOLLOW | (constants.O_NONBLOCK ?? 0) | CLOSE_ON_EXEC;
const DIRECTORY_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | NO_FOLLOW | (constants.O_NONBLOCK ?? 0) | CLOSE_ON_EXEC;
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
const GROUP_OTHER_BITS = 0o077;
const GROUP_OTHER_WRITE = 0o022;

export type UnsafeReason = 'symlink' | 'not-regular' | 'foreign-owner' | 'hard-linked' | 'not-private' | 'shared' | 'replaced';

/** A path we refuse to write: a fact about the file system, not a failed system call. */
export class UnsafeTraceTargetError extends Error {
  readonly code = 'unsafe';

  /** `target`: the path refused (the file, or its directory). */
  constructor(readonly reason: UnsafeReason, readonly target: string, message: string) {
    super(message);
    this.name = 'UnsafeTraceTargetError';
  }
}

/** An open, checked trace directory: files are opened relative to `fd`. */
export interface TraceDirectory {
  readonly path: string;
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** Files can be opened through `/proc/self/fd/<fd>/<name>` (Linux). */
  readonly viaProc: boolean;
  /** moa-otel created it (then, and only then, it may have been tightened). */
  readonly created: boolean;
  /** Its group/other bits were removed (only ever for a directory we created). */
  readonly tightened: boolean;
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
 * Opens `dir` as a trace directory, creating it (and missing parents) 0700
 * when absent, unless `create: false` (the path named a directory we held,
 * which still exists elsewhere: making a new one there would split the
 * session between two directories while someone swaps it). Throws UnsafeTraceTargetError when it is a symbolic link, not
 * a directory, someone else's, writable by others, or a shared place (a home
 * directory, `/`); other errors as they come. The caller owns `fd`.
 */
export function openTraceDirectory(dir: string, uid = currentUid(), options: { create?: boolean } = {}): TraceDirectory {
  let created = false;
  let fd: number;
  try {
    fd = openDirectoryNoFollow(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (options.create === false) {
      throw new UnsafeTraceTargetError('replaced', dir, `trace directory ${dir} was replaced and nothing stands in its place now; lines are not written until it is back`);
    }
    // `recursive` returns the first directory it made, or undefined when the
    // leaf appeared meanwhile (then it is not ours to tighten).
    created = mkdirSync(dir, { recursive: true, mode: DIRECTORY_MODE }) !== undefined;
    fd = openDirectoryNoFollow(dir);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isDirectory()) throw new UnsafeTraceTargetError('not-regular', dir, `trace directory ${dir} is ${kindOf(stats)}, not a directory`);
    if (uid !== undefined && stats.uid !== uid) {
      throw new UnsafeTraceTargetError('foreign-owner', dir, `trace directory ${dir} belongs to uid ${stats.uid}, not to this process (uid ${uid}): someone else controls what is in it`);
    }
    let tightened = false;
    if (created) {
      // Only a directory we made is ever chmodded (umask can only have removed bits; this is belt and braces).
      tightened = tighten(fd, stats, DIRECTORY_MODE, (mode) =>
        new UnsafeTraceTargetError('not-private', dir, `trace directory ${dir} was created with mode ${octal(mode)} and could not be made private`));
    } else if ((stats.mode & GROUP_OTHER_WRITE) !== 0) {
      throw new UnsafeTraceTargetError('not-private', dir, `trace directory ${dir} is writable by other users (mode ${octal(stats.mode)}): `
        + 'moa-otel never changes the permissions of a directory it did not create; set trace_dir to a directory of your own (it is created 0700)');
    }
    const shared = sharedPlace(stats);
    if (shared) {
      throw new UnsafeTraceTargetError('shared', dir, `trace directory ${dir} is ${shared}: set trace_dir to a directory of its own inside it (it is created 0700)`);
    }
    return { path: dir, fd, dev: stats.dev, ino: stats.ino, viaProc: procSeesDescriptor(fd, stats), created, tightened };
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

/**
 * What the directory's path names now: the directory held (`same`, reached
 * without a link), nothing while the held directory still exists elsewhere
 * (`moved`: renamed away, maybe for a moment by someone swapping it),
 * nothing because the held directory was deleted (`deleted`), or something
 * else (`other`: a link, another directory, a file).
 */
export function directoryState(directory: TraceDirectory): 'same' | 'moved' | 'deleted' | 'other' {
  let stats: Stats | undefined;
  try {
    stats = lstatSync(directory.path, { throwIfNoEntry: false });
  } catch {
    stats = undefined; // a component on the way is no longer a directory: the path names nothing
  }
  if (stats) return stats.isDirectory() && stats.dev === directory.dev && stats.ino === directory.ino ? 'same' : 'other';
  try {
    // A deleted directory has no links left; one renamed away still has its own.
    return fstatSync(directory.fd).nlink > 0 ? 'moved' : 'deleted';
  } catch {
    return 'deleted';
  }
}

/**
 * Opens `name` in `directory` for appending (created 0600 if absent). Throws
 * UnsafeTraceTargetError for anything but a regular, singly linked file of
 * ours; other errors (ENOENT when the directory was deleted, ENOSPC,
 * EACCES…) are thrown as they come.
 */
export function openTraceFileIn(directory: TraceDirectory, name: string, uid = currentUid()): OpenedTraceFile {
  const shown = path.join(directory.path, name);
  const fd = openNoFollow(directory.viaProc ? `/proc/self/fd/${directory.fd}/${name}` : shown, shown);
  try {
    const stats = fstatSync(fd);
    // Without /proc the file was opened by path: it must be in the directory we hold, still named so.
    if (!directory.viaProc && (stats.dev !== directory.dev || directoryState(directory) !== 'same')) {
      throw new UnsafeTraceTargetError('replaced', directory.path, `trace directory ${directory.path} was replaced while the file was being opened`);
    }
    refuseUnlessOurs(shown, stats, uid);
    const tightened = tighten(fd, stats, FILE_MODE, (mode) =>
      new UnsafeTraceTargetError('not-private', shown, `it is readable by other users (mode ${octal(mode)}) and could not be made private`));
    return { fd, stats, tightened };
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

function openDirectoryNoFollow(dir: string): number {
  try {
    return openSync(dir, DIRECTORY_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const now = lstatSync(dir, { throwIfNoEntry: false });
      if (code === 'ELOOP' || now?.isSymbolicLink() === true) {
        throw new UnsafeTraceTargetError('symlink', dir, `trace directory ${dir} is a symbolic link: traces are written only into a real directory, never through a link `
          + '(another user who can rename entries next to it could point it elsewhere); set trace_dir to the directory it leads to');
      }
      // Gone, or a directory again, by now: it was swapped while being opened (what stood there is gone).
      if (now === undefined || now.isDirectory()) throw new UnsafeTraceTargetError('replaced', dir, `trace directory ${dir} was replaced while it was being opened`);
      throw new UnsafeTraceTargetError('not-regular', dir, `trace directory ${dir} is not a directory`);
    }
    throw err;
  }
}

function openNoFollow(opened: string, shown: string): number {
  try {
    return openSync(opened, APPEND_FLAGS, FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // O_NOFOLLOW reports a symbolic link as ELOOP; O_NONBLOCK reports a FIFO
    // without a reader (and a socket) as ENXIO instead of waiting.
    if (code === 'ELOOP') throw new UnsafeTraceTargetError('symlink', shown, 'it is a symbolic link');
    if (code === 'ENXIO') throw new UnsafeTraceTargetError('not-regular', shown, 'it is a FIFO or a socket, not a regular file');
    if (code === 'EISDIR') throw new UnsafeTraceTargetError('not-regular', shown, 'it is a directory, not a regular file');
    throw err;
  }
}

/** `/proc/self/fd/<fd>` leads to the directory behind `fd` (false without a Linux /proc). */
function procSeesDescriptor(fd: number, stats: Stats): boolean {
  try {
    const seen = statSync(`/proc/self/fd/${fd}`);
    return seen.dev === stats.dev && seen.ino === stats.ino;
  } catch {
    return false;
  }
}

/** Names the shared place `stats` is (the user's home, the file-system root), if it is one. */
function sharedPlace(stats: Stats): string | undefined {
  const places: Array<[string, () => string]> = [['the home directory', () => homedir()], ['the file-system root', () => '/']];
  for (const [what, where] of places) {
    try {
      const place = statSync(where());
      if (place.dev === stats.dev && place.ino === stats.ino) return what;
    } catch {
      // No home to compare with: nothing to refuse on that ground.
    }
  }
  return undefined;
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

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing left to save on a descriptor we are giving up.
  }
}
