import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Format } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const entry = path.resolve(import.meta.dirname, '../fixtures/price-in-bundle.ts');
// Outside the repository: nothing up the tree has a node_modules to fall back on.
const dir = mkdtempSync(path.join(tmpdir(), 'moa-price-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(format: Format, options: { external?: string[] } = {}): Promise<string> {
  const file = path.join(dir, `price-${format}${options.external ? '-external' : ''}.${format === 'esm' ? 'mjs' : 'cjs'}`);
  await build({
    entryPoints: [entry], bundle: true, platform: 'node', format, target: 'node20', outfile: file, logLevel: 'silent',
    ...(options.external ? { external: options.external } : {}),
  });
  return file;
}

function run(file: string): { costs: unknown[]; stderr: string } {
  const result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  expect(result.status).toBe(0);
  return { costs: result.stdout.trim().split('\n').map((line) => JSON.parse(line)), stderr: result.stderr };
}

describe('the price table in a bundle deployed without node_modules', () => {
  for (const format of ['cjs', 'esm'] as const) {
    it(`an esbuild ${format} bundle prices calls from the bundled table`, async () => {
      const { costs, stderr } = run(await bundle(format));
      expect(costs).toEqual([
        { usd: '0.00026', status: 'estimated', source: 'genai-prices' },
        { usd: '0.00026', status: 'estimated', source: 'genai-prices' },
      ]);
      expect(stderr).toBe('');
    });
  }

  it('when the table is missing, cost is unknown and that is said once', async () => {
    const { costs, stderr } = run(await bundle('cjs', { external: ['@pydantic/genai-prices'] }));
    expect(costs).toEqual([{ usd: null, status: 'unknown', source: null }, { usd: null, status: 'unknown', source: null }]);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^moa-otel: the price table \(@pydantic\/genai-prices\) could not be loaded, so estimated costs are unknown: .*Cannot find module/);
  });

  it('the unbundled package still loads it from node_modules', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', entry], { encoding: 'utf8' });
    expect(JSON.parse(out.split('\n')[0]!)).toEqual({ usd: '0.00026', status: 'estimated', source: 'genai-prices' });
  });
});
