/**
 * Node 20, an ESM app on OpenTelemetry JS 2.x (sdk-trace-node 2.12, API 1.9)
 * and openai 6, with moa-otel installed from the packed tarball.
 */
import { describe } from 'vitest';
import { otelAppSuite } from './support/scenario-suite.js';

describe('Node 20 + OpenTelemetry 2.x, ESM', () => {
  otelAppSuite('otel2', { nodes: [20], apiVersion: '1.9.1', scenarios: ['app-first', 'moa-first', 'joined-env', 'joined-otlp'] });
});
