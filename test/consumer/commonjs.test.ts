/**
 * CommonJS consumers (Node 20 and 24): plain `require()` of every entry
 * point, and a TypeScript project compiled to CommonJS (module nodenext in a
 * `"type": "commonjs"` package) that runs a traced turn next to the app's
 * OpenTelemetry 2.x tracing. moa-otel ships ESM only; Node loads it through
 * require(esm), so the tarball must have no top-level await.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { InstalledApp } from './support/apps.js';
import { cleanEnv, run, scenarioResult } from './support/run.js';
import { otelAppSuite } from './support/scenario-suite.js';

describe('CommonJS', () => {
  let app: InstalledApp;
  beforeAll(() => {
    app = inject('consumerApps').commonjs;
  });

  for (const major of ['20', '24'] as const) {
    it(`Node ${major}: require() of moa-otel, moa-otel/client, /offline and /testing, without warnings`, async () => {
      const child = await run(inject('consumerNodes')[major], ['require-entries.cjs'], { cwd: app.dir, env: cleanEnv() });
      expect(child.stderr).toBe('');
      expect(scenarioResult(child)).toEqual({
        setupMoaTracing: 'function', createMoaSpanProcessors: 'function', startMoaTurn: 'function',
        createMoaClient: 'function', readTurnRecords: 'function', startScriptedServer: 'function', createMoaGateway: 'function',
      });
    });
  }

  describe('TypeScript compiled to CommonJS', () => {
    otelAppSuite('commonjs', { nodes: [20, 24], apiVersion: '1.9.1', scenarios: ['app-first', 'moa-first'] });

    it('is CommonJS output: the compiled scenario loads moa-otel with require()', () => {
      const out = readFileSync(path.join(app.dir, 'out/scenario.js'), 'utf8');
      expect(out).toMatch(/require\("moa-otel"\)/);
      expect(out).not.toMatch(/^import /m);
    });
  });
});
