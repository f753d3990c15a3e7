/**
 * `npm run bench`: every performance target as a ratio measured in one run.
 * Quick mode (BENCH_QUICK=1) shrinks sizes for a smoke run.
 */
import { runJsonlPathBench } from './jsonl-path.js';
import { runTracingOffBench } from './tracing-off.js';
import { runOfflineStatsBench } from './offline-stats.js';
import { formatRedactionBench, runRedactionBench } from './redaction.js';

const quick = process.env.BENCH_QUICK === '1';
const verdict = (ratio: number, target: number) => (ratio <= target ? 'ok' : 'OVER TARGET');

console.log('JSONL path: instrumented turn vs JSON.stringify + appendFileSync of the same record (target <= 2.0x)');
const jsonl = await runJsonlPathBench(quick ? [['10 KB', 10_000, 50], ['1 MB', 1_000_000, 5]] : undefined);
for (const r of jsonl) {
  console.log(`  ${r.label.padEnd(6)} line ${r.lineBytes >= 1e6 ? `${(r.lineBytes / 1e6).toFixed(2)} MB` : `${(r.lineBytes / 1e3).toFixed(1)} KB`}  instrumented ${r.instrumentedMs.toFixed(3)} ms  floor ${r.floorMs.toFixed(3)} ms  ratio ${r.ratio.toFixed(2)}x  ${verdict(r.ratio, 2)}`);
}

console.log('Tracing off: instrumented turn vs uninstrumented turn (target <= 1.05x)');
const off = await runTracingOffBench(quick ? 5 : 20, quick ? 500 : 2000);
console.log(`  plain ${off.plainUs.toFixed(2)} us  instrumented ${off.instrumentedUs.toFixed(2)} us  ratio ${off.ratio.toFixed(3)}x  ${verdict(off.ratio, 1.05)}`);

console.log('Offline stats over a generated trace directory (targets: peak RSS < 300 MB, throughput >= 0.5x of split + JSON.parse)');
console.log(await runOfflineStatsBench({ quick }));

console.log('Redaction (redact: true): CPU time per MB of text (target: 2x adversarial text costs <= 3x)');
console.log(formatRedactionBench(runRedactionBench(quick ? { bytes: 256 * 1024, rounds: 3 } : {}), verdict));

