import { runJsonlPathBench, runGrowingSessionBench } from './jsonl-path.js';
import { loadavg } from 'node:os';
console.log('load', loadavg());
const only = process.argv[2];
if (only !== 'grow') for (const r of await runJsonlPathBench(process.env.Q ? [['10.8 KB', 10_800, 500], ['105 KB', 105_000, 100], ['1 MB', 1_000_000, 10], ['10 MB', 10_000_000, 3]] : undefined)) console.log(JSON.stringify(r));
if (only !== 'fixed') console.log(JSON.stringify(await runGrowingSessionBench(Number(process.env.TURNS ?? 50))));
