/**
 * Compact session files: the same turns written in both formats by two sinks
 * on one provider; expanded, the compact file is the original file byte for
 * byte, and every reader reads the same records from both.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { RedactSetting } from '../../src/content/redact.js';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { expandLines } from '../../src/offline/compact.js';
import { readInput } from '../../src/offline/inputs.js';
import type { RecordProblem } from '../../src/offline/reader.js';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';

type Message = { role: string; content: unknown; tool_calls?: unknown };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-compact-'));
  // Both sinks stamp `ts` with Date.now(): one fixed clock makes their records comparable.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-07T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

/** One pipeline (one content policy, as setup builds it) with a sink of each format. */
function twoSinks(redact: RedactSetting = false) {
  const instrumentation = new MoaInstrumentation({ env: {}, redact });
  const policy = instrumentation.policy;
  const jsonl = new JsonlSpanProcessor({ traceDir: path.join(dir, 'jsonl'), env: {}, policy });
  const compact = new JsonlSpanProcessor({ traceDir: path.join(dir, 'compact'), env: {}, policy, traceFormat: 'compact' });
  const provider = new BasicTracerProvider({ spanProcessors: [jsonl, compact] });
  instrumentation.setTracerProvider(provider);
  return { jsonl, compact, instrumentation, provider };
}

const MIXED = 'Plan ✈️ 東京 → Москва, naïve café; emoji 🧭🍜; U+2028 [\u2028] NUL [\u0000] lone [\ud800] quote " backslash \\ ';

function sessionTurns(instrumentation: MoaInstrumentation, turns: number, session = 'grow') {
  const history: Message[] = [];
  for (let t = 0; t < turns; t++) {
    history.push({ role: 'user', content: `${t}: ${MIXED.repeat(20 + t)}` });
    history.push({ role: 'assistant', content: [{ type: 'text', text: `answer ${t} ${MIXED}` }], tool_calls: t % 3 === 0 ? [{ id: `c${t}`, type: 'function', function: { name: 'f', arguments: '{"n":1e400}' } }] : undefined });
    if (t === 2) (history[0] as Message).content = 'the first message, edited by the agent after two turns';
    const turn = instrumentation.startTurn({ sessionId: session, preset: 'p', iteration: t });
    for (let r = 0; r < 3; r++) {
      // Each reference gets its own array of its own copies; equal content.
      const messages = [{ role: 'system', content: `advisor ${r}` }, ...history.map((m) => ({ ...m }))];
      turn.startReference({ index: r, model: `m${r}`, provider: 'p', messages }).end({ output: `ref ${r} says ${MIXED}`, cost: { usd: '0.000000000000000000123', status: 'actual' } });
    }
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'system', content: 'act' }, ...history] })
      .end({ output: t === turns - 1 ? null : `final ${t}`, toolCalls: t === turns - 1 ? [{ id: 'x', type: 'function', function: { name: 'g', arguments: '{}' } }] : null });
    turn.end();
  }
}

async function expanded(file: string, problems: RecordProblem[] = []): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of expandLines(file, { onProblem: (p) => problems.push(p) })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function records(file: string, problems: RecordProblem[] = []): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const { record } of readInput({ file }, { onProblem: (p) => problems.push(p) })) out.push(record);
  return out;
}

