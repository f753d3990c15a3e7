/**
 * An application without the OTLP exporter package: setup says so in one
 * line naming the package and the version line for the application's
 * OpenTelemetry, the JSONL file is still written, nothing throws. Runs the
 * built package installed into a scratch application (copied, so nothing
 * resolves from this repository's node_modules).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function scratchApp(sdkTraceBaseVersion?: string, linked: readonly string[] = []): string {
  const app = mkdtempSync(path.join(tmpdir(), 'moa-no-exporter-'));
  const modules = path.join(app, 'node_modules');
  const own = path.join(modules, 'moa-otel');
  mkdirSync(own, { recursive: true });
  cpSync(path.join(ROOT, 'dist'), path.join(own, 'dist'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(own, 'package.json'));
  for (const dep of ['@opentelemetry/api', 'yaml', 'zod', '@pydantic/genai-prices', ...linked]) {
    mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(modules, dep), 'dir');
  }
  if (sdkTraceBaseVersion) {
    const sdk = path.join(modules, '@opentelemetry', 'sdk-trace-base');
    mkdirSync(sdk, { recursive: true });
    writeFileSync(path.join(sdk, 'package.json'), JSON.stringify({ name: '@opentelemetry/sdk-trace-base', version: sdkTraceBaseVersion, main: 'index.js' }));
    writeFileSync(path.join(sdk, 'index.js'), 'module.exports = {};\n');
  }
  writeFileSync(path.join(app, 'app.mjs'), `
    import { readdirSync } from 'node:fs';
    import { setupMoaTracing } from 'moa-otel';
    const dir = process.argv[2];
    const lines = [];
    const tracing = setupMoaTracing(
      { save_traces: true, trace_dir: dir, otlp: { endpoint: 'http://127.0.0.1:9/v1/traces' } },
      { env: {}, ignoreConfigFile: true, notice: (line) => lines.push(line) },
    );
    tracing.instrumentation.startTurn({ sessionId: 's', preset: 'p' }).end();
    await tracing.shutdown();
    console.log(JSON.stringify({ lines, files: readdirSync(dir), stats: tracing.otlpStats() ?? null }));
  `);
  return app;
}

function run(app: string): { lines: string[]; files: string[]; stats: unknown } {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-no-exporter-traces-'));
  const out = execFileSync(process.execPath, ['app.mjs', dir], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as { lines: string[]; files: string[]; stats: unknown };
}

describe('OTLP asked for, no exporter package installed', () => {
  it('one line naming @opentelemetry/exporter-trace-otlp-proto@^0.223 (OpenTelemetry 2.x), the turn still written', () => {
    const result = run(scratchApp('2.12.0'));
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(/^moa-otel: OTLP export \(http\/protobuf\) needs @opentelemetry\/exporter-trace-otlp-proto, which is not installed: npm install @opentelemetry\/exporter-trace-otlp-proto@\^0\.223; MoA spans are not exported/);
    expect(result.files).toEqual(['s.jsonl']);
    expect(result.stats).toBeNull();
  });

  it('with the trace exporter but no @opentelemetry/sdk-metrics: spans go, metrics are one line naming both packages', () => {
    const result = run(scratchApp('2.12.0', ['@opentelemetry/exporter-trace-otlp-proto']));
    expect(result.lines).toEqual([
      'moa-otel: exporting metrics needs @opentelemetry/sdk-metrics and @opentelemetry/exporter-metrics-otlp-proto: npm install @opentelemetry/sdk-metrics@^2 @opentelemetry/exporter-metrics-otlp-proto@^0.223; until then they go through the global MeterProvider',
    ]);
    expect(result.stats).toMatchObject({ exportedSpans: 0, droppedSpans: 0 });
  });

  it('names the ^0.301 line when the application runs OpenTelemetry 3.x', () => {
    const result = run(scratchApp('3.0.1'));
    expect(result.lines[0]).toContain('npm install @opentelemetry/exporter-trace-otlp-proto@^0.301');
  });
});
