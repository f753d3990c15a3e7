/**
 * Loading an optional OpenTelemetry package the way the application would:
 * first from the application's own `node_modules` (resolved from the current
 * directory), then from beside moa-otel. moa-otel declares none of these
 * packages — an optional peer on one OpenTelemetry line breaks installs on
 * the other — so whatever the application installed is what runs, in the
 * version that fits its SDK.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface LoadedPackage<T> {
  module: T;
  /** The resolved entry file, to load the package's own dependencies from beside it. */
  resolvedFrom: string;
}

/** Where to look: the application first, then moa-otel's own location. */
function searchBases(cwd: string): string[] {
  return [path.join(cwd, 'noop.js'), import.meta.url];
}

/** The package, or undefined when it is not installed (or will not load). */
export function loadFromApplication<T>(name: string, cwd: string = process.cwd(), bases: readonly string[] = searchBases(cwd)): LoadedPackage<T> | undefined {
  for (const base of bases) {
    try {
      const require = createRequire(base);
      const resolvedFrom = require.resolve(name);
      return { module: require(resolvedFrom) as T, resolvedFrom };
    } catch {
      // Not here (or broken here): try the next place.
    }
  }
  return undefined;
}

/** A package that `loaded` depends on, resolved from beside it (where its own install put it). */
export function loadBeside<T>(name: string, loaded: LoadedPackage<unknown>): T | undefined {
  return loadFromApplication<T>(name, path.dirname(loaded.resolvedFrom), [loaded.resolvedFrom])?.module;
}

/** The version of an installed package (found from its entry file: not every package exports `./package.json`). */
export function installedVersion(name: string, cwd: string = process.cwd()): string | undefined {
  for (const base of searchBases(cwd)) {
    try {
      let dir = path.dirname(createRequire(base).resolve(name));
      for (let depth = 0; depth < 8; depth++, dir = path.dirname(dir)) {
        const manifest = path.join(dir, 'package.json');
        if (!existsSync(manifest)) continue;
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
        if (parsed.name === name && typeof parsed.version === 'string') return parsed.version;
      }
    } catch {
      // Not installed here.
    }
  }
  return undefined;
}

function versionPart(version: string | undefined, index: number): number | undefined {
  const part = Number.parseInt(version?.split('.')[index] ?? '', 10);
  return Number.isFinite(part) ? part : undefined;
}

/**
 * The version line of OTLP exporter packages that fits the application's
 * OpenTelemetry: `^0.301` for SDK 3.x, `^0.223` for 2.x. Read from the SDK
 * packages the application has; without any, from the API (1.10 came with
 * 3.x); else the 2.x line, which runs on every Node moa-otel supports.
 */
export function exporterVersionLine(cwd: string = process.cwd()): '^0.301' | '^0.223' {
  for (const sdk of ['@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace', '@opentelemetry/core']) {
    const major = versionPart(installedVersion(sdk, cwd), 0);
    if (major !== undefined) return major >= 3 ? '^0.301' : '^0.223';
  }
  // sdk-node is versioned with the exporters: 0.2xx for 2.x, 0.3xx for 3.x.
  const nodeMinor = versionPart(installedVersion('@opentelemetry/sdk-node', cwd), 1);
  if (nodeMinor !== undefined) return nodeMinor >= 300 ? '^0.301' : '^0.223';
  return (versionPart(installedVersion('@opentelemetry/api', cwd), 1) ?? 9) >= 10 ? '^0.301' : '^0.223';
}

/** One line (without the `moa-otel: ` prefix): `what` needs `packageName`, and the install command for the application's OpenTelemetry line. */
export function missingPackageLineFor(packageName: string, what: string, cwd?: string): string {
  return `${what} needs ${packageName}, which is not installed: npm install ${packageName}@${exporterVersionLine(cwd)}`;
}
