/**
 * How the gateway's MoA client gets its instrumentation: the one place that
 * knows which option of `createMoaClient` carries it.
 */
import type { MoaClientOptions } from '../client/client.js';
import type { MoaTracing } from '../setup/setup.js';

export function tracedClientOptions(tracing: Pick<MoaTracing, 'instrumentation'>): Pick<MoaClientOptions, 'instrumentation'> {
  return { instrumentation: tracing.instrumentation };
}
