/**
 * A `${VAR}` in the shared config.yaml expands to whatever the variable
 * holds, often a key. A message about a bad value names the reference the
 * file wrote, never what it expanded to.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';

const SECRET = 'sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';

function homeWith(yaml: string): string {
  const home = mkdtempSync(path.join(tmpdir(), 'moa-expanded-'));
  writeFileSync(path.join(home, 'config.yaml'), yaml);
  return home;
}

describe('values a variable put in config.yaml', () => {
  it('are shown as their reference in a configuration error', () => {
    const home = homeWith('moa:\n  otlp:\n    endpoint: "${MOA_COLLECTOR}/?token=${MOA_TOKEN}"\n');
    expect(() => resolveConfig({}, { env: { MOA_HOME: home, MOA_TOKEN: SECRET } }))
      .toThrow(`moa config: otlp.endpoint (from ${home}/config.yaml): expected an http(s) URL, got "\${MOA_COLLECTOR}/?token=\${MOA_TOKEN}"`);
  });

  it('are shown as their reference in a notice about a repaired value', () => {
    const home = homeWith('moa:\n  presets:\n    p:\n      enabled: "${MOA_WRONG_VARIABLE}"\n      reference_models: [{ provider: openai, model: m }]\n      aggregator: { provider: openai, model: a }\n');
    const notices: string[] = [];
    resolveConfig({}, { env: { MOA_HOME: home, MOA_WRONG_VARIABLE: SECRET }, notice: (line) => notices.push(line) });
    expect(notices.join('\n')).not.toContain(SECRET);
    expect(notices).toContainEqual(expect.stringContaining('"${MOA_WRONG_VARIABLE}" is neither true nor false'));
  });
});
