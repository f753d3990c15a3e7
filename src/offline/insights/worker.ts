/**
 * Worker thread body: analyses the files the pool sends, one at a time, and
 * posts back each file's partial aggregates, its problems and its progress.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeFile } from './analyze-file.js';
import type { AnalyzeSettings } from './analyze.js';
import { errorLine } from '../../base/errors.js';
import type { TraceTarget } from '../target.js';

export interface WorkerJob {
  target: TraceTarget;
  settings: AnalyzeSettings;
}

const port = parentPort;
port?.on('message', (job: WorkerJob) => {
  analyzeFile(job.target, job.settings, {
    onProblem: (problem) => port.postMessage({ type: 'problem', problem }),
    onProgress: (bytes) => port.postMessage({ type: 'progress', bytes }),
  }).then(
    (partial) => port.postMessage({ type: 'done', partial }),
    (err: unknown) => port.postMessage({ type: 'error', message: errorLine(err) }),
  );
});
