import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PEAK_RSS = fileURLToPath(new URL('../../bench/peak-rss.mjs', import.meta.url));

describe('peakRssMb (the readers benches\' memory figure)', () => {
  it("is the child's own peak, not the peak of the parent that started it", () => {
    // The parent holds 400 MB of touched memory while it starts the child, as the bench's process does after its write rows.
    const held = Buffer.alloc(400 * 2 ** 20, 1);
    const out = execFileSync(process.execPath, [
      '--input-type=module', '-e',
      `const { peakRssMb } = await import(${JSON.stringify(PEAK_RSS)});
       console.log(JSON.stringify({ peak: peakRssMb(), inherited: process.resourceUsage().maxRSS / 1024 }));`,
    ], { encoding: 'utf8' });
    const child = JSON.parse(out) as { peak: number; inherited: number };
    // The parent really held it while the child started (and `held` stays alive until here).
    expect(held.length).toBe(400 * 2 ** 20);
    expect(process.resourceUsage().maxRSS / 1024).toBeGreaterThan(400);
    // A bare Node process peaks at a few tens of MB.
    expect(child.peak).toBeGreaterThan(10);
    expect(child.peak).toBeLessThan(200);
    if (process.platform === 'linux') expect(child.inherited).toBeGreaterThan(child.peak);
  });
});
