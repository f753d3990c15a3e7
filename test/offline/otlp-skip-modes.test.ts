/**
 * OTLP input read by the commands that skip message lists (`stats` and the
 * calls table: `true`; `ls`: `'turns'`; `validate`: `'checked'`): the lists
 * are cut out of the line before it is decoded, yet a line that is broken
 * is reported word for word as a full read reports it, and under
 * `'checked'` a list that would break the line's parse is found.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { readInput, type InputRecord } from '../../src/offline/inputs.js';
import type { RecordProblem, SkipContent } from '../../src/offline/reader.js';
import { captureIo, makeTraceDir, oursRecord, type TraceDir } from './fixtures.js';

async function readAll(file: string, skipContent: SkipContent) {
  const problems: RecordProblem[] = [];
  const records: InputRecord[] = [];
  for await (const r of readInput({ file }, { onProblem: (p) => problems.push(p), skipContent })) records.push(r);
  return { records, problems };
}

/**
 * Three turns (the second without `iteration`, as the original writer wrote
 * it; the first asking for tools unless `firstAsksForTools` is false)
 * exported as OTLP JSON, one request per line.
 */
async function exportedLines(dir: TraceDir, firstAsksForTools = true): Promise<string[]> {
  const records = [1, 2, 3].map((i) => {
    const record = { ...oursRecord({ ts: 1_764_000_000 + i * 10, iteration: i }), trace_id: String(i).padStart(32, 'a') } as Record<string, unknown>;
    if (i === 2) delete record.iteration;
    if (i === 1 && firstAsksForTools) record.aggregator = { ...(record.aggregator as object), finish_reason: 'tool_calls' };
    return JSON.stringify(record);
  });
  const jsonl = dir.write('s.jsonl', `${records.join('\n')}\n`);
  const otlp = path.join(dir.dir, 's.otlp.json');
  expect(await runCli(['export', jsonl, '--out', otlp], captureIo().io)).toBe(0);
  const lines = readFileSync(otlp, 'utf8').split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(lines.every((l) => l.includes('"key":"gen_ai.input.messages","value":{"stringValue":"'))).toBe(true);
  return lines;
}

const MODES: SkipContent[] = [true, 'turns', 'checked'];

