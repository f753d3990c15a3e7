/**
 * The TypeScript snippets of README (as shipped in the tarball) and of
 * docs/*.md type-check in the scratch apps (strict; moa-otel's declarations
 * resolve every import) with `module: nodenext` and with
 * `moduleResolution: bundler`. Each ```ts block is its own module file named
 * after its document and line. A snippet is checked in every app that
 * installed all the packages it imports (the OpenTelemetry 2.x app with
 * openai 6, the 3.x app with openai 7, the NodeSDK apps of each line), and
 * must be checked in at least one. A fence tagged with a line (```ts otel2,
 * ```ts otel3) is checked only in that line's apps: the two lines' APIs differ.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppName, InstalledApp } from './support/apps.js';
import { REPO_ROOT } from './support/run.js';
import { BUNDLER, compileIn, NODENEXT } from './support/typescript.js';

type OtelLine = 'otel2' | 'otel3';

interface Snippet {
  /** The document (`README`, `docs/nodesdk`) and the line of its opening fence. */
  doc: string;
  line: number;
  code: string;
  packages: string[];
  /** The OpenTelemetry line the fence is tagged with, if any. */
  only: OtelLine | undefined;
}

/** The ```ts / ```typescript blocks of a Markdown text (optionally tagged ```ts otel2 / otel3). */
function tsSnippets(doc: string, markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const fence = /^```(?:ts|typescript)(?:\s+(otel2|otel3))?\s*$/.exec(lines[i] ?? '');
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i += 1) body.push(lines[i] ?? '');
    const code = body.join('\n');
    snippets.push({ doc, line: start + 1, code, packages: importedPackages(code), only: fence[1] as OtelLine | undefined });
  }
  return snippets;
}

/** Package names a snippet imports (`node:` built-ins aside). */
function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
  const names = specifiers
    .filter((s) => !s.startsWith('node:') && !s.startsWith('.'))
    .map((s) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/'));
  // moa-otel's client and gateway entries are typed with the optional peer openai.
  if (specifiers.some((s) => /^moa-otel\/(client|gateway)$/.test(s))) names.push('openai');
  return [...new Set(names)];
}

function snippetFile(snippet: Snippet): string {
  return `readme-snippets/${snippet.doc.replace(/\W+/g, '-')}-line-${snippet.line}.ts`;
}

/** The apps that type-check snippets, and the OpenTelemetry line of each. */
const CHECKING_APPS = { otel2: 'otel2', otel3: 'otel3', nodesdk2: 'otel2', nodesdk3: 'otel3' } as const satisfies Partial<Record<AppName, OtelLine>>;
type CheckingApp = keyof typeof CHECKING_APPS;

describe('README and docs/ TypeScript snippets against the installed tarball', () => {
  const appNames = Object.keys(CHECKING_APPS) as CheckingApp[];
  let apps: Record<CheckingApp, InstalledApp>;
  let snippets: Snippet[];
  const checkedIn = (name: CheckingApp): Snippet[] => snippets.filter((s) => (s.only === undefined || s.only === CHECKING_APPS[name])
    && s.packages.every((pkg) => existsSync(path.join(apps[name].dir, 'node_modules', pkg, 'package.json'))));

  beforeAll(() => {
    const installed = inject('consumerApps');
    apps = { otel2: installed.otel2, otel3: installed.otel3, nodesdk2: installed.nodesdk2, nodesdk3: installed.nodesdk3 };
    const docs = readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort();
    snippets = [
      ...tsSnippets('README', readFileSync(path.join(apps.otel2.dir, 'node_modules/moa-otel/README.md'), 'utf8')),
      ...docs.flatMap((file) => tsSnippets(`docs/${file.replace(/\.md$/, '')}`, readFileSync(path.join(REPO_ROOT, 'docs', file), 'utf8'))),
    ];
    for (const name of appNames) {
      mkdirSync(path.join(apps[name].dir, 'readme-snippets'), { recursive: true });
      for (const snippet of checkedIn(name)) writeFileSync(path.join(apps[name].dir, snippetFile(snippet)), `${snippet.code}\n`);
    }
  });

  it('README and docs/nodesdk.md have TypeScript snippets, and each snippet is checked in at least one app', () => {
    expect(snippets.filter((s) => s.doc === 'README').length).toBeGreaterThan(0);
    expect(snippets.filter((s) => s.doc === 'docs/nodesdk').map((s) => s.only)).toEqual(['otel2', 'otel3']);
    const unchecked = snippets.filter((s) => appNames.every((name) => !checkedIn(name).includes(s)));
    expect(unchecked.map((s) => `${s.doc} line ${s.line} imports ${s.packages.join(', ')}`)).toEqual([]);
  });

  for (const name of appNames) {
    for (const [mode, options] of [['nodenext', NODENEXT], ['bundler', BUNDLER]] as const) {
      it(`${name} app, ${mode}: every snippet it can check compiles`, async () => {
        const files = checkedIn(name).map(snippetFile);
        expect(files.length).toBeGreaterThan(0);
        const result = await compileIn(apps[name].dir, `readme-${mode}`, { ...options, noEmit: true }, files);
        expect(result.errors).toEqual([]);
        expect(result.unresolved).toEqual([]);
        expect(result.code).toBe(0);
      });
    }
  }
});
