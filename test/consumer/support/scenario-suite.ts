/**
 * The checks every scratch app with its own OpenTelemetry tracing goes
 * through: the install is clean and shares the app's API, the scenario
 * compiles from TypeScript with the app's settings, and each scenario run
 * leaves the app's tracing, propagation and diag logger intact while moa-otel
 * writes its JSONL line and exports (only) its own spans.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';
import type { AppName, InstalledApp, NodeMajor } from './apps.js';
import { cleanEnv, npmCli, run, scenarioResult, type RunResult } from './run.js';
import { compileIn, NODENEXT, type CompileResult } from './typescript.js';

export type ScenarioName = 'app-first' | 'moa-first' | 'joined-env' | 'joined-otlp';

interface ScenarioOutput {
  registered: Record<string, boolean>;
  request: { traceId: string; spanId: string; traceparent: string | null; answer: string | null };
  appSpans: { name: string; traceId: string; serviceName?: unknown; serviceVersion?: unknown }[];
  appDiag: string[];
  records: { session_id: string | null; trace_id?: string; references: { output: string }[]; aggregator: { output: string | null } }[];
  problems: unknown[];
  tracingEnabled: boolean | null;
}

const SESSION_ID = 'consumer-session';
const ROOT_SPAN = 'invoke_workflow moa';

/** Installed without errors and without npm's install-script warning (a `prepare` script in the tarball triggers it). */
export function expectCleanInstall(app: InstalledApp): void {
  expect(app.install.timedOut, `npm install of the ${app.name} app timed out after ${Math.round(app.install.ms / 1000)} s (the install step, not a test)`).toBe(false);
  expect(app.install.code, `npm install of the ${app.name} app failed:\n${app.install.stderr}`).toBe(0);
  expect(app.install.stderr).not.toMatch(/install-scripts|ERESOLVE|moa-otel.*(prepare|postinstall)/);
}

/** Every installed copy of a package in an app, as `npm ls --parseable` lists them (deduped copies once). */
export async function installedCopies(app: InstalledApp, nodeBin: string, pkg: string): Promise<string[]> {
  const ls = await run(nodeBin, [npmCli(), 'ls', pkg, '--all', '--parseable'], { cwd: app.dir, env: cleanEnv() });
  expect(ls.code, ls.stderr).toBe(0);
  return [...new Set(ls.stdout.split('\n').filter((l) => l.trim() !== '' && l !== app.dir))];
}

export function otelAppSuite(appName: AppName, options: { nodes: NodeMajor[]; scenarios: ScenarioName[]; apiVersion: string }): void {
  let app: InstalledApp;
  let nodes: Record<`${NodeMajor}`, string>;

  beforeAll(() => {
    app = inject('consumerApps')[appName];
    nodes = inject('consumerNodes');
  });

  it('installs the tarball cleanly, sharing one @opentelemetry/api (the app\'s) and nesting no OpenTelemetry package', async () => {
    expectCleanInstall(app);
    const apis = await installedCopies(app, nodes[`${options.nodes[0] ?? 20}`], '@opentelemetry/api');
    expect(apis).toEqual([path.join(app.dir, 'node_modules/@opentelemetry/api')]);
    const nested = path.join(app.dir, 'node_modules/moa-otel/node_modules');
    expect(existsSync(nested) ? readdirSync(nested).filter((d) => d.startsWith('@opentelemetry') || d === 'openai') : []).toEqual([]);
    const api = JSON.parse(readFileSync(path.join(app.dir, 'node_modules/@opentelemetry/api/package.json'), 'utf8')) as { version: string };
    expect(api.version).toBe(options.apiVersion);
  });

  describe('the scenario compiled from TypeScript (strict, module nodenext) and run', () => {
    let compiled: CompileResult;
    beforeAll(async () => {
      compiled = await compileIn(app.dir, 'scenario', { ...NODENEXT, outDir: 'out', rootDir: '.', sourceMap: false }, ['scenario.ts', 'app-tracing.ts', 'app-tracing-common.ts']);
    });

    it('compiles, and every module moa-otel\'s declarations import resolves in the app', () => {
      expect(compiled.errors).toEqual([]);
      expect(compiled.unresolved).toEqual([]);
      expect(compiled.code).toBe(0);
    });

    for (const major of options.nodes) {
      for (const scenario of options.scenarios) {
        it(`Node ${major}, ${scenario}`, async () => {
          expect(compiled.code, 'the scenario did not compile').toBe(0);
          const receiver = await startOtlpReceiver();
          try {
            const child = await runScenario(app, nodes[`${major}`], scenario, receiver.url);
            checkScenario(scenario, child, scenarioResult<ScenarioOutput>(child), receiver);
          } finally {
            await receiver.close();
          }
        });
      }
    }
  });
}

