import { readFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { setupMoaTracing } from '../../src/index.js';
import { PACKAGE_VERSION } from '../../src/base/version.js';
import { runCli } from '../../src/cli/main.js';
import { captureIo } from '../offline/fixtures.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies: Record<string, string> };

describe('package', () => {
  it('reports the version in package.json', () => {
    expect(PACKAGE_VERSION).toBe(pkg.version);
    // Exact pins only: caret ranges pull in duplicate OpenTelemetry SDK copies.
    for (const [name, range] of Object.entries(pkg.dependencies)) expect(range, name).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('moa-otel --version prints the version in package.json', async () => {
    const cap = captureIo();
    expect(await runCli(['--version'], cap.io)).toBe(0);
    expect(cap.out).toBe(`moa-otel ${pkg.version}\n`);
  });

  it('registers no global provider when everything is off', () => {
    const tracing = setupMoaTracing({ save_traces: false }, { env: {}, ignoreConfigFile: true });
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
  });
});