describe('compact session files', () => {
  it('expand to the original file byte for byte, are much smaller, owner-only, and read as the same records', async () => {
    const { jsonl, compact, instrumentation } = twoSinks();
    sessionTurns(instrumentation, 12);
    // A record large enough to be finished across ticks, and a partial one written at shutdown.
    const big = instrumentation.startTurn({ sessionId: 'big', preset: 'p' });
    big.startReference({ index: 0, model: 'm', provider: 'p', messages: Array.from({ length: 40 }, (_, i) => ({ role: 'user', content: `${i} ${MIXED.repeat(400)}` })) }).end({ output: 'big' });
    big.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'ok' });
    big.end();
    const open = instrumentation.startTurn({ sessionId: 'big', preset: 'p' });
    open.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: 'never answered' }] });
    await Promise.all([jsonl.forceFlush(), compact.forceFlush()]);
    await Promise.all([jsonl.shutdown(), compact.shutdown()]);

    for (const session of ['grow', 'big']) {
      const original = readFileSync(path.join(dir, 'jsonl', `${session}.jsonl`));
      const compactFile = path.join(dir, 'compact', `${session}.jsonl`);
      const problems: RecordProblem[] = [];
      expect((await expanded(compactFile, problems)).equals(original)).toBe(true);
      expect(problems).toEqual([]);
      expect(statSync(compactFile).mode & 0o777).toBe(0o600);
      expect(await records(compactFile, problems)).toEqual(await records(path.join(dir, 'jsonl', `${session}.jsonl`)));
      expect(problems).toEqual([]);
    }
    const lines = (session: string) => readFileSync(path.join(dir, 'jsonl', `${session}.jsonl`), 'utf8').split('\n').filter(Boolean);
    expect(lines('grow')).toHaveLength(12);
    expect(lines('big').map((line) => JSON.parse(line).partial ?? false)).toEqual([false, true]);
    // Twelve turns of a growing conversation, sent to three references and the aggregator.
    expect(statSync(path.join(dir, 'compact', 'grow.jsonl')).size * 8).toBeLessThan(statSync(path.join(dir, 'jsonl', 'grow.jsonl')).size);
  });

  it('applies redaction before storage: no secret reaches the compact file, and it still expands to the redacted original', async () => {
    const { jsonl, compact, instrumentation } = twoSinks(true);
    const secret = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    const turn = instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: `my key is ${secret} ${MIXED.repeat(5)}` }] }).end({ output: 'ok' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: `key ${secret}` }] }).end({ output: 'ok' });
    turn.end();
    await Promise.all([jsonl.shutdown(), compact.shutdown()]);
    const compactText = readFileSync(path.join(dir, 'compact', 's.jsonl'), 'utf8');
    expect(compactText).not.toContain(secret);
    expect(compactText).toContain('"moa_msg"');
    expect((await expanded(path.join(dir, 'compact', 's.jsonl'))).equals(readFileSync(path.join(dir, 'jsonl', 's.jsonl')))).toBe(true);
  });

  it('writes the messages again into a file that was removed, so every record can be expanded', async () => {
    const { compact, instrumentation } = twoSinks();
    sessionTurns(instrumentation, 2, 'rot');
    const file = path.join(dir, 'compact', 'rot.jsonl');
    const first = readFileSync(file);
    // logrotate/prune removed it; the next turns carry the same messages.
    writeFileSync(`${file}.1`, first);
    const { rmSync } = await import('node:fs');
    rmSync(file);
    sessionTurns(instrumentation, 3, 'rot');
    await compact.shutdown();
    const problems: RecordProblem[] = [];
    expect(await records(file, problems)).toHaveLength(3);
    expect(problems).toEqual([]);
  });

  it('moa-otel expand writes the original lines; a record whose messages are missing is one problem line and exit 1', async () => {
    const { jsonl, compact, instrumentation } = twoSinks();
    sessionTurns(instrumentation, 3, 'cli');
    await Promise.all([jsonl.shutdown(), compact.shutdown()]);
    const compactFile = path.join(dir, 'compact', 'cli.jsonl');
    const out: Buffer[] = [];
    const err: string[] = [];
    const io = {
      stdout: new Writable({ write(chunk: Buffer, _e, cb) { out.push(Buffer.from(chunk)); cb(); } }),
      stderr: new Writable({ write(chunk: Buffer, _e, cb) { err.push(String(chunk)); cb(); } }),
      env: {}, cwd: dir,
    };
    expect(await runCli(['expand', compactFile], io)).toBe(0);
    expect(Buffer.concat(out).equals(readFileSync(path.join(dir, 'jsonl', 'cli.jsonl')))).toBe(true);

    // Without the first user message (edited before the third turn), the first two records cannot be expanded.
    const lines = readFileSync(compactFile, 'utf8').split('\n');
    const damaged = path.join(dir, 'damaged.jsonl');
    const kept = lines.filter((line) => !(line.startsWith('{"moa_msg"') && line.includes('"content":"0: Plan')));
    expect(kept).toHaveLength(lines.length - 1);
    writeFileSync(damaged, kept.join('\n'));
    out.length = 0;
    expect(await runCli(['expand', damaged, '--out', path.join(dir, 'out.jsonl')], io)).toBe(1);
    expect(err.join('').trim().split('\n')).toHaveLength(2);
    expect(err.join('')).toMatch(/damaged\.jsonl:\d+: .*refers to message/);
    expect(statSync(path.join(dir, 'out.jsonl')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, 'out.jsonl'), 'utf8')).toBe(`${readFileSync(path.join(dir, 'jsonl', 'cli.jsonl'), 'utf8').split('\n')[2]}\n`);
  });
});
