import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { captureIo, makeTraceDir, oursLine, oursRecord, PYTHON_LINES, type TraceDir } from './fixtures.js';

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  const cap = captureIo(env);
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

describe('offline commands', () => {
  let dir: TraceDir;
  beforeEach(() => {
    dir = makeTraceDir();
    dir.write('sess-ours.jsonl', `${oursLine()}\n${oursLine({ iteration: 1, ts: 1_764_000_100, failSecond: false })}\n`);
    dir.write('héllo-wörld.jsonl', `${PYTHON_LINES.join('\n')}\n`);
    // several sessions in one file, as the writer does for absent ids
    dir.write('unknown-session.jsonl', `${oursLine({ sessionId: null })}\n${PYTHON_LINES[1].replace('"héllo-wörld"', 'null')}\n`);
  });
  afterEach(() => dir.cleanup());

  describe('ls', () => {
    it('prints one row per session file with turns, calls, failed calls, tokens and exact cost', async () => {
      const r = await cli(['ls', '--dir', dir.dir]);
      expect(r.code).toBe(0);
      const lines = r.out.trim().split('\n');
      expect(lines[0]).toMatch(/^SESSION\s+TURNS\s+CALLS\s+FAILED\s+TOKENS\s+COST\s+FIRST\s+LAST\s+SIZE$/);
      expect(lines).toHaveLength(4);
      expect(lines[1]).toMatch(/^héllo-wörld\s+2\s+5\s+1\s+2,800\s+\$0\.001\s+2025-11-23T12:13:20Z\s+2025-11-23T12:14:20Z/);
      expect(lines[2]).toMatch(/^sess-ours\s+2\s+6\s+1\s+974\s+\$1\s/);
      expect(lines[3]).toMatch(/^unknown-session\s+2\s+5\s+1\s/);
    });

    it('counts failed calls as report does: a failed aggregator is a failure too', async () => {
      const failedTurn = oursRecord({ sessionId: 'agg-down', failSecond: true });
      Object.assign(failedTurn.aggregator as Record<string, unknown>, { output: null, error: 'HTTP 500: upstream down', cost_usd: null, cost_status: 'unknown' });
      const file = dir.write('agg-down.jsonl', `${JSON.stringify(failedTurn)}\n${oursLine({ sessionId: 'agg-down', failSecond: false, ts: 1_764_000_200 })}\n`);
      const ls = await cli(['ls', '--dir', dir.dir]);
      const [header, ...rows] = ls.out.trim().split('\n').map((line) => line.split(/\s{2,}/));
      const row = rows.find((cells) => cells[0] === 'agg-down');
      const lsFailed = row?.[header!.indexOf('FAILED')];
      const report = await cli(['report', file, '-o', '-']);
      const reportFailed = /<li>failed calls<b>(\d+)<\/b><\/li>/.exec(report.out)?.[1];
      // One reference and one aggregator failed.
      expect({ ls: lsFailed, report: reportFailed }).toEqual({ ls: '2', report: '2' });
    });

    it('--json gives exact decimal cost strings and the raw session ids', async () => {
      const r = await cli(['ls', '--dir', dir.dir, '--json']);
      const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows.map((row) => row.session)).toEqual(['héllo-wörld', 'sess-ours', 'unknown-session']);
      expect(rows[0]).toMatchObject({ cost_usd: '0.001', turns: 2, calls: 5, failed_calls: 1, session_ids: ['héllo-wörld'] });
      expect(rows[1]).toMatchObject({ cost_usd: '1', tokens: { input: 800, cache_read: 100, cache_write: 14, output: 60, reasoning: 10, total: 974 } });
      expect(rows[2]?.session_ids).toEqual([null]);
    });

    it('uses the configured trace directory by default: MOA_TRACE_DIR, else MOA_HOME/moa-traces', async () => {
      const configured = await cli(['ls', '--json'], { MOA_TRACE_DIR: dir.dir });
      expect(configured.code).toBe(0);
      expect(configured.out.trim().split('\n')).toHaveLength(3);
      const home = makeTraceDir();
      try {
        home.write('moa-traces/at-home.jsonl', `${oursLine({ sessionId: 'at-home' })}\n`);
        const byHome = await cli(['ls', '--json'], { MOA_HOME: home.dir });
        expect(byHome.code).toBe(0);
        expect(byHome.out.trim().split('\n').map((l) => (JSON.parse(l) as { session: string }).session)).toEqual(['at-home']);
      } finally {
        home.cleanup();
      }
    });
  });

  describe('show', () => {
    it('prints every turn as a tree with references, aggregator and totals', async () => {
      const r = await cli(['show', 'héllo-wörld', '--dir', dir.dir]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('── turn 1 (line 1) ──');
      expect(r.out).toContain('── turn 2 (line 2) ──');
      expect(r.out).toMatch(/├─ reference 0 {2}openrouter:qwen\/qwen3 .* \$0\.00088653 {2}ok/);
      expect(r.out).toMatch(/├─ reference 1 {2}openrouter:mistral\/small .*failed: HTTP 429: rate limited/);
      expect(r.out).toMatch(/└─ aggregator {2}anthropic:claude-sonnet/);
      expect(r.out).toContain('↳ 日本 ist Japan — ein Land.');
      expect(r.out).not.toMatch(/\u001b\[/); // no colors off a terminal
    });

    it('--turn N and --full print one turn with the exact messages', async () => {
      const r = await cli(['show', path.join(dir.dir, 'sess-ours.jsonl'), '--turn', '2', '--full']);
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('turn 1 ');
      expect(r.out).toContain('── turn 2 (line 2) ──');
      expect(r.out).toContain('input messages (2):');
      expect(r.out).toContain('"text": "Guidance: <b>four</b>"');
      expect(r.out).toContain('What is 2+2?');
    });

    it('--json prints turn, line, exact totals and the record', async () => {
      const r = await cli(['show', 'héllo-wörld', '--dir', dir.dir, '--json']);
      const turns = r.out.trim().split('\n').map((l) => JSON.parse(l) as { turn: number; line: number; totals: { cost_usd: string }; record: { preset: string } });
      expect(turns.map((t) => [t.turn, t.line, t.totals.cost_usd, t.record.preset])).toEqual([[1, 1, '0.00088653', 'fast'], [2, 2, '0.00011347', 'fast']]);
    });

    it('fails with one line and exit 2 for an unknown session, a missing turn, a missing directory', async () => {
      const unknown = await cli(['show', 'nope', '--dir', dir.dir]);
      expect([unknown.code, unknown.err]).toEqual([2, `moa-otel show: unknown session "nope" (no nope.jsonl in ${dir.dir})\n`]);
      const turn = await cli(['show', 'sess-ours', '--dir', dir.dir, '--turn', '9']);
      expect([turn.code, turn.err]).toEqual([2, 'moa-otel show: no turn 9 (the session has 2 turns)\n']);
      const missingDir = await cli(['show', 'x', '--dir', path.join(dir.dir, 'nowhere')]);
      expect(missingDir.code).toBe(2);
      expect(missingDir.err).toMatch(/^moa-otel show: trace directory .*nowhere: no such file or directory\n$/);
      const missingFile = await cli(['show', path.join(dir.dir, 'gone.jsonl')]);
      expect(missingFile.code).toBe(2);
      expect(missingFile.err).toMatch(/^moa-otel show: cannot read .*gone\.jsonl: no such file or directory\n$/);
    });
  });

  describe('stats', () => {
    it('sums costs exactly by model, string and number costs alike', async () => {
      const r = await cli(['stats', '--dir', dir.dir, '--json']);
      expect(r.code).toBe(0);
      const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const qwen = rows.find((row) => row.model === 'qwen/qwen3');
      expect(qwen).toMatchObject({ calls: 3, cost_usd: '0.00111347', tokens: { input: 2800, cache_read: 800, output: 500 } });
      const total = rows.at(-1);
      expect(total).toMatchObject({ total: true, model: 'TOTAL', turns: 6 });
      expect(total?.cost_usd).toBe('1.40111347');
    });

    it('groups by provider, session and day', async () => {
      const byProvider = await cli(['stats', '--dir', dir.dir, '--by', 'provider', '--json']);
      expect(byProvider.out.trim().split('\n').map((l) => (JSON.parse(l) as { provider: string }).provider)).toEqual(['anthropic', 'local', 'openai', 'openrouter', 'TOTAL']);
      const bySession = await cli(['stats', '--dir', dir.dir, '--by', 'session', '--json']);
      expect(bySession.out.trim().split('\n').map((l) => (JSON.parse(l) as { session: string }).session)).toEqual(['héllo-wörld', 'sess-ours', 'unknown-session', 'TOTAL']);
      const byDay = await cli(['stats', '--dir', dir.dir, '--by', 'day']);
      expect(byDay.out).toMatch(/^DAY\s+TURNS\s+CALLS\s+FAILED\s+INPUT\s+CACHE READ\s+CACHE WRITE\s+OUTPUT\s+REASONING\s+COST$/m);
      expect(byDay.out).toMatch(/^2025-11-23\s+3\s/m);
      expect(byDay.out).toMatch(/^TOTAL\s+6\s/m);
    });

    it('rejects an unknown grouping and unknown flags with one line, exit 2', async () => {
      const by = await cli(['stats', '--dir', dir.dir, '--by', 'color']);
      expect([by.code, by.err]).toEqual([2, 'moa-otel stats: --by expects one of model, provider, session, day, got "color"\n']);
      const flag = await cli(['stats', '--bogus']);
      expect(flag.code).toBe(2);
      expect(flag.err).toBe("moa-otel stats: Unknown option '--bogus'\n");
    });
  });

  describe('validate', () => {
    it('exits 0 on valid files of both origins', async () => {
      const r = await cli(['validate', '--dir', dir.dir]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('sess-ours.jsonl: 2 records, ok');
      expect(r.out).toContain('héllo-wörld.jsonl: 2 records, ok');
    });

    it('reports every problem with its line number and exits 1', async () => {
      const bad = JSON.parse(oursLine()) as Record<string, unknown>;
      bad.trace_id = 'XYZ';
      const file = dir.write('bad.jsonl', [oursLine(), '{oops', JSON.stringify({ ts: 'yesterday' }), JSON.stringify(bad), PYTHON_LINES[0], '{"ts": 1'].join('\n'));
      const r = await cli(['validate', file]);
      expect(r.code).toBe(1);
      const lines = r.out.trim().split('\n');
      expect(lines[0]).toMatch(/bad\.jsonl:2: error: invalid JSON/);
      expect(lines[1]).toMatch(/bad\.jsonl:3: error: not a turn record: ts: /);
      expect(lines[2]).toMatch(/bad\.jsonl:4: error: trace_id: expected 32 lowercase hex digits/);
      expect(lines[3]).toMatch(/bad\.jsonl:6: warning: torn last line/);
      expect(lines[4]).toMatch(/bad\.jsonl: 3 records, 4 problems$/);
      const json = await cli(['validate', file, '--json']);
      const objects = json.out.trim().split('\n').map((l) => JSON.parse(l) as { line?: number; ok?: boolean });
      expect(objects.filter((o) => o.line !== undefined).map((o) => o.line)).toEqual([2, 3, 4, 6]);
      expect(objects.at(-1)).toMatchObject({ records: 3, problems: 4, ok: false });
    });
  });

  describe('prune', () => {
    it('deletes files whose last record is older than the limit; --dry-run only lists them', async () => {
      const now = Date.now() / 1000;
      const fresh = dir.write('fresh.jsonl', `${oursLine({ ts: now - 3600 })}\n${oursLine({ ts: now - 60 }).slice(0, 50)}`);
      const dry = await cli(['prune', '--dir', dir.dir, '--older-than', '90m', '--dry-run', '--json']);
      expect(dry.code).toBe(0);
      const planned = dry.out.trim().split('\n').map((l) => JSON.parse(l) as { file: string; deleted: boolean; judged_by: string });
      expect(planned.map((p) => path.basename(p.file)).sort()).toEqual(['héllo-wörld.jsonl', 'sess-ours.jsonl', 'unknown-session.jsonl']);
      expect(planned.every((p) => !p.deleted && p.judged_by === 'last_record')).toBe(true);
      expect(existsSync(path.join(dir.dir, 'sess-ours.jsonl'))).toBe(true);

      const real = await cli(['prune', '--dir', dir.dir, '--older-than', '30m']);
      expect(real.code).toBe(0);
      expect(real.out).toMatch(/^deleted .*sess-ours\.jsonl \(last turn 2025-11-24T16:01:40Z/m);
      expect(existsSync(path.join(dir.dir, 'sess-ours.jsonl'))).toBe(false);
      // fresh.jsonl: last complete record 1h old > 30m, its torn tail does not count
      expect(existsSync(fresh)).toBe(false);
    });

    it('keeps files younger than the limit and judges record-less files by mtime', async () => {
      const now = Date.now() / 1000;
      dir.write('young.jsonl', `${oursLine({ ts: now - 60 })}\n`);
      const empty = dir.write('empty.jsonl', '');
      utimesSync(empty, now - 7200, now - 7200);
      const r = await cli(['prune', '--dir', dir.dir, '--older-than', '1h', '--json']);
      const deleted = r.out.trim().split('\n').map((l) => JSON.parse(l) as { file: string; judged_by: string });
      expect(deleted.find((d) => d.file.endsWith('empty.jsonl'))?.judged_by).toBe('mtime');
      expect(existsSync(path.join(dir.dir, 'young.jsonl'))).toBe(true);
    });

    it('needs a valid duration', async () => {
      expect((await cli(['prune', '--dir', dir.dir])).code).toBe(2);
      const bad = await cli(['prune', '--dir', dir.dir, '--older-than', 'soon']);
      expect([bad.code, bad.err]).toEqual([2, 'moa-otel prune: --older-than expects a duration such as 30d, 12h or 90m, got "soon"\n']);
    });
  });

  describe('tail (without -f)', () => {
    it('prints the last N turns', async () => {
      const r = await cli(['tail', 'sess-ours', '--dir', dir.dir, '-n', '1', '--json']);
      expect(r.code).toBe(0);
      const records = r.out.trim().split('\n').map((l) => JSON.parse(l) as { iteration: number });
      expect(records.map((x) => x.iteration)).toEqual([1]);
      const trees = await cli(['tail', 'héllo-wörld', '--dir', dir.dir]);
      expect(trees.out.match(/^turn /gm)).toHaveLength(2);
    });

    it('says unknown session without -f', async () => {
      const r = await cli(['tail', 'ghost', '--dir', dir.dir]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/unknown session "ghost"/);
    });
  });

  it('reads a raw session id whose file is shared, keeping only its records', async () => {
    writeFileSync(path.join(dir.dir, 'a_b.jsonl'), `${oursLine({ sessionId: 'a/b' })}\n${oursLine({ sessionId: 'a_b', iteration: 7 })}\n`);
    const exact = await cli(['show', 'a/b', '--dir', dir.dir, '--json']);
    expect(exact.out.trim().split('\n').map((l) => (JSON.parse(l) as { record: { session_id: string } }).record.session_id)).toEqual(['a/b']);
    const stem = await cli(['show', 'a_b', '--dir', dir.dir, '--json']);
    expect(stem.out.trim().split('\n')).toHaveLength(2);
  });
});

describe('progress on a terminal', () => {
  it('draws a bar on a TTY stderr for big inputs and nothing otherwise', async () => {
    const { createProgress } = await import('../../src/cli/progress.js');
    let drawn = '';
    const tty = { stderr: Object.assign({ write: (s: string) => { drawn += s; return true; } }, { isTTY: true }) as unknown as NodeJS.WritableStream & { isTTY: boolean } };
    const bar = createProgress(tty, 'stats', 64 * 1024 * 1024);
    bar.update(16 * 1024 * 1024);
    bar.done();
    expect(drawn).toMatch(/^\rstats █+░+ {2}25% 16 MiB\/64 MiB/);
    expect(drawn).toMatch(/100% 64 MiB\/64 MiB\u001b\[K\n$/);
    drawn = '';
    const small = createProgress(tty, 'stats', 1000);
    small.update(500);
    small.done();
    const notTty = createProgress({ stderr: { write: () => { drawn += 'x'; return true; } } as unknown as NodeJS.WritableStream }, 'x', 1e9);
    notTty.update(5e8);
    notTty.done();
    expect(drawn).toBe('');
  });
});

describe('bad input is one line and exit 2 for every offline command', () => {
  const COMMANDS = ['ls', 'show', 'stats', 'validate', 'export', 'report', 'tail', 'prune'];
  it.each(COMMANDS)('%s rejects an unknown flag', async (name) => {
    const positional = name === 'ls' || name === 'prune' ? [] : ['x'];
    const r = await cli([name, ...positional, '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^moa-otel ${name}: Unknown option '--no-such-flag'\\n$`));
    expect(r.out).toBe('');
  });

  it('an unreadable path (a directory named like a trace file) is one line, exit 2', async () => {
    const dir = makeTraceDir();
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(path.join(dir.dir, 'weird.jsonl'));
      for (const name of ['show', 'validate', 'export', 'report']) {
        const args = name === 'export' ? [name, path.join(dir.dir, 'weird.jsonl'), '--out', path.join(dir.dir, 'o')] : [name, path.join(dir.dir, 'weird.jsonl')];
        const r = await cli(args);
        expect(r.code, name).toBe(2);
        // validate walks a directory argument: this one holds no trace file.
        const why = name === 'validate' ? 'a directory without trace files \\(' : 'not a regular file\\n$';
        expect(r.err, name).toMatch(new RegExp(`^moa-otel ${name}: cannot read .*weird\\.jsonl: ${why}`));
      }
      const ls = await cli(['ls', '--dir', dir.dir]);
      expect(ls.code).toBe(0); // directories are not session files
    } finally {
      dir.cleanup();
    }
  });
});
