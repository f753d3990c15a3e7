/**
 * Peak resident memory of this process, in MB, for the benches' children.
 * Plain JavaScript so `reader-child.mjs` can use it without a TypeScript loader.
 *
 * Not `process.resourceUsage().maxRSS`: Linux keeps that figure across
 * `execve`, so a child started by a parent already holding 150 MB reports
 * at least the parent's peak (the fork's copy of the parent's mappings is
 * counted before the exec replaces them). `VmHWM` in /proc/self/status
 * belongs to the process's own address space, made fresh by the exec, and
 * covers every thread. Elsewhere maxRSS is all there is.
 */
import { readFileSync } from 'node:fs';

export function peakRssMb() {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}