/** Runs the compiled scenario in the app with a clean environment: an empty MoA home, a fresh trace directory. */
function runScenario(app: InstalledApp, nodeBin: string, scenario: ScenarioName, receiverUrl: string): Promise<RunResult> {
  const env = cleanEnv({
    MOA_HOME: path.join(app.dir, 'home'),
    SCENARIO_TRACE_DIR: mkdtempSync(path.join(app.dir, 'traces-')),
    SCENARIO_RECEIVER: receiverUrl,
    // The app's standard OTLP variable, which the app's own exporter would honour: not moa-otel's business.
    ...(scenario === 'joined-env' ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl } : {}),
  });
  return run(nodeBin, ['out/scenario.js', scenario], { cwd: app.dir, env });
}

function checkScenario(scenario: ScenarioName, child: RunResult, output: ScenarioOutput, receiver: OtlpReceiver): void {
  expect(child.code, child.stderr).toBe(0);
  const { request } = output;

  // The app's tracing is intact: every registration it made took, its spans reach its exporter
  // under its resource, its propagator writes its span into outgoing headers, its diag logger is its own.
  expect(Object.entries(output.registered).filter(([, took]) => !took)).toEqual([]);
  expect(output.appSpans).toContainEqual(expect.objectContaining({ name: 'app-request', traceId: request.traceId, serviceName: 'consumer-app' }));
  expect(request.traceparent).toBe(`00-${request.traceId}-${request.spanId}-01`);
  expect(output.appDiag).toContain('warn app-probe: the app still owns the diag logger');
  expect(output.appDiag.filter((line) => line.startsWith('error'))).toEqual([]);

  // moa-otel's JSONL line: one valid record of this turn, inside the app's request trace.
  expect(request.answer).toBe('Final answer');
  expect(output.problems).toEqual([]);
  expect(output.records).toHaveLength(1);
  const [record] = output.records;
  expect(record?.session_id).toBe(SESSION_ID);
  expect(record?.references.map((r) => r.output).sort()).toEqual(['Advice A', 'Advice B']);
  expect(record?.aggregator.output).toBe('Final answer');
  expect(record?.trace_id).toBe(request.traceId);

  // OTLP: moa-otel's own exporter (when asked for) ships moa-otel's spans only, and sets no service.version.
  const bodies = receiver.requests.map((r) => r.raw.toString('latin1'));
  if (scenario === 'joined-env') {
    expect(bodies, 'OTEL_EXPORTER_OTLP_ENDPOINT alone must not add an OTLP exporter to the app\'s provider').toEqual([]);
  } else {
    expect(bodies.some((b) => b.includes(ROOT_SPAN))).toBe(true);
    for (const body of bodies) {
      expect(body).not.toContain('app-request');
      expect(body).not.toContain('service.version');
    }
  }

  if (scenario === 'joined-env' || scenario === 'joined-otlp') {
    // Joined: moa-otel's spans are the app's spans, under the app's resource.
    expect(output.appSpans).toContainEqual(expect.objectContaining({ name: expect.stringMatching(new RegExp(`^${ROOT_SPAN}`)), traceId: request.traceId, serviceName: 'consumer-app' }));
    expect(output.appSpans.filter((s) => s.serviceVersion !== undefined)).toEqual([]);
  } else {
    expect(output.tracingEnabled).toBe(true);
  }
  if (scenario === 'app-first') {
    // Told once, on stderr, that the app's provider was left alone and how to join it.
    expect(child.stderr.split('createMoaSpanProcessors').length - 1).toBe(1);
  }
}
