/**
 * Knowing when a trace file ends in a torn line.
 *
 * A writer killed mid-`write`, a full disk or a file-size limit leaves the
 * last line without its newline. Appended as is, the next record would be
 * glued to that fragment and both would be unreadable. Reading the last byte
 * before every append would cost a system call per line, so each file's
 * (device, inode, size) after our own last write is remembered: when fstat
 * still shows exactly that, nobody has written since and the file ends in our
 * newline. Anything else (first append, another writer, rotation, an error of
 * ours) means the byte is read.
 *
 * Another process may be in the middle of its own append: the file's size
 * grows page by page while that write goes on, so the last byte is then a
 * byte inside its line. Taking that for a torn tail would put a blank line
 * (and a false count) in the file. So a tail is torn only when it stays
 * unterminated at the same size across a barrier: `fchmod` to the file's own
 * mode takes the inode lock that every append holds for its whole length
 * (ext4, xfs, tmpfs…), so it returns only after a write in progress has
 * finished. A fragment left by a killed writer never grows; a line being
 * written always does. Where no barrier holds (a file system without that
 * lock), the check gives up after a few rounds and adds the newline: a blank
 * line costs nothing, a glued record is lost.
 */
import { fchmodSync, fstatSync, readSync, type Stats } from 'node:fs';

const NEWLINE = 0x0a;
/** Files remembered at most; the one remembered first is forgotten first (one more read, never a wrong answer). */
const MAX_REMEMBERED = 1024;
/** Barrier rounds before an unterminated tail that keeps growing is closed anyway. */
const MAX_ROUNDS = 16;

interface KnownEnd {
  dev: number;
  ino: number;
  size: number;
}

export class TailTracker {
  private readonly known = new Map<string, KnownEnd>();

  /**
   * Whether a record appended to `fd` now must start with a newline. A byte
   * that cannot be read counts as torn: a blank line costs nothing, a glued
   * record is lost.
   */
  needsNewline(filePath: string, fd: number, stats: Stats): boolean {
    if (stats.size === 0) return false;
    const known = this.known.get(filePath);
    if (known && known.dev === stats.dev && known.ino === stats.ino && known.size === stats.size) return false;
    try {
      if (endsInNewline(fd, stats.size)) return false;
      // Unterminated: torn, or another writer is half-way. Wait for any write in progress, then look again.
      let size = stats.size;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        fchmodSync(fd, stats.mode & 0o7777);
        const now = fstatSync(fd).size;
        if (now === 0 || endsInNewline(fd, now)) return false;
        if (now === size) return true;
        size = now;
      }
      return true;
    } catch {
      return true;
    }
  }

  /** Our append of `bytes` to a file that had `stats` went through whole. */
  wrote(filePath: string, stats: Stats, bytes: number): void {
    const known = this.known.get(filePath);
    if (known !== undefined) {
      // The same file line after line: its entry is brought up to date where it is (no new one per line).
      known.dev = stats.dev;
      known.ino = stats.ino;
      known.size = stats.size + bytes;
      return;
    }
    if (this.known.size >= MAX_REMEMBERED) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    // Another process may have appended between our fstat and our write: then
    // the size will not match next time and the byte is read, as it should be.
    this.known.set(filePath, { dev: stats.dev, ino: stats.ino, size: stats.size + bytes });
  }

  /** Something went wrong with this file: check its end again before the next append. */
  forget(filePath: string): void {
    this.known.delete(filePath);
  }
}

/** The byte before `size` is a newline; throws when it cannot be read. */
function endsInNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === NEWLINE;
}
