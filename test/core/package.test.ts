import { readdirSync, readFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { setupMoaTracing } from '../../src/index.js';
import { PACKAGE_VERSION } from '../../src/base/version.js';
import { runCli } from '../../src/cli/main.js';
import * as attributes from '../../src/trace/attributes.js';
import { captureIo } from '../offline/fixtures.js';

const repoFile = (name: string) => readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8');
const pkg = JSON.parse(repoFile('package.json')) as { version: string; dependencies: Record<string, string> };

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

  it("README's layout and docs/ARCHITECTURE.md name every layer folder; the docs name every span attribute", () => {
    const layers = readdirSync(new URL('../../src', import.meta.url), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const readme = repoFile('README.md');
    const layout = readme.slice(readme.indexOf('## Layout'));
    const docs = repoFile('docs/ARCHITECTURE.md');
    for (const layer of layers) {
      expect(layout, `README layout: ${layer}`).toContain(`\`src/${layer}\``);
      expect(docs, `docs layer table: ${layer}`).toContain(`| \`${layer}\` |`);
    }
    const names = Object.values(attributes as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.includes('.'));
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) expect(docs, name).toContain(`\`${name}`);
  });

  it('registers no global provider when everything is off', () => {
    const tracing = setupMoaTracing({ save_traces: false }, { env: {}, ignoreConfigFile: true });
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
  });
});
