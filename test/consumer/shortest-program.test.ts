/**
 * The shortest program through the packed tarball: setupMoaTracing() then
 * startMoaTurn() (no instrumentation handed around) writes the line, in
 * either order with an app provider on OpenTelemetry 2.x (Node 20) and 3.x
 * (Node 24), and with no provider at all; forgetting setup is said once on
 * the diag logger, naming the fix.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppName, InstalledApp, NodeMajor } from './support/apps.js';
import { cleanEnv, run, scenarioResult } from './support/run.js';
import { compileIn, NODENEXT, type CompileResult } from './support/typescript.js';

interface ShortestOutput {
  request: { traceId: string; recording: boolean };
  appSpans: { name: string; traceId: string }[];
  appDiag: string[];
  records: { session_id: string; trace_id?: string; aggregator: { output: string | null } }[];
  registered: Record<string, boolean>;
}

const LINES: { app: AppName; node: NodeMajor }[] = [{ app: 'otel2', node: 20 }, { app: 'otel3', node: 24 }];

for (const line of LINES) {
  describe(`${line.app} on Node ${line.node}: setupMoaTracing() then startMoaTurn()`, () => {
    let app: InstalledApp;
    let nodeBin: string;
    let compiled: CompileResult;
    beforeAll(async () => {
      app = inject('consumerApps')[line.app];
      nodeBin = inject('consumerNodes')[`${line.node}`];
      compiled = await compileIn(app.dir, 'shortest', { ...NODENEXT, outDir: 'out-shortest', rootDir: '.', sourceMap: false }, ['shortest.ts', 'app-tracing.ts', 'app-tracing-common.ts']);
    });

    for (const order of ['app-first', 'moa-first'] as const) {
      it(`${order}: writes the line, inside the app's request trace, and leaves the app's tracing alone`, async () => {
        expect(compiled.errors).toEqual([]);
        const env = cleanEnv({ MOA_HOME: path.join(app.dir, 'home'), SCENARIO_TRACE_DIR: mkdtempSync(path.join(app.dir, 'traces-')) });
        const child = await run(nodeBin, ['out-shortest/shortest.js', order], { cwd: app.dir, env });
        expect(child.code, child.stderr).toBe(0);
        const output = scenarioResult<ShortestOutput>(child);
        expect(output.request.recording).toBe(true);
        expect(output.records).toHaveLength(1);
        expect(output.records[0]?.session_id).toBe('shortest-session');
        expect(output.records[0]?.trace_id).toBe(output.request.traceId);
        expect(output.records[0]?.aggregator.output).toBe('Final answer');
        // The app's registrations took and its exporter got its own span; nothing of moa-otel's complained.
        expect(Object.entries(output.registered).filter(([, took]) => !took)).toEqual([]);
        expect(output.appSpans.map((s) => s.name)).toContain('app-request');
        expect(output.appDiag).toEqual(['warn app-probe: the app still owns the diag logger']);
      });
    }
  });
}

describe('rootOnly on Node 20: no OpenTelemetry SDK at all', () => {
  let app: InstalledApp;
  let nodeBin: string;
  beforeAll(() => {
    app = inject('consumerApps').rootOnly;
    nodeBin = inject('consumerNodes')['20'];
  });

  function runMode(mode: 'setup' | 'none') {
    const env = cleanEnv({ MOA_HOME: path.join(app.dir, 'home'), SCENARIO_TRACE_DIR: mkdtempSync(path.join(app.dir, 'traces-')) });
    return run(nodeBin, ['shortest-root.mjs', mode], { cwd: app.dir, env });
  }

  it('setupMoaTracing() then startMoaTurn() writes both lines and says nothing', async () => {
    const child = await runMode('setup');
    expect(child.code, child.stderr).toBe(0);
    const output = scenarioResult<{ records: unknown[]; notRecorded: number }>(child);
    expect(output.records).toHaveLength(2);
    expect(output.notRecorded).toBe(0);
    expect(child.stderr).toBe('');
  });

  it('startMoaTurn() without setup: one line on the diag logger naming setupMoaTracing, both turns counted', async () => {
    const child = await runMode('none');
    expect(child.code, child.stderr).toBe(0);
    const output = scenarioResult<{ records: unknown[]; notRecorded: number }>(child);
    expect(output.records).toEqual([]);
    expect(output.notRecorded).toBe(2);
    const lines = child.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/recorded nowhere.*setupMoaTracing/);
  });
});
