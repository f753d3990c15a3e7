/** `moa-otel insights` in process: text, Markdown and JSON name the planted advisors; bad input is one line. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import { captureIo } from '../fixtures.js';
import { generateCorpus, microText, type CorpusTruth } from './corpus.js';
import type { InsightsDocument } from '../../../src/offline/insights/document.js';

let dir: string;
let truth: CorpusTruth;

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  const cap = captureIo(env);
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-insights-cli-'));
  truth = generateCorpus(path.join(dir, 'traces'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('moa-otel insights', () => {
  it('text: one table, drop candidates first, evidence per row, the incomplete total said first', async () => {
    const r = await cli(['insights', path.join(dir, 'traces')]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`MoA insights: 100 iterations in 100 user turns over 5 sessions; recorded spend $${microText(truth.totalMicro)}`);
    expect(lines[1]).toBe('! ≥ 4 iterations not recorded; their spend is missing — set trace_cache_hits; 12 calls of unknown cost not in the sum');
    expect(lines[3]).toMatch(/^VERDICT\s+GROUP\s+CALLS\s+FAILED\s+COST\s+SHARE/);
    expect(lines[4]).toMatch(/^drop_candidate\s+research\/d:stray\s+60\s+0\s+\$0\.36\s+/);
    expect(lines[5]).toMatch(/^drop_candidate\s+research\/b:echo\s+60\s+0\s+\$0\.12\s+/);
    expect(r.out).toMatch(/^ {2}drop_candidate research\/b:echo: repeats research\/c:analyst/m);
    expect(r.out).toMatch(/^ {2}review coding\/f:flaky: fails 30% \(12\/40\)/m);
    expect(r.out).toMatch(/^ {2}review coding\/e:slow: last to finish in 100% of 40 turns/m);
    expect(r.out).toMatch(/^coding\s+40\s+40\s+\$[\d.]+ \(incomplete\)/m);
    expect(r.out).toMatch(/^research\s+60\s+60\s+\$[\d.]+\s+\$0\.025\s+.*b:echo, d:stray$/m);
    expect(r.out).toMatch(/^coding-2\s+coding\s+20\s+\$[\d.]+\s+\S+\s+≥ 4 iterations not recorded/m);
    expect(r.out).not.toMatch(/\u001b\[/);
  });

  it('colours verdicts on a terminal unless NO_COLOR', async () => {
    const cap = captureIo({});
    Object.assign(cap.io.stdout, { isTTY: true });
    await runCli(['insights', path.join(dir, 'traces')], cap.io);
    expect(cap.out).toContain('\u001b[31mdrop_candidate\u001b[39m');
    expect(cap.out).toContain('\u001b[32mkeep\u001b[39m');
  });

  it('Markdown: a table and the evidence to paste, with the warning', async () => {
    const r = await cli(['insights', path.join(dir, 'traces'), '--format', 'md']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^## MoA insights\n\n100 iterations in 100 user turns over 5 sessions/);
    expect(r.out).toContain('> **Warning:** ≥ 4 iterations not recorded; their spend is missing — set trace\\_cache\\_hits');
    expect(r.out).toMatch(/^\| \*\*drop\\_candidate\*\* \| research\/d:stray \| 60 \| 0 \| \$0\.36 \|/m);
    expect(r.out).toMatch(/^- \*\*review\*\* `coding\/f:flaky`: fails 30% \(12\/40\)/m);
    expect(r.out).toMatch(/^- \*\*keep\*\* `research\/a:carrier`: unique/m);
    expect(r.out).toMatch(/^- `coding-2`: \$[\d.]+ recorded; ≥ 4 iterations not recorded/m);
  });

  it('--json: the documented document, parsed back', async () => {
    const r = await cli(['insights', path.join(dir, 'traces'), '--json', '--by', 'slot']);
    const doc = JSON.parse(r.out) as InsightsDocument;
    expect(Object.keys(doc)).toEqual([
      'version', 'turns', 'user_turns', 'sessions', 'spend', 'group_by', 'filters', 'thresholds', 'text_measure',
      'references', 'presets', 'session_briefs', 'problems',
    ]);
    expect(doc.spend).toEqual({
      recorded_usd: microText(truth.totalMicro), unrecorded_iterations: 4, unknown_cost_calls: 12, complete: false,
      note: '≥ 4 iterations not recorded; their spend is missing — set trace_cache_hits; 12 calls of unknown cost not in the sum',
    });
    const stray = doc.references.find((x) => x.key === 'research/d:stray');
    expect(stray).toMatchObject({
      preset: 'research', label: 'd:stray', model: 'stray', provider: 'd', calls: 60, cost_usd: '0.36',
      cost_share: 360_000 / truth.totalMicro, verdict: 'drop_candidate', saving_per_1000_turns_usd: '6',
    });
    for (const ref of doc.references) {
      for (const share of [ref.cost_share, ref.agreement, ref.unique_contribution, ref.straggler_share, ref.failure_rate]) {
        if (share !== null) expect(share >= 0 && share <= 1, ref.key).toBe(true);
      }
    }
  });

  it('filters and thresholds from the command line', async () => {
    const r = await cli(['insights', path.join(dir, 'traces'), '--json', '--preset', 'coding', '--threshold', 'review_failure_rate=0.5', '--until', '2026-01-01']);
    const doc = JSON.parse(r.out) as InsightsDocument;
    expect(doc.references.map((x) => x.key).sort()).toEqual(['coding/e:slow', 'coding/f:flaky', 'coding/g:solid']);
    expect(doc.filters).toEqual({ since: null, until: 1_767_311_999.999999, presets: ['coding'], sessions: [] });
    expect(doc.references.find((x) => x.key === 'coding/f:flaky')?.verdict).toBe('keep');
  });

  it('bad input is one line and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--by', 'week'], /^moa-otel insights: --by expects one of slot, model, preset, day, got "week"\n$/],
      [['--threshold', 'nope=1'], /^moa-otel insights: unknown threshold "nope" \(known: /],
      [['--threshold', 'redundant_min=2'], /^moa-otel insights: threshold redundant_min is a share and must be within \[0, 1\], got 2\n$/],
      [['--since', 'yesterday'], /^moa-otel insights: --since expects an ISO date\/time or epoch seconds, got "yesterday"\n$/],
      [['--format', 'html'], /^moa-otel insights: --format expects one of text, md, json, got "html"\n$/],
      [[path.join(dir, 'missing')], /^moa-otel insights: cannot read .*missing: no such file or directory\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['insights', ...(args[0]?.startsWith('/') ? args : [path.join(dir, 'traces'), ...args])]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it('reads the same corpus gzip-compressed and from stdin, with the same document', async () => {
    const plain = JSON.parse((await cli(['insights', path.join(dir, 'traces'), '--json'])).out) as InsightsDocument;
    const gzDir = path.join(dir, 'gz');
    mkdirSync(gzDir, { recursive: true });
    for (const file of truth.files) writeFileSync(path.join(gzDir, `${path.basename(file)}.gz`), gzipSync(readFileSync(file)));
    const gz = JSON.parse((await cli(['insights', gzDir, '--json'])).out) as InsightsDocument;
    expect(gz).toEqual(plain);
    // stdin: one stream, the research sessions; ids come from the records.
    const cap = captureIo({});
    const research = truth.files.filter((f) => path.basename(f).startsWith('research')).map((f) => readFileSync(f));
    Object.assign(cap.io, { stdin: Readable.from([Buffer.concat(research)]) });
    expect(await runCli(['insights', '-', '--json'], cap.io)).toBe(0);
    const fromStdin = JSON.parse(cap.out) as InsightsDocument;
    const researchOnly = JSON.parse((await cli(['insights', path.join(dir, 'traces'), '--json', '--preset', 'research'])).out) as InsightsDocument;
    expect(fromStdin.references).toEqual(researchOnly.references);
    expect(fromStdin.session_briefs.map((s) => s.session)).toEqual(['research-1', 'research-2', 'research-3']);
  });

  it('reads the corpus as OTLP JSON written by moa-otel export --out, with the same verdicts and exact costs', async () => {
    const otlpDir = path.join(dir, 'otlp');
    mkdirSync(otlpDir, { recursive: true });
    for (const file of truth.files) {
      const r = await cli(['export', file, '--out', path.join(otlpDir, `${path.basename(file, '.jsonl')}.otlp.json`)]);
      expect(r.code, r.err).toBe(0);
    }
    const plain = JSON.parse((await cli(['insights', path.join(dir, 'traces'), '--json'])).out) as InsightsDocument;
    const otlp = JSON.parse((await cli(['insights', otlpDir, '--json'])).out) as InsightsDocument;
    const view = (d: InsightsDocument) => d.references.map((x) => ({
      key: x.key, verdict: x.verdict, cost_usd: x.cost_usd, cost_share: x.cost_share, calls: x.calls, failures: x.failures,
      straggler_share: x.straggler_share, wait_added_ms: x.wait_added_ms, redundant_with: x.redundant_with,
    }));
    expect(view(otlp)).toEqual(view(plain));
    expect(otlp.spend).toEqual(plain.spend);
    expect(otlp.presets).toEqual(plain.presets);
  });

  it('no turns selected says so', async () => {
    const r = await cli(['insights', path.join(dir, 'traces'), '--since', '2030-01-01']);
    expect(r.out).toContain('no turns selected');
    expect(r.code).toBe(0);
  });
});
