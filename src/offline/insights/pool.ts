/**
 * Files analysed in parallel worker threads: each worker takes the next file
 * (largest first, so one big file does not end the run alone) and sends back
 * its partial aggregates, which the main thread merges. Memory per worker is
 * one file's aggregates and its open user turns.
 */
import { Worker } from 'node:worker_threads';
import { TraceFileError } from '../errors.js';
import type { RecordProblem } from '../reader.js';
import type { AnalyzeSettings, InsightsPartial } from './analyze.js';
import type { InputFile } from './input-files.js';

type WorkerMessage =
  | { type: 'done'; partial: InsightsPartial }
  | { type: 'problem'; problem: RecordProblem }
  | { type: 'progress'; bytes: number }
  | { type: 'error'; message: string };

/**
 * Workers run the built worker.js beside this module. From the .ts sources
 * (tests, tsx) there is none: the caller analyses in the main thread instead.
 */
export const WORKERS_AVAILABLE = !import.meta.url.endsWith('.ts');

export async function analyzeInWorkers(
  files: readonly InputFile[], settings: AnalyzeSettings, threads: number,
  onPartial: (partial: InsightsPartial) => void,
  hooks: { onProblem?: (p: RecordProblem) => void; onProgress?: (bytes: number) => void },
): Promise<void> {
  const queue = [...files].sort((a, b) => b.sizeBytes - a.sizeBytes);
  const runWorker = async (): Promise<void> => {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const file = next.target.file;
        const target = next.target;
        await new Promise<void>((resolve, reject) => {
          const onMessage = (message: WorkerMessage) => {
            if (message.type === 'problem') hooks.onProblem?.(message.problem);
            else if (message.type === 'progress') hooks.onProgress?.(message.bytes);
            else {
              worker.off('message', onMessage);
              worker.off('error', onError);
              if (message.type === 'done') {
                onPartial(message.partial);
                resolve();
              } else reject(new TraceFileError(message.message));
            }
          };
          const onError = (err: Error) => reject(new TraceFileError(`insights worker failed on ${file}: ${err.message}`));
          worker.on('message', onMessage);
          worker.once('error', onError);
          worker.postMessage({ target, settings });
        });
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(threads, files.length)) }, runWorker));
}
