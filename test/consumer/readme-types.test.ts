/**
 * README's TypeScript snippets, as shipped in the tarball, type-check in the
 * scratch apps (strict; moa-otel's declarations resolve every import) with `module: nodenext`
 * and with `moduleResolution: bundler`. Each ```ts block is its own module
 * file named after its README line. A snippet is checked in every app that
 * installed all the packages it imports (the OpenTelemetry 2.x app with openai
 * 6, the 3.x app with openai 7), and must be checked in at least one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { InstalledApp } from './support/apps.js';
import { BUNDLER, compileIn, NODENEXT } from './support/typescript.js';

interface Snippet {
  /** README line of the opening fence. */
  line: number;
  code: string;
  packages: string[];
}

/** The ```ts / ```typescript blocks of a Markdown text. */
function tsSnippets(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i] ?? '')) continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i += 1) body.push(lines[i] ?? '');
    const code = body.join('\n');
    snippets.push({ line: start + 1, code, packages: importedPackages(code) });
  }
  return snippets;
}

/** Package names a snippet imports (`node:` built-ins aside). */
function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
  const names = specifiers
    .filter((s) => !s.startsWith('node:') && !s.startsWith('.'))
    .map((s) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/'));
  return [...new Set(names)];
}

function snippetFile(snippet: Snippet): string {
  return `readme-snippets/readme-line-${snippet.line}.ts`;
}

describe('README TypeScript snippets against the installed tarball', () => {
  const appNames = ['otel2', 'otel3'] as const;
  let apps: Record<(typeof appNames)[number], InstalledApp>;
  let snippets: Snippet[];
  const checkedIn = (app: InstalledApp): Snippet[] =>
    snippets.filter((s) => s.packages.every((pkg) => existsSync(path.join(app.dir, 'node_modules', pkg, 'package.json'))));

  beforeAll(() => {
    const installed = inject('consumerApps');
    apps = { otel2: installed.otel2, otel3: installed.otel3 };
    snippets = tsSnippets(readFileSync(path.join(apps.otel2.dir, 'node_modules/moa-otel/README.md'), 'utf8'));
    for (const app of Object.values(apps)) {
      mkdirSync(path.join(app.dir, 'readme-snippets'), { recursive: true });
      for (const snippet of checkedIn(app)) writeFileSync(path.join(app.dir, snippetFile(snippet)), `${snippet.code}\n`);
    }
  });

  it('README has TypeScript snippets, and each is checked in at least one app', () => {
    expect(snippets.length).toBeGreaterThan(0);
    const unchecked = snippets.filter((s) => appNames.every((name) => !checkedIn(apps[name]).includes(s)));
    expect(unchecked.map((s) => `README line ${s.line} imports ${s.packages.join(', ')}`)).toEqual([]);
  });

  for (const name of appNames) {
    for (const [mode, options] of [['nodenext', NODENEXT], ['bundler', BUNDLER]] as const) {
      it(`${name} app, ${mode}: every snippet it can check compiles`, async () => {
        const files = checkedIn(apps[name]).map(snippetFile);
        expect(files.length).toBeGreaterThan(0);
        const result = await compileIn(apps[name].dir, `readme-${mode}`, { ...options, noEmit: true }, files);
        expect(result.errors).toEqual([]);
        expect(result.unresolved).toEqual([]);
        expect(result.code).toBe(0);
      });
    }
  }
});
