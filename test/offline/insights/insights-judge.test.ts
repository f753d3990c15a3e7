/**
 * `insights --judge`: a model, over real HTTP (the `openai` package against
 * the scripted server), says which references each sampled turn's answer
 * used; its verdicts sit beside the text measures. Budget stop, cache reuse
 * (no calls on a rerun), failing and garbage judges (recorded, never fatal).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import type { InsightsDocument } from '../../../src/offline/insights/document.js';
import { parseJudgeAnswer } from '../../../src/offline/insights/judge-prompt.js';
import { startScriptedServer, type RecordedRequest, type ScriptedServer } from '../../../src/testing/scripted-server.js';
import { captureIo } from '../fixtures.js';
import { generateCorpus } from './corpus.js';

let dir: string;
let traces: string;
let home: string;
let server: ScriptedServer;

/** A judge that names the advisors sharing a whole sentence with the final answer (the corpus plants such sentences). */
function honestJudge(request: RecordedRequest): string {
  const prompt = String(request.messages[1]?.content ?? '');
  const answer = prompt.slice(prompt.indexOf('<final_answer>'));
  const used = [...prompt.matchAll(/<advisor number="(\d+)">\n([\s\S]*?)\n<\/advisor>/g)]
    .filter((m) => (m[2] as string).split(/(?<=\.) /).some((sentence) => sentence.length > 20 && answer.includes(sentence)))
    .map((m) => Number(m[1]));
  return JSON.stringify({ used, reason: 'shared sentences' });
}

async function insights(args: string[]) {
  const cap = captureIo({ MOA_HOME: home, JUDGE_KEY: 'sk-judge-secret-987' });
  const code = await runCli(['insights', traces, ...args], cap.io);
  return { code, out: cap.out, err: cap.err };
}

