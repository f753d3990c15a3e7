// Benches measure the built package, as users run it (`npm run bench` builds
// first). Types come from the sources, so type-checking needs no build.
import type * as Moa from '../src/index.js';

const built = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Moa;
export const { setupMoaTracing, startMoaTurn } = built;
export type { ChatMessage, MoaTurnStarter } from '../src/index.js';
