import type { CliIo } from './command.js';

/** Colors only on a terminal, and never when NO_COLOR is set (no-color.org). */
export function wantsColor(io: Pick<CliIo, 'stdout' | 'env'>): boolean {
  return io.stdout.isTTY === true && !io.env.NO_COLOR;
}
