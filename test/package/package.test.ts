import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { setupMoaTracing } from '../../src/index.js';
import { PACKAGE_VERSION } from '../../src/base/version.js';
import { runCli } from '../../src/cli/main.js';
import * as attributes from '../../src/trace/attributes.js';
import { captureIo } from '../offline/fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  version: string;
  engines: { node: string };
  exports: Record<string, string | { types: string; default: string }>;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
}

const repoFile = (name: string) => readFileSync(path.join(ROOT, name), 'utf8');
const pkg = JSON.parse(repoFile('package.json')) as Manifest;

/** Package names the JavaScript of a folder's TypeScript loads at run time (type-only imports are gone after transpiling). */
function runtimeImports(folder: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const files = readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const source = repoFile(path.join(folder, file));
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
    // TypeScript's own scan (imports, import(), require(); never text inside strings), plus a specifier handed to createRequire(url).
    const specifiers = [
      ...ts.preProcessFile(outputText, true, true).importedFiles.map((file) => file.fileName),
      ...[...outputText.matchAll(/createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? ''),
    ];
    for (const specifier of specifiers) {
      if (specifier.startsWith('.') || isBuiltin(specifier)) continue;
      const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
      found.set(name, [...(found.get(name) ?? []), `${folder}/${file}`]);
    }
  }
  return found;
}

describe('package', () => {
  it('reports the version in package.json', () => {
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });

  it('moa-otel --version prints the version in package.json', async () => {
    const cap = captureIo();
    expect(await runCli(['--version'], cap.io)).toBe(0);
    expect(cap.out).toBe(`moa-otel ${pkg.version}\n`);
  });

  it("README's layout and docs/ARCHITECTURE.md name every layer folder; the docs name every span attribute", () => {
    const layers = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
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

  it('takes the OpenTelemetry API as a peer (1.9 and 1.10) and openai as an optional peer (6 and 7)', () => {
    expect(pkg.peerDependencies['@opentelemetry/api']).toBe('>=1.9.0 <1.11.0');
    expect(pkg.peerDependencies.openai).toBe('^6.0.0 || ^7.0.0');
    expect(pkg.peerDependenciesMeta.openai?.optional).toBe(true);
    expect(pkg.peerDependenciesMeta['@opentelemetry/api']?.optional).not.toBe(true);
  });

  it('depends on no OpenTelemetry package and on nothing by an exact pin', () => {
    for (const [name, range] of Object.entries(pkg.dependencies)) {
      expect(name).not.toMatch(/^@opentelemetry\/|^openai$/);
      expect(range, name).toMatch(/^\^\d+\.\d+\.\d+$/);
    }
  });

  it('declares every package its code loads at run time, and nothing it does not load', () => {
    const imports = runtimeImports('src');
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    expect([...imports].filter(([name]) => !declared.has(name)).map(([name, files]) => `${name} (${files.join(', ')})`)).toEqual([]);
    expect([...declared].filter((name) => !imports.has(name))).toEqual([]);
  });

  it('declares every package its tests and benchmarks load (consumer apps install their own)', () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies), ...Object.keys(pkg.devDependencies)]);
    const undeclared: string[] = [];
    for (const folder of ['test', 'bench']) {
      for (const [name, files] of runtimeImports(folder)) {
        const outsideConsumerApps = files.filter((file) => !file.startsWith('test/consumer/fixtures/'));
        if (!declared.has(name) && name !== 'moa-otel' && outsideConsumerApps.length > 0) undeclared.push(`${name} (${outsideConsumerApps.join(', ')})`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('exports its five entry points, each with types, loadable by import and require', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './client', './gateway', './offline', './package.json', './testing']);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      // One `default` target serves import and require(esm) alike: no dual-package copies of the module state.
      expect(target).toEqual({ types: expect.stringMatching(/^\.\/dist\/.+\.d\.ts$/), default: expect.stringMatching(/^\.\/dist\/.+\.js$/) });
      if (typeof target === 'string') continue;
      expect(existsSync(path.join(ROOT, target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))), subpath).toBe(true);
    }
  });

  it('runs no script when a consumer installs it, and states the Node versions that can require() it', () => {
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[hook], hook).toBeUndefined();
    // require(esm) without a flag: Node 20.19+ and 22.12+.
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    expect(pkg.files).toContain('LICENSE');
    expect(repoFile('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} moa-otel authors\n/);
  });

  it('registers no global provider when everything is off', () => {
    const tracing = setupMoaTracing({ save_traces: false }, { env: {}, ignoreConfigFile: true });
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
  });
});
