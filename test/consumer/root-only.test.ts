/**
 * An app that installs moa-otel and nothing else: npm adds the peer
 * @opentelemetry/api and leaves the optional peer openai out. The root entry,
 * the offline reader and the trace-file commands must work there, with no
 * OpenTelemetry SDK and no openai anywhere in node_modules.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { InstalledApp } from './support/apps.js';
import { cleanEnv, run, scenarioResult } from './support/run.js';
import { expectCleanInstall, installedCopies } from './support/scenario-suite.js';

interface RootTurnOutput {
  enabled: boolean;
  records: { session_id: string | null; references: { output: string }[]; aggregator: { output: string | null } }[];
  problems: unknown[];
}

describe('the root entry with only @opentelemetry/api installed (no openai, no SDK)', () => {
  let app: InstalledApp;
  let nodes: Record<'20' | '24', string>;
  beforeAll(() => {
    app = inject('consumerApps').rootOnly;
    nodes = inject('consumerNodes');
  });

  it('installs only the API next to moa-otel: no OpenTelemetry SDK, no openai', async () => {
    expectCleanInstall(app);
    expect(readdirSync(path.join(app.dir, 'node_modules/@opentelemetry'))).toEqual(['api']);
    expect(existsSync(path.join(app.dir, 'node_modules/openai'))).toBe(false);
    expect(await installedCopies(app, nodes['20'], '@opentelemetry/api')).toHaveLength(1);
  });

  it('ships source maps that need no file it does not ship', () => {
    const dist = path.join(app.dir, 'node_modules/moa-otel/dist');
    const maps = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const dangling = maps.flatMap((file) => {
      const map = JSON.parse(readFileSync(path.join(dist, file), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sources
        .filter((source, i) => !map.sourcesContent?.[i] && !existsSync(path.resolve(path.dirname(path.join(dist, file)), source)))
        .map((source) => `${file} -> ${source}`);
    });
    expect(dangling).toEqual([]);
  });

  for (const major of ['20', '24'] as const) {
    it(`Node ${major}: setupMoaTracing + startMoaTurn write a valid JSONL line, and \`moa-otel validate\` reads it`, async () => {
      const traceDir = mkdtempSync(path.join(app.dir, 'traces-'));
      const env = cleanEnv({ MOA_HOME: path.join(app.dir, 'home'), SCENARIO_TRACE_DIR: traceDir });
      const child = await run(nodes[major], ['root-turn.mjs'], { cwd: app.dir, env });
      expect(child.code, child.stderr).toBe(0);
      const output = scenarioResult<RootTurnOutput>(child);
      expect(output.enabled).toBe(true);
      expect(output.problems).toEqual([]);
      expect(output.records).toHaveLength(1);
      expect(output.records[0]?.session_id).toBe('root-only-session');
      expect(output.records[0]?.references.map((r) => r.output)).toEqual(['Advice A']);
      expect(output.records[0]?.aggregator.output).toBe('Final answer');

      const validate = await run(nodes[major], ['node_modules/.bin/moa-otel', 'validate', path.join(traceDir, 'root-only-session.jsonl')], { cwd: app.dir, env });
      expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    });
  }

  it('a command that calls models says in one line that it needs openai', async () => {
    const demo = await run(nodes['20'], ['node_modules/.bin/moa-otel', 'demo'], { cwd: app.dir, env: cleanEnv({ MOA_HOME: path.join(app.dir, 'home') }) });
    expect(demo.code).not.toBe(0);
    expect(demo.stderr).toMatch(/openai/);
    expect(demo.stderr).not.toMatch(/^\s+at /m);
    expect(demo.stderr.trim().split('\n')).toHaveLength(1);
  });
});
