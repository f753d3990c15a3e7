// Benches measure the built package, as users run it (`npm run bench` builds first).
export { setupMoaTracing, startMoaTurn, type ChatMessage } from '../dist/index.js';
export type { Tracer } from '@opentelemetry/api';
