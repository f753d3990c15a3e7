/**
 * The bundled `@pydantic/genai-prices` table, loaded on the first estimate
 * (about half a megabyte of code: importing moa-otel, or running with
 * tracing off, never pays for it).
 *
 * Loaded synchronously, so pricing stays synchronous, in a way bundlers can
 * follow: the literal `require('@pydantic/genai-prices')` is what esbuild
 * (and webpack) see and bundle, lazily evaluated, so a CommonJS or ESM
 * bundle deployed without `node_modules` still prices calls. Unbundled ESM
 * has no `require`, and resolves the package next to this file instead.
 * When neither works, cost becomes `unknown`, and that is said once.
 */
import { createRequire } from 'node:module';
import { diag } from '@opentelemetry/api';
import { describeFailure, firstLine } from '../base/errors.js';

export type PriceTable = Pick<typeof import('@pydantic/genai-prices'), 'calcPrice'>;

const PACKAGE = '@pydantic/genai-prices';

let loaded: { table: PriceTable } | { error: unknown } | undefined;

/** The price table, or undefined when it cannot be loaded (reported once per process and loader). */
export function priceTable(report: (message: string) => void = (message) => diag.warn(message)): PriceTable | undefined {
  if (!loaded) {
    try {
      loaded = { table: loadTable() };
    } catch (error) {
      loaded = { error };
      report(`moa-otel: the price table (${PACKAGE}) could not be loaded, so estimated costs are unknown: ${firstLine(describeFailure(error))}`);
    }
  }
  return 'table' in loaded ? loaded.table : undefined;
}

function loadTable(): PriceTable {
  // Keep this call literal: bundlers only follow `require('<name>')` they can read.
  if (typeof require === 'function') return require('@pydantic/genai-prices') as PriceTable;
  return createRequire(import.meta.url)(PACKAGE) as PriceTable;
}

