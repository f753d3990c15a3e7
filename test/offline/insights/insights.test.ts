import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeInsights } from '../../../src/offline/insights/run-insights.js';
import type { InsightsDocument, ReferenceInsight } from '../../../src/offline/insights/document.js';
import { generateCorpus, microText, nearestRank, type CorpusTruth } from './corpus.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let dir: string;
let truth: CorpusTruth;
let doc: InsightsDocument;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-insights-'));
  truth = generateCorpus(path.join(dir, 'traces'));
  doc = await analyzeInsights([path.join(dir, 'traces')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function slot(key: string): ReferenceInsight {
  const found = doc.references.find((r) => r.key === key);
  if (!found) throw new Error(`no row ${key} in ${doc.references.map((r) => r.key).join(', ')}`);
  return found;
}

describe('insights over the planted corpus', () => {
  it('names every planted advisor with the right verdict', () => {
    expect(Object.fromEntries(doc.references.map((r) => [r.key, r.verdict]))).toEqual({
      'research/d:stray': 'drop_candidate',
      'research/b:echo': 'drop_candidate',
      'coding/e:slow': 'review',
      'coding/f:flaky': 'review',
      'research/a:carrier': 'keep',
      'research/c:analyst': 'keep',
      'coding/g:solid': 'keep',
    });
    // Sorted by what to act on first: drops (by cost), then reviews, then keeps.
    expect(doc.references.map((r) => r.verdict)).toEqual(['drop_candidate', 'drop_candidate', 'review', 'review', 'keep', 'keep', 'keep']);
    expect(doc.references[0]?.key).toBe('research/d:stray');
  });

  it('the advisor whose text never reaches the answer: agreement and unique contribution 0', () => {
    const stray = slot('research/d:stray');
    expect(stray.agreement).toBe(0);
    expect(stray.unique_contribution).toBe(0);
    expect(stray.measured_turns).toBe(60);
    expect(stray.evidence).toMatch(/^the answer does not use it: agreement 0%, unique 0% over 60 turns; \d+(\.\d)?% of spend$/);
  });

  it('the advisor that repeats another: redundant with it, nothing unique, and only it is dropped', () => {
    const echo = slot('research/b:echo');
    expect(echo.unique_contribution).toBe(0);
    expect(echo.agreement).toBeGreaterThan(0.1);
    expect(echo.redundant_with).toEqual(['research/c:analyst']);
    expect(echo.redundancy[0]).toEqual({ key: 'research/c:analyst', share: 1, turns: 60 });
    expect(echo.evidence).toMatch(/^repeats research\/c:analyst \(100% of its text found there\), unique 0%/);
    const analyst = slot('research/c:analyst');
    expect(analyst.redundant_with).toEqual([]);
    expect(analyst.unique_contribution).toBeGreaterThan(0.05);
  });

  it('the advisor that carries the answer has the highest agreement and unique contribution', () => {
    const carrier = slot('research/a:carrier');
    const others = doc.references.filter((r) => r.preset === 'research' && r.key !== carrier.key);
    for (const other of others) {
      expect(carrier.agreement as number).toBeGreaterThan(other.agreement as number);
      expect(carrier.unique_contribution as number).toBeGreaterThan(other.unique_contribution as number);
    }
    expect(doc.presets.find((p) => p.preset === 'research')?.references_never_helped).toEqual(['b:echo', 'd:stray']);
  });

  it('the advisor that is always last: straggler share 1 and the exact wait it added', () => {
    const slow = slot('coding/e:slow');
    const waits = truth.slots['coding/e:slow']?.waits as number[];
    expect(slow.straggler_turns).toBe(40);
    expect(slow.straggler_share).toBe(1);
    expect(slow.wait_added_ms).toEqual({
      p50: nearestRank(waits, 0.5), p95: nearestRank(waits, 0.95), total: waits.reduce((a, b) => a + b, 0),
    });
    expect(slot('coding/g:solid').straggler_share).toBe(0);
    expect(slow.evidence).toMatch(/^last to finish in 100% of 40 turns, \+1\.\d\d s p50 wait/);
  });

  it('the advisor that fails 30 % of the time: failure rate, top reasons, review', () => {
    const flaky = slot('coding/f:flaky');
    expect([flaky.calls, flaky.failures, flaky.failure_rate]).toEqual([40, 12, 0.3]);
    expect(flaky.top_failure_reasons).toEqual([{ reason: 'timeout after 30s', count: 8 }, { reason: 'HTTP 429: rate limited', count: 4 }]);
    expect(flaky.evidence).toMatch(/^fails 30% \(12\/40\): timeout after 30s ×8, HTTP 429: rate limited ×4; unique/);
    expect(flaky.unknown_cost_calls).toBe(12);
  });

  it('costs, cost shares and savings are exact', () => {
    expect(doc.spend.recorded_usd).toBe(microText(truth.totalMicro));
    for (const r of doc.references) {
      const t = truth.slots[r.key];
      expect(r.cost_usd, r.key).toBe(microText(t?.costMicro as number));
      expect(r.cost_share, r.key).toBe((t?.costMicro as number) / truth.totalMicro);
      expect(r.calls, r.key).toBe(t?.calls);
    }
    // 60 calls of 0.006 over 60 user turns: 6 dollars per 1,000 turns.
    expect(slot('research/d:stray').saving_per_1000_turns_usd).toBe('6');
    expect(slot('coding/f:flaky').saving_per_1000_turns_usd).toBe('0.7'); // 28 × 0.001 / 40 × 1000
  });

  it('totals say what the tool loops left unrecorded, per preset and per session', () => {
    expect([doc.turns, doc.user_turns, doc.sessions]).toEqual([100, 100, 5]);
    expect(doc.spend.unrecorded_iterations).toBe(4);
    expect(doc.spend.complete).toBe(false);
    expect(doc.spend.note).toContain('≥ 4 iterations not recorded; their spend is missing — set trace_cache_hits');
    const coding = doc.presets.find((p) => p.preset === 'coding');
    expect(coding?.spend.unrecorded_iterations).toBe(4);
    const research = doc.presets.find((p) => p.preset === 'research');
    expect(research?.spend).toMatchObject({ unrecorded_iterations: 0, complete: true, note: null, recorded_usd: microText(truth.presetMicro.research as number) });
    expect(research?.cost_per_user_turn_usd).toBe('0.025');
    expect(research?.answer_latency_ms).toEqual({
      p50: nearestRank(truth.answerLatencies.research as number[], 0.5), p95: nearestRank(truth.answerLatencies.research as number[], 0.95),
    });
    const briefs = Object.fromEntries(doc.session_briefs.map((s) => [s.session, s.spend.unrecorded_iterations]));
    expect(briefs).toEqual({ 'coding-1': 0, 'coding-2': 4, 'research-1': 0, 'research-2': 0, 'research-3': 0 });
  });

  it('a tool-loop turn is still measured: its final answer is read from the next request', async () => {
    const only = await analyzeInsights([path.join(dir, 'traces', 'coding-2.jsonl')]);
    const solid = only.references.find((r) => r.key === 'coding/g:solid');
    // 20 user turns, the last answer recorded; the four loops answered by unrecorded HITs are measured too.
    expect(solid?.measured_turns).toBe(20);
  });

  it('filters by preset, session and time, and groups by model, preset and day', async () => {
    const coding = await analyzeInsights([dir], { presets: ['coding'] });
    expect(coding.references.map((r) => r.key).sort()).toEqual(['coding/e:slow', 'coding/f:flaky', 'coding/g:solid']);
    const one = await analyzeInsights([dir], { sessions: ['research-2'] });
    expect([one.turns, one.sessions]).toEqual([20, 1]);
    const none = await analyzeInsights([dir], { since: 2_000_000_000 });
    expect([none.turns, none.references]).toEqual([0, []]);
    const byModel = await analyzeInsights([dir], { groupBy: 'model' });
    expect(byModel.references.map((r) => r.key).sort()).toEqual(['carrier', 'echo', 'flaky', 'slow', 'solid', 'stray', 'analyst'].sort());
    const byPreset = await analyzeInsights([dir], { groupBy: 'preset' });
    expect(byPreset.references.map((r) => [r.key, r.calls])).toEqual(expect.arrayContaining([['research', 240], ['coding', 120]]));
    const byDay = await analyzeInsights([dir], { groupBy: 'day' });
    expect(byDay.references.map((r) => r.key)).toEqual(['2026-01-01']);
  });

  it('thresholds are overridable and reported', async () => {
    const strict = await analyzeInsights([dir], { thresholds: { review_failure_rate: 0.5 } });
    expect(strict.thresholds.review_failure_rate).toBe(0.5);
    expect(strict.references.find((r) => r.key === 'coding/f:flaky')?.verdict).toBe('keep');
  });

  it('worker threads (the built package) give the same document as the main thread', async () => {
    const built = (await import(path.join(ROOT, 'dist/offline/index.js'))) as { analyzeInsights: typeof analyzeInsights };
    const threaded = await built.analyzeInsights([path.join(dir, 'traces')], { workers: 2 });
    expect(threaded).toEqual(doc);
  }, 30_000);
});
