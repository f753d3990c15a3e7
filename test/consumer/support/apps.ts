/**
 * The scratch applications of the consumer tier: fresh npm projects, each
 * installing the packed moa-otel tarball from disk next to the OpenTelemetry
 * line it claims to work with, as a user would (`npm install`, warm cache).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, npmCli, run } from './run.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export type NodeMajor = 20 | 24;

/** How long one app's `npm install` may take before it is killed (and the test says so). */
export const INSTALL_TIMEOUT_MS = 900_000;

export interface AppSpec {
  /** `module` (ESM) or `commonjs`: the app's package type. */
  type: 'module' | 'commonjs';
  /** The Node.js the app installs with (and mainly runs on). */
  node: NodeMajor;
  dependencies: Record<string, string>;
  /** Destination name in the app → fixture file name. */
  fixtures: Record<string, string>;
}

const SCENARIO_FILES = { 'scenario.ts': 'scenario.ts', 'app-tracing-common.ts': 'app-tracing-common.ts' };
const OTEL2_APP_DEPENDENCIES = {
  '@opentelemetry/api': '1.9.1',
  '@opentelemetry/resources': '2.12.1',
  '@opentelemetry/sdk-trace-node': '2.12.1',
  // moa-otel's OTLP export goes through the application's official exporter.
  '@opentelemetry/exporter-trace-otlp-proto': '0.223.0',
  openai: '6.49.0',
};

export const APPS = {
  /** Node 20, OpenTelemetry JS 2.x (sdk-trace-node, API 1.9), openai 6, ESM. */
  otel2: {
    type: 'module', node: 20, dependencies: OTEL2_APP_DEPENDENCIES,
    fixtures: { ...SCENARIO_FILES, 'app-tracing.ts': 'otel2-tracing.ts', 'shortest.ts': 'shortest.ts', 'otlp-wire.mjs': 'otlp-wire.mjs' },
  },
  /** Node 24, OpenTelemetry JS 3.x (sdk-trace, API 1.10), openai 7, ESM; also the AI SDK and LangChain. */
  otel3: {
    type: 'module', node: 24,
    dependencies: {
      '@opentelemetry/api': '1.10.0',
      '@opentelemetry/context-async-hooks': '3.1.1',
      '@opentelemetry/core': '3.1.1',
      '@opentelemetry/resources': '3.1.1',
      '@opentelemetry/sdk-trace': '3.1.1',
      '@opentelemetry/exporter-trace-otlp-proto': '0.301.1',
      openai: '7.59.0',
      // README's clients of `moa-otel serve` (Node 22+ packages): its snippet type-checks here.
      '@ai-sdk/openai-compatible': '3.0.92',
      ai: '7.0.173',
      '@langchain/core': '1.4.0',
      '@langchain/openai': '1.6.0',
    },
    fixtures: { ...SCENARIO_FILES, 'app-tracing.ts': 'otel3-tracing.ts', 'shortest.ts': 'shortest.ts', 'otlp-wire.mjs': 'otlp-wire.mjs' },
  },
  /** The OpenTelemetry 2.x app as a CommonJS package (plain require() and TypeScript compiled to CommonJS). */
  commonjs: {
    type: 'commonjs', node: 20, dependencies: OTEL2_APP_DEPENDENCIES,
    fixtures: { ...SCENARIO_FILES, 'app-tracing.ts': 'otel2-tracing.ts', 'require-entries.cjs': 'require-entries.cjs' },
  },
  /** Node 20, an app started through NodeSDK on OpenTelemetry JS 2.x (docs/nodesdk.md). */
  nodesdk2: {
    type: 'module', node: 20,
    dependencies: { '@opentelemetry/api': '1.9.1', '@opentelemetry/sdk-node': '0.223.0', '@opentelemetry/exporter-trace-otlp-proto': '0.223.0' },
    fixtures: { 'nodesdk-app.mjs': 'nodesdk-app.mjs' },
  },
  /** Node 24, an app started through NodeSDK on OpenTelemetry JS 3.x (docs/nodesdk.md). */
  nodesdk3: {
    type: 'module', node: 24,
    dependencies: {
      '@opentelemetry/api': '1.10.0', '@opentelemetry/sdk-node': '0.301.0', '@opentelemetry/sdk-trace': '3.1.0',
      '@opentelemetry/exporter-trace-otlp-proto': '0.301.0',
    },
    fixtures: { 'nodesdk-app.mjs': 'nodesdk-app.mjs' },
  },
  /** moa-otel alone: npm brings the peer @opentelemetry/api, nothing else (no openai, no SDK). */
  rootOnly: {
    type: 'module', node: 20, dependencies: {},
    fixtures: { 'root-turn.mjs': 'root-turn.mjs', 'shortest-root.mjs': 'shortest-root.mjs' },
  },
} as const satisfies Record<string, AppSpec>;

export type AppName = keyof typeof APPS;

export interface InstalledApp {
  name: AppName;
  dir: string;
  /** npm's exit code, output and wall time; `timedOut` when it was stopped at INSTALL_TIMEOUT_MS. */
  install: { code: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean };
}

export async function installApp(name: AppName, root: string, tarball: string, nodeBin: string): Promise<InstalledApp> {
  const spec: AppSpec = APPS[name];
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  const pkg = { name: `moa-otel-consumer-${name.toLowerCase()}`, private: true, type: spec.type, dependencies: { 'moa-otel': `file:${tarball}`, ...spec.dependencies } };
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const [dest, fixture] of Object.entries(spec.fixtures)) copyFileSync(path.join(FIXTURES, fixture), path.join(dir, dest));
  const install = await run(nodeBin, [npmCli(), 'install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: dir,
    env: cleanEnv({ ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}), ...machineNetworkSettings() }),
    // Generous: on a loaded machine (load 15+) the 3.x app's install alone has taken over 300 s.
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  return { name, dir, install };
}

/**
 * The machine's own way to reach the registry (a CA bundle, a proxy): npm
 * needs it to fetch what its cache lacks. Never OTEL_* or MOA_*.
 */
function machineNetworkSettings(): Record<string, string> {
  const names = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])));
}
