/**
 * The JSONL rows of `npm run bench` and the tracing-off row, alone (the
 * rest of the bench takes minutes): `npm run build && node --import tsx bench/jsonl-rows.ts`.
 */
import { availableParallelism, loadavg } from 'node:os';
import { describePageCache, pageCacheSetup, runJsonlPathBench } from './jsonl-path.js';
import { runTracingOffBench } from './tracing-off.js';

const [load1 = 0, load5 = 0] = loadavg();
console.log(`Load average ${load1.toFixed(2)} (1 min) ${load5.toFixed(2)} (5 min) on ${availableParallelism()} cores`);
console.log(`Page cache: ${await pageCacheSetup()}`);
for (const r of await runJsonlPathBench()) {
  const size = r.lineBytes >= 1e6 ? `${(r.lineBytes / 1e6).toFixed(2)} MB` : `${(r.lineBytes / 1e3).toFixed(1)} KB`;
  console.log(`  ${r.label.padEnd(20)} line ${size}  CPU: instrumented ${r.instrumentedCpuMs.toFixed(3)} ms  floor ${r.floorCpuMs.toFixed(3)} ms  ratio ${r.ratio.toFixed(2)}x`
    + `  (wall ${r.wallRatio.toFixed(2)}x; longest block CPU median ${r.blockCpuMs.toFixed(2)} ms, worst ${r.worstBlockCpuMs.toFixed(2)} ms)`);
  const pageCache = describePageCache(r);
  if (pageCache) console.log(`    ${pageCache}`);
}
const off = await runTracingOffBench();
console.log(`  tracing off: plain ${off.plainUs.toFixed(2)} us  instrumented ${off.instrumentedUs.toFixed(2)} us  ratio ${off.ratio.toFixed(3)}x`);
const [end1 = 0] = loadavg();
console.log(`Load average at the end ${end1.toFixed(2)}`);