async function judgeDoc(args: string[]): Promise<InsightsDocument> {
  const r = await insights(['--json', ...args]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as InsightsDocument;
}

const judgeCalls = () => server.requests.filter((r) => r.model === 'judge').length;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-insights-judge-'));
  traces = path.join(dir, 'traces');
  generateCorpus(traces);
  server = await startScriptedServer({ models: { judge: { reply: honestJudge, costUsd: '0.001' } } });
  home = mkdtempSync(path.join(tmpdir(), 'moa-judge-home-'));
  writeFileSync(path.join(home, 'config.yaml'), [
    'moa:',
    '  providers:',
    `    local: { base_url: "${server.baseURL}", api_key_env: JUDGE_KEY }`,
  ].join('\n'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('insights --judge', () => {
  it('reads a verdict only from one JSON object with advisor numbers in range', () => {
    expect(parseJudgeAnswer('Sure: {"used": [2, 1, 2], "reason": "x"}', 3)).toEqual([1, 2]);
    expect(parseJudgeAnswer('{"used": []}', 3)).toEqual([]);
    expect(parseJudgeAnswer('{"used": [4]}', 3)).toBeNull();
    expect(parseJudgeAnswer('{"used": "1"}', 3)).toBeNull();
    expect(parseJudgeAnswer('advisor two', 3)).toBeNull();
    expect(parseJudgeAnswer('{"used": [1,', 3)).toBeNull();
  });

  it('judges a sample beside the text measures, priced, then answers a rerun from the cache with no call', async () => {
    const plain = await judgeDoc(['--preset', 'research']);
    const before = judgeCalls();
    const cacheDir = path.join(dir, 'cache-a');
    const doc = await judgeDoc(['--preset', 'research', '--judge', 'local:judge', '--judge-sample', '12', '--dir', cacheDir]);
    expect(judgeCalls() - before).toBe(12);
    expect(doc.judge).toMatchObject({
      model: 'local:judge', sampled_turns: 12, judged_turns: 12, cached_turns: 0, failed_turns: 0, garbage_turns: 0,
      skipped_turns: 0, calls: 12, cost_usd: '0.012', budget_usd: '1', stopped: false,
    });
    // the text measures are untouched; the judge's are separate fields
    expect(doc.references.map(({ judge, ...rest }) => rest)).toEqual(plain.references);
    const row = (key: string) => doc.references.find((r) => r.key === key)?.judge;
    expect(row('research/a:carrier')).toEqual({ turns: 12, used: 12, used_share: 1 });
    expect(row('research/d:stray')).toEqual({ turns: 12, used: 0, used_share: 0 });
    // the judge saw no labels, only numbered texts, and no key left the process in a request body
    const request = server.requests.filter((r) => r.model === 'judge').at(-1) as RecordedRequest;
    expect(JSON.stringify(request.body)).not.toMatch(/carrier|stray|sk-judge/);
    expect(request.headers.authorization).toBe('Bearer sk-judge-secret-987');
    // the cache is owner-only
    const cache = path.join(cacheDir, '.cache', 'insights-judge');
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const entries = readdirSync(cache);
    expect(entries).toHaveLength(12);
    for (const e of entries) expect(statSync(path.join(cache, e)).mode & 0o777).toBe(0o600);

    const again = await judgeDoc(['--preset', 'research', '--judge', 'local:judge', '--judge-sample', '12', '--dir', cacheDir]);
    expect(judgeCalls() - before).toBe(12);
    expect(again.judge).toMatchObject({ judged_turns: 12, cached_turns: 12, calls: 0, cost_usd: '0' });
    expect(again.references).toEqual(doc.references);
  });

  it('shows the JUDGE USED column and the run in text and Markdown', async () => {
    const cacheDir = path.join(dir, 'cache-a');
    const text = await insights(['--preset', 'research', '--judge', 'local:judge', '--judge-sample', '12', '--dir', cacheDir]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/SAVE\/1K TURNS\s+JUDGE USED\n/);
    expect(text.out).toMatch(/research\/a:carrier .*\s100% \(12\/12\)\n/);
    expect(text.out).toContain('judge local:judge: 12 of 12 sampled turns judged (12 from cache); 0 calls, $0 of a $1 budget');
    const md = await insights(['--preset', 'research', '--judge', 'local:judge', '--judge-sample', '12', '--dir', cacheDir, '--format', 'md']);
    expect(md.out).toContain('| SAVE/1K TURNS | JUDGE USED |');
    expect(md.out).toMatch(/\| research\/d:stray \|.*\| 0% \(0\/12\) \|/);
  });

  it('stops before the budget could be exceeded', async () => {
    server.setModel('judge', { reply: honestJudge, costUsd: '0.004' });
    const before = judgeCalls();
    const doc = await judgeDoc(['--judge', 'local:judge', '--judge-sample', '10', '--judge-budget-usd', '0.01', '--dir', path.join(dir, 'cache-b')]);
    // 0.004 + 0.004 = 0.008; a third call could bring it to 0.012
    expect(judgeCalls() - before).toBe(2);
    expect(doc.judge).toMatchObject({ calls: 2, judged_turns: 2, skipped_turns: 8, cost_usd: '0.008', budget_usd: '0.01', stopped: true });
    expect(doc.judge?.stop_reason).toMatch(/^budget: the next call could cost \$0\.004, \$0\.008 of \$0\.01 spent/);
  });

  it('stops after a call whose cost it cannot know', async () => {
    server.setModel('judge', { reply: honestJudge });
    const before = judgeCalls();
    const doc = await judgeDoc(['--judge', 'local:judge', '--judge-sample', '5', '--dir', path.join(dir, 'cache-c')]);
    expect(judgeCalls() - before).toBe(1);
    expect(doc.judge).toMatchObject({ calls: 1, judged_turns: 1, unknown_cost_calls: 1, skipped_turns: 4, stopped: true });
  });

  it('records a failing judge and a garbage answer, never fails the command', async () => {
    server.setModel('judge', { failStatus: 400, failMessage: 'bad request for key sk-judge-secret-987' });
    const failing = await judgeDoc(['--judge', 'local:judge', '--judge-sample', '3', '--dir', path.join(dir, 'cache-d')]);
    expect(failing.judge).toMatchObject({ calls: 3, failed_turns: 3, judged_turns: 0, stopped: false });
    expect(failing.judge?.failures[0]).toMatch(/^400 /);
    expect(JSON.stringify(failing)).not.toContain('sk-judge-secret-987');
    expect(failing.references.every((r) => r.judge?.used_share === null)).toBe(true);

    server.setModel('judge', { reply: 'Advisor two, mostly.', costUsd: '0.001' });
    const before = judgeCalls();
    const garbage = await judgeDoc(['--judge', 'local:judge', '--judge-sample', '3', '--dir', path.join(dir, 'cache-d')]);
    expect(garbage.judge).toMatchObject({ calls: 3, garbage_turns: 3, judged_turns: 0, failed_turns: 0 });
    // a garbage answer was paid for: cached, not asked again
    const rerun = await judgeDoc(['--judge', 'local:judge', '--judge-sample', '3', '--dir', path.join(dir, 'cache-d')]);
    expect(judgeCalls() - before).toBe(3);
    expect(rerun.judge).toMatchObject({ calls: 0, garbage_turns: 3 });
  });

  it('bad judge arguments are one line and a non-zero exit', async () => {
    for (const [args, message] of [
      [['--judge', 'nomodel'], 'moa-otel insights: --judge expects PROVIDER:MODEL, got "nomodel"'],
      [['--judge', 'nowhere:m'], 'moa-otel insights: unknown provider "nowhere"'],
      [['--judge', 'local:judge', '--judge-budget-usd', 'lots'], 'moa-otel insights: --judge-budget-usd expects a decimal amount ≥ 0, got "lots"'],
      [['--judge-sample', '3'], 'moa-otel insights: --judge-sample and --judge-budget-usd need --judge PROVIDER:MODEL'],
    ] as const) {
      const r = await insights([...args, '--dir', path.join(dir, 'cache-e')]);
      expect(r.code).not.toBe(0);
      expect(r.err.startsWith(message)).toBe(true);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
