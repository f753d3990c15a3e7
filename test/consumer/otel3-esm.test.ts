/**
 * Node 24, an ESM app on OpenTelemetry JS 3.x (sdk-trace 3.1, API 1.10) and
 * openai 7, with moa-otel installed from the packed tarball.
 */
import { describe } from 'vitest';
import { otelAppSuite } from './support/scenario-suite.js';

describe('Node 24 + OpenTelemetry 3.x, ESM', () => {
  otelAppSuite('otel3', { nodes: [24], apiVersion: '1.10.0', scenarios: ['app-first', 'moa-first', 'joined-env', 'joined-otlp'] });
});
