/**
 * A one-line progress bar on stderr for long reads, shown only on a terminal
 * (scripts and tests see nothing) and only for inputs big enough to wait on.
 */
import type { CliIo } from './command.js';
import { formatBytes } from '../offline/format.js';

export interface Progress {
  update(doneBytes: number): void;
  done(): void;
}

const MIN_BYTES = 4 * 1024 * 1024;
const REDRAW_MS = 100;
const BAR_WIDTH = 30;
const NO_PROGRESS: Progress = { update() {}, done() {} };

export function createProgress(io: Pick<CliIo, 'stderr'>, label: string, totalBytes: number): Progress {
  if (io.stderr.isTTY !== true || totalBytes < MIN_BYTES) return NO_PROGRESS;
  let last = 0;
  let drawn = false;
  const draw = (doneBytes: number) => {
    const ratio = totalBytes > 0 ? Math.min(1, doneBytes / totalBytes) : 1;
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    io.stderr.write(`\r${label} ${bar} ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(doneBytes)}/${formatBytes(totalBytes)}\u001b[K`);
    drawn = true;
  };
  return {
    update(doneBytes) {
      const now = Date.now();
      if (now - last < REDRAW_MS) return;
      last = now;
      draw(doneBytes);
    },
    done() {
      if (drawn) {
        draw(totalBytes);
        io.stderr.write('\n');
      }
    },
  };
}
