// Benches measure the built package, as users run it (`npm run bench` builds
// first). Types come from the sources, so type-checking needs no build.
import type * as Moa from '../src/index.js';

const built = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Moa;
export const { setupMoaTracing, startMoaTurn } = built;
export type { ChatMessage, MoaTurnStarter } from '../src/index.js';

type RedactModule = typeof import('../src/content/redact.js');
type PatternsModule = typeof import('../src/content/secret-patterns.js');
const redact = (await import(new URL('../dist/content/redact.js', import.meta.url).href)) as RedactModule;
const patterns = (await import(new URL('../dist/content/secret-patterns.js', import.meta.url).href)) as PatternsModule;
export const { Redactor } = redact;
export const { BUILTIN_PATTERNS, EMAIL_PATTERN } = patterns;
