/**
 * Child process for the "never keeps the process alive" test: builds the
 * metrics pipeline (default 60 s interval) against URL, records a
 * measurement, optionally exports it once (`flush`, which leaves a
 * keep-alive connection open), prints the stats and returns without calling
 * shutdown. The process must then end by itself.
 */
import { resolveConfig } from '../../../src/config/load.js';
import { buildMetricsPipeline } from '../../../src/export/otlp-metrics/pipeline.js';

const [url, mode] = process.argv.slice(2);
if (!url || (mode !== 'flush' && mode !== 'idle')) throw new Error('usage: child-pipeline.ts URL flush|idle');
const config = resolveConfig({ otlp: { enabled: true, metricsEndpoint: url } }, { env: {}, ignoreConfigFile: true });
const pipeline = buildMetricsPipeline(config, {}, { log: (line) => process.stderr.write(`${line}\n`) });
if (pipeline === undefined) throw new Error('metrics pipeline is off');
pipeline.meterProvider.getMeter('child').createCounter('child.runs').add(1);
if (mode === 'flush') await pipeline.forceFlush();
process.stdout.write(JSON.stringify({ intervalMillis: pipeline.intervalMillis, ...pipeline.stats() }));
