/**
 * The folder layout is the architecture: every import in src/ points to the
 * same layer or one below it, and the root entry never reaches the MoA client
 * (whose `openai` peer is optional). No exceptions list: a file that needs
 * something above it is in the wrong folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Bottom to top. A file may import from its own layer and any layer before it. */
const LAYERS = ['base', 'config', 'content', 'record', 'trace', 'export', 'otel', 'setup', 'client', 'gateway', 'offline', 'testing', 'demo', 'cli'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative module specifiers of every import, export-from and dynamic import (type-only ones too). */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  const patterns = [/\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) specs.push(m[1] as string);
  return specs;
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from), spec.replace(/\.js$/, '.ts'));
}

function layerOf(file: string): { layer: string; rank: number } {
  const rel = path.relative(SRC, file);
  const [top] = rel.split(path.sep);
  if (rel === 'index.ts') return { layer: '(root entry)', rank: LAYERS.length };
  const rank = LAYERS.indexOf(top as string);
  if (rank < 0) throw new Error(`${rel} is in no known layer; add its folder to LAYERS in the right place`);
  return { layer: top as string, rank };
}

const files = sourceFiles(SRC);
const edges = files.flatMap((file) => importsOf(readFileSync(file, 'utf8'))
  .map((spec) => ({ file, spec, target: resolveImport(file, spec) }))
  .filter((e): e is { file: string; spec: string; target: string } => e.target !== undefined));

describe('layers', () => {
  it('parses imports of every form', () => {
    const sample = `import { a } from './a.js';\nimport type { B } from "../b.js";\nexport * from './c.js';\nexport { d,\n  e } from './d.js';\nconst m = await import('./e.js');\nimport './f.js';`;
    expect(importsOf(sample)).toEqual(expect.arrayContaining(['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js']));
  });

  it('every src file belongs to a layer and every relative import resolves to a file', () => {
    for (const file of files) layerOf(file);
    const missing = edges.filter((e) => !files.includes(e.target)).map((e) => `${path.relative(SRC, e.file)} -> ${e.spec}`);
    expect(missing).toEqual([]);
  });

  it('imports only point down', () => {
    const upward = edges.flatMap(({ file, spec, target }) => {
      const from = layerOf(file);
      const to = layerOf(target);
      if (to.rank > from.rank) {
        return [`${path.relative(SRC, file)} (${from.layer}) -> ${spec} (${to.layer})`];
      }
      return [];
    });
    expect(upward).toEqual([]);
  });

  it('otel/ is config-free and never loads an SDK or exporter package statically (they come from the application, lazily)', () => {
    const otelFiles = files.filter((file) => layerOf(file).layer === 'otel');
    expect(otelFiles.length).toBeGreaterThan(0);
    const problems = otelFiles.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const configImports = importsOf(text).filter((spec) => resolveImport(file, spec) !== undefined && layerOf(resolveImport(file, spec) as string).layer === 'config');
      const packages = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s*['"](@opentelemetry\/[^'"]+)['"]/gm)]
        .map((m) => m[1] as string).filter((name) => name !== '@opentelemetry/api');
      return [...configImports, ...packages].map((spec) => `${path.relative(SRC, file)} -> ${spec}`);
    });
    expect(problems).toEqual([]);
  });

  it('the root entry never loads the MoA client or anything that needs openai', () => {
    const seen = new Set<string>();
    const reachesOpenai: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // Type-only imports are erased; anything else is loaded at run time.
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s*['"]([^'"]+)['"]/gm)) {
        const spec = m[1] as string;
        if (spec === 'openai' || spec.startsWith('openai/')) reachesOpenai.push(path.relative(SRC, file));
        const target = resolveImport(file, spec);
        if (target) visit(target);
      }
    };
    visit(path.join(SRC, 'index.ts'));
    expect(reachesOpenai).toEqual([]);
    expect([...seen].map((f) => layerOf(f).layer).filter((l) => ['client', 'offline', 'testing', 'demo', 'cli'].includes(l))).toEqual([]);
  });
});
