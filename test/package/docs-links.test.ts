import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = path.join(ROOT, 'docs');
const docPages = readdirSync(DOCS).filter((name) => name.endsWith('.md')).sort();

/** Relative Markdown link targets in a text, without their `#anchor` (absolute URLs and bare anchors left out). */
function relativeLinks(text: string): string[] {
  const targets: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1] as string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    targets.push(target.split('#')[0] as string);
  }
  return targets;
}

describe('documentation links', () => {
  it('every relative link in README.md and docs/ names a file that exists', () => {
    const files = [path.join(ROOT, 'README.md'), ...docPages.map((name) => path.join(DOCS, name))];
    const broken = files.flatMap((file) =>
      relativeLinks(readFileSync(file, 'utf8'))
        .filter((target) => !existsSync(path.resolve(path.dirname(file), target)))
        .map((target) => `${path.relative(ROOT, file)} -> ${target}`));
    expect(broken).toEqual([]);
  });

  it("the README's documentation table lists every page in docs/", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## Documentation');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const table = readme.slice(start, end === -1 ? undefined : end);
    const listed = new Set(relativeLinks(table).filter((t) => t.startsWith('docs/')).map((t) => t.slice('docs/'.length)));
    expect(docPages.filter((page) => !listed.has(page))).toEqual([]);
  });
});