describe('OTLP input without message lists', () => {
  let dir: TraceDir | undefined;
  afterEach(() => dir?.cleanup());

  it('reports a line broken after its lists, or torn, exactly as a full read does, in every mode', async () => {
    dir = makeTraceDir();
    const [line] = await exportedLines(dir);
    // A stray token at the end: the parser names its position, which the cut would have moved.
    const broken = `${line!.slice(0, -1)} x}`;
    const file = path.join(dir.dir, 'broken.otlp.json');
    writeFileSync(file, `${broken}\n${line!.slice(0, -40)}`);
    const full = await readAll(file, false);
    expect(full.problems.map((p) => p.kind)).toEqual(['json', 'torn']);
    expect(full.problems[0]!.message).toMatch(/position \d+|"x}"|x/);
    for (const mode of MODES) expect((await readAll(file, mode)).problems, String(mode)).toEqual(full.problems);
  });

  it("'checked' finds a list that breaks the line's JSON (a bad escape, a raw control character) as a full read does", async () => {
    dir = makeTraceDir();
    const [line] = await exportedLines(dir);
    const value = '"key":"gen_ai.input.messages","value":{"stringValue":"';
    const at = line!.indexOf(value) + value.length;
    for (const inserted of ['\\x41', '\t', '\\u12G4']) {
      const file = path.join(dir.dir, 'bad-list.otlp.json');
      writeFileSync(file, `${line!.slice(0, at)}${inserted}${line!.slice(at)}\n`);
      const full = await readAll(file, false);
      expect(full.problems.map((p) => p.kind), JSON.stringify(inserted)).toEqual(['json']);
      expect(full.records).toHaveLength(0);
      const checked = await readAll(file, 'checked');
      expect(checked.problems, JSON.stringify(inserted)).toEqual(full.problems);
      expect(checked.records).toHaveLength(0);
    }
  });

  it("reads records without the lists a mode does not need: none under true and 'checked'; under 'turns' only the aggregator's of a record without iteration", async () => {
    dir = makeTraceDir();
    const lines = await exportedLines(dir);
    const file = path.join(dir.dir, 'ok.otlp.json');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const full = await readAll(file, false);
    expect(full.records).toHaveLength(3);
    expect(full.problems).toEqual([]);
    const listsOf = (records: InputRecord[]) => records.map(({ record }) => ({
      iteration: record.iteration,
      references: record.references.map((c) => c.input_messages.length),
      aggregator: record.aggregator.input_messages.length,
    }));
    expect(listsOf(full.records)).toEqual([
      { iteration: 1, references: [2, 2], aggregator: 2 },
      { iteration: undefined, references: [2, 2], aggregator: 2 },
      { iteration: 3, references: [2, 2], aggregator: 2 },
    ]);
    const without = (records: InputRecord[]) => records.map(({ record }) => ({
      ...record, references: record.references.map((c) => ({ ...c, input_messages: [] })), aggregator: { ...record.aggregator, input_messages: [] },
    }));
    for (const mode of MODES) {
      const read = await readAll(file, mode);
      expect(read.problems).toEqual([]);
      expect(without(read.records), String(mode)).toEqual(without(full.records));
      const keptAggregator = mode === 'turns' ? 2 : 0;
      expect(listsOf(read.records), String(mode)).toEqual([
        { iteration: 1, references: [0, 0], aggregator: 0 },
        { iteration: undefined, references: [0, 0], aggregator: keptAggregator },
        { iteration: 3, references: [0, 0], aggregator: 0 },
      ]);
    }
    // The kept list is the one a full read gives.
    const turns = await readAll(file, 'turns');
    expect(turns.records[1]!.record.aggregator.input_messages).toEqual(full.records[1]!.record.aggregator.input_messages);
  });

  it("under 'turns', keeps the aggregator's list of a record without iteration only after one asking for tools, as the JSONL reader does", async () => {
    for (const asks of [true, false]) {
      dir = makeTraceDir();
      const lines = await exportedLines(dir, asks);
      const file = path.join(dir.dir, 'ok.otlp.json');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const lists = (records: InputRecord[]) => records.map(({ record }) => record.aggregator.input_messages.length);
      const otlp = await readAll(file, 'turns');
      expect(otlp.problems).toEqual([]);
      expect(lists(otlp.records), String(asks)).toEqual([0, asks ? 2 : 0, 0]);
      expect(lists(otlp.records), String(asks)).toEqual(lists((await readAll(path.join(dir.dir, 's.jsonl'), 'turns')).records));
      // What `ls` shows of the two is the same too.
      const shown = async (target: string) => {
        const captured = captureIo();
        expect(await runCli(['ls', target, '--json'], captured.io)).toBe(0);
        return captured.out.replace(/"file":"[^"]*"|"size_bytes":\d+|"(?:first|last)_ts":[\d.]+/g, '').replace(/"session":"[^"]*"/, '');
      };
      expect(await shown(file)).toEqual(await shown(path.join(dir.dir, 's.jsonl')));
      dir.cleanup();
      dir = undefined;
    }
  });

  it("under 'turns', a list that is no valid JSON string goes unchecked like the references', as the JSONL reader leaves a list it cannot parse", async () => {
    dir = makeTraceDir();
    const lines = await exportedLines(dir);
    const value = '"key":"gen_ai.input.messages","value":{"stringValue":"';
    // A raw tab in every list: the whole line is no valid JSON.
    const file = path.join(dir.dir, 'tabs.otlp.json');
    writeFileSync(file, `${lines.map((l) => l.split(value).join(`${value}\t`)).join('\n')}\n`);
    expect((await readAll(file, false)).problems.map((p) => p.kind)).toContain('json');
    const turns = await readAll(file, 'turns');
    expect(turns.problems).toEqual([]);
    expect(turns.records.map(({ record }) => record.aggregator.input_messages.length)).toEqual([0, 0, 0]);
    expect(turns.records.map(({ record }) => record.trace_id)).toEqual((await readAll(file, true)).records.map(({ record }) => record.trace_id));
  });

  it("under 'turns', an aggregator whose root comes on a later line keeps its list only when that root has no iteration", async () => {
    dir = makeTraceDir();
    const lines = await exportedLines(dir);
    type Request = { resourceSpans: { scopeSpans: { spans: { attributes: { key: string; value: unknown }[] }[] }[] }[] };
    // Each request split in two lines: the call spans first, then the roots.
    const isRoot = (span: { attributes: { key: string; value: unknown }[] }) => span.attributes.some((a) => a.key === 'gen_ai.operation.name' && JSON.stringify(a.value).includes('invoke_workflow'));
    const split = lines.flatMap((line) => {
      const request = JSON.parse(line) as Request;
      const part = (keep: boolean) => JSON.stringify({
        resourceSpans: request.resourceSpans.map((group) => ({ ...group, scopeSpans: group.scopeSpans.map((scope) => ({ ...scope, spans: scope.spans.filter((span) => isRoot(span) === keep) })) })),
      });
      return [part(false), part(true)];
    });
    const file = path.join(dir.dir, 'split.otlp.json');
    writeFileSync(file, `${split.join('\n')}\n`);
    const full = await readAll(file, false);
    expect(full.records).toHaveLength(3);
    const turns = await readAll(file, 'turns');
    expect(turns.problems).toEqual([]);
    expect(turns.records.map(({ record }) => record.aggregator.input_messages)).toEqual([[], full.records[1]!.record.aggregator.input_messages, []]);
    expect(full.records[1]!.record.aggregator.input_messages).toHaveLength(2);
  });
});
