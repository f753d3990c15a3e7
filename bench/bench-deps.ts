// Benches measure the built package, as users run it (`npm run bench` builds first).
// The types come from the sources, so type-checking a fresh clone needs no build.
import type * as Moa from '../src/index.js';

const built = '../dist/index.js';
const moa = (await import(built)) as typeof Moa;
export const { setupMoaTracing, startMoaTurn } = moa;
export type { ChatMessage } from '../src/index.js';
export type { Tracer } from '@opentelemetry/api';
