/**
 * Compiling TypeScript inside a scratch app with the app's own settings: the
 * repo's compiler, the app's node_modules (the installed tarball's .d.ts
 * files, the app's OpenTelemetry and openai), strict mode.
 */
import { writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { cleanEnv, NODE_TYPE_ROOTS, run, TSC } from './run.js';

/**
 * What every consumer project here turns on: strict, Node's types. Library
 * .d.ts files are not checked (that costs 5× the time, mostly in @types/node
 * and openai); instead every module moa-otel's declarations import must
 * resolve in the app (see `unresolved`), which is how a declaration that
 * names a package the consumer does not have would break their build.
 */
export const STRICT_CONSUMER_OPTIONS = {
  strict: true,
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
  typeRoots: [NODE_TYPE_ROOTS],
  moduleDetection: 'force',
  skipLibCheck: true,
  esModuleInterop: true,
} as const;

export const NODENEXT = { module: 'nodenext', moduleResolution: 'nodenext' } as const;
export const BUNDLER = { module: 'esnext', moduleResolution: 'bundler' } as const;

export interface CompileResult {
  code: number | null;
  /** The compiler's error lines. */
  errors: string[];
  /** `'<module>' from <file>` for each import in moa-otel's installed declarations that did not resolve. */
  unresolved: string[];
}

/** Writes `tsconfig.<name>.json` into the app and runs the compiler on it. */
export async function compileIn(dir: string, name: string, compilerOptions: Record<string, unknown>, files: string[]): Promise<CompileResult> {
  const config = `tsconfig.${name}.json`;
  writeFileSync(path.join(dir, config), `${JSON.stringify({ compilerOptions: { ...STRICT_CONSUMER_OPTIONS, ...compilerOptions }, files }, null, 2)}\n`);
  const result = await run(process.execPath, [TSC, '-p', config, '--pretty', 'false', '--traceResolution'], { cwd: dir, env: cleanEnv() });
  const lines = `${result.stdout}\n${result.stderr}`.split('\n');
  return {
    code: result.code,
    errors: lines.filter((line) => /error TS\d+:/.test(line)),
    unresolved: unresolvedInPackage(lines, path.join(dir, 'node_modules/moa-otel/')),
  };
}

/** Pairs the trace's "Resolving module 'm' from 'f'" with its "Module name 'm' was not resolved", for files under `packageDir`. */
function unresolvedInPackage(trace: string[], packageDir: string): string[] {
  const unresolved = new Set<string>();
  let current: { module: string; from: string } | undefined;
  for (const line of trace) {
    const resolving = /^======== Resolving module '(.+)' from '(.+)'\. ========$/.exec(line);
    if (resolving) current = { module: resolving[1] ?? '', from: resolving[2] ?? '' };
    else if (current && line === `======== Module name '${current.module}' was not resolved. ========` && current.from.startsWith(packageDir)
      // Node's built-ins are ambient modules of @types/node: "not resolved" to a file, yet declared.
      && !isBuiltin(current.module)) {
      unresolved.add(`'${current.module}' from ${path.relative(packageDir, current.from)}`);
    }
  }
  return [...unresolved];
}
