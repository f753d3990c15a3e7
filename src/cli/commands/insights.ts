/** `moa-otel insights`: which advisor is worth its cost. The analysis is `analyzeInsights`; this prints it. */
import path from 'node:path';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { COMMON_OPTIONS, parseCommandArgs, traceDirectory, withFileErrors } from '../args.js';
import { wantsColor } from '../color.js';
import { createProgress, type Progress } from '../progress.js';
import { problemsToStderr } from '../problems.js';
import { COLOR, PLAIN } from '../../offline/format.js';
import { INSIGHTS_GROUPS, type InsightsDocument, type InsightsGroupBy, type InsightsThresholds } from '../../offline/insights/document.js';
import { analyzeInsights } from '../../offline/insights/run-insights.js';
import { renderInsightsMarkdown, renderInsightsText } from '../../offline/insights/render.js';
import { parseThreshold, THRESHOLD_NAMES } from '../../offline/insights/thresholds.js';

const USAGE = `usage: moa-otel insights [PATH...] [--by slot|model|preset|day] [--since T] [--until T]
                         [--preset NAME]... [--session ID]... [--threshold NAME=VALUE]...
                         [--json | --format text|md|json] [--dir DIR]
                         [--judge PROVIDER:MODEL [--judge-sample N] [--judge-budget-usd USD]]

Which reference model (advisor) is worth its cost: per reference slot
(preset + label) calls, failures, exact cost and its share, latency,
how often the turn waited for it, how much of the final answer came from it
and from it alone, which other advisor it repeats, and a verdict
(keep / review / drop_candidate) with its evidence and the saving per
1,000 user turns. Totals that may be incomplete say so.

PATHs are session files, directories (read recursively) or - (stdin);
without one, every session file of the trace directory.

  --by KEY             rows per slot (default), model, preset or day (UTC)
  --since T, --until T only records written in [T, T]: ISO date/time or epoch seconds
                       (a bare date as --until means the end of that day)
  --preset NAME        only this preset (repeatable)
  --session ID         only this session: raw id or file stem (repeatable)
  --threshold N=V      override a verdict threshold (repeatable); names:
                       ${THRESHOLD_NAMES.join(', ')}
  --format F           text (default), md (a summary for a PR or an issue), json
  --json               the same as --format json (documented in docs/insights.md)
  --dir DIR            trace directory when no PATH is given (and where the judge caches)
  --judge P:M          also ask model M of provider P (configured providers, as presets
                       name them) which references each sampled turn's answer used;
                       its verdicts sit beside the text measures (JUDGE column, judge
                       fields in --json); cached per turn, a rerun costs nothing
  --judge-sample N     turns to judge at most (default 20)
  --judge-budget-usd X stop before this run's judge spend could exceed X (default 1)
  --workers N          worker threads (default: one per core for inputs of 256 MiB or more; 0: none)`;

const command: CliCommand = {
  name: 'insights',
  summary: 'which advisor is worth its cost: verdicts, evidence, savings',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runInsights(argv, io)),
};
export default command;

const FORMATS = ['text', 'md', 'json'] as const;

async function runInsights(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: {
      ...COMMON_OPTIONS,
      by: { type: 'string', default: 'slot' },
      since: { type: 'string' },
      until: { type: 'string' },
      preset: { type: 'string', multiple: true },
      session: { type: 'string', multiple: true },
      threshold: { type: 'string', multiple: true },
      format: { type: 'string' },
      workers: { type: 'string' },
      judge: { type: 'string' },
      'judge-sample': { type: 'string' },
      'judge-budget-usd': { type: 'string' },
    },
    allowPositionals: true,
  });
  const groupBy = values.by as InsightsGroupBy;
  if (!INSIGHTS_GROUPS.includes(groupBy)) throw new CliError(`--by expects one of ${INSIGHTS_GROUPS.join(', ')}, got "${values.by}"`);
  const format = values.json ? 'json' : (values.format ?? 'text');
  if (!(FORMATS as readonly string[]).includes(format)) throw new CliError(`--format expects one of ${FORMATS.join(', ')}, got "${format}"`);
  if (values.json && values.format !== undefined && values.format !== 'json') throw new CliError('--json and --format are exclusive');
  const thresholds: Partial<InsightsThresholds> = {};
  for (const text of values.threshold ?? []) {
    const parsed = parseThreshold(text);
    if ('error' in parsed) throw new CliError(parsed.error);
    thresholds[parsed.name] = parsed.value;
  }
  const since = values.since !== undefined ? parseTime('--since', values.since, false) : null;
  const until = values.until !== undefined ? parseTime('--until', values.until, true) : null;
  if (since !== null && until !== null && since > until) throw new CliError('--since is after --until');
  let workers: number | undefined;
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0) throw new CliError(`--workers expects a whole number ≥ 0, got "${values.workers}"`);
  }
  const paths = positionals.length > 0 ? positionals.map((p) => (p === '-' ? p : resolvePath(io, p))) : [traceDirectory(values.dir, io)];

  let bar: Progress | undefined;
  const doc = await analyzeInsights(paths, {
    groupBy, since, until, presets: values.preset ?? [], sessions: values.session ?? [], thresholds,
    ...(workers !== undefined ? { workers } : {}),
    ...(io.stdin ? { stdin: io.stdin } : {}),
    onProblem: problemsToStderr(io),
    onProgress: (done, total) => {
      bar ??= createProgress(io, 'insights', total);
      bar.update(done);
    },
  });
  bar?.done();
  if (values.judge !== undefined) {
    await judge(doc, paths, values.judge, { sample: values['judge-sample'], budget: values['judge-budget-usd'], dir: values.dir, since, until, presets: values.preset ?? [], sessions: values.session ?? [] }, io);
  } else if (values['judge-sample'] !== undefined || values['judge-budget-usd'] !== undefined) {
    throw new CliError('--judge-sample and --judge-budget-usd need --judge PROVIDER:MODEL');
  }
  if (format === 'json') io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else if (format === 'md') io.stdout.write(renderInsightsMarkdown(doc));
  else io.stdout.write(renderInsightsText(doc, wantsColor(io) ? COLOR : PLAIN));
  return 0;
}

interface JudgeFlags {
  sample: string | undefined;
  budget: string | undefined;
  dir: string | undefined;
  since: number | null;
  until: number | null;
  presets: string[];
  sessions: string[];
}

/** Loaded only here: the judge brings the MoA client's providers (and the openai package) with it. */
async function judge(doc: InsightsDocument, paths: string[], spec: string, flags: JudgeFlags, io: CliIo): Promise<void> {
  let sample: number | undefined;
  if (flags.sample !== undefined) {
    sample = Number(flags.sample);
    if (!/^\d+$/.test(flags.sample.trim())) throw new CliError(`--judge-sample expects a whole number ≥ 0, got "${flags.sample}"`);
  }
  const [{ judgeInsights, JudgeSetupError }, { ProviderRegistry, MoaSetupError, MissingApiKeyError }, { resolveConfig }, { MoaConfigError }] = await Promise.all([
    import('../../offline/insights/judge.js'), import('../../client/providers.js'), import('../../config/load.js'), import('../../config/errors.js'),
  ]);
  try {
    const config = resolveConfig({}, { env: io.env });
    const providers = new ProviderRegistry({ providers: config.providers, env: io.env, maxRetries: 1 });
    const cacheDir = path.join(traceDirectory(flags.dir, io), '.cache', 'insights-judge');
    await judgeInsights(doc, paths, {
      judge: spec, providers, cacheDir, since: flags.since, until: flags.until, presets: flags.presets, sessions: flags.sessions,
      ...(sample !== undefined ? { sample } : {}), ...(flags.budget !== undefined ? { budgetUsd: flags.budget } : {}),
    });
  } catch (err) {
    if (err instanceof MissingApiKeyError) throw new CliError(`set ${err.envVar} to the API key of provider "${err.provider}" (needed by --judge)`, 2);
    if (err instanceof JudgeSetupError || err instanceof MoaSetupError || err instanceof MoaConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

function resolvePath(io: CliIo, p: string): string {
  return path.resolve(io.cwd, p);
}

/** Epoch seconds from an ISO date/time or a number of seconds; a bare date as an upper bound means its last second. */
function parseTime(flag: string, text: string, upper: boolean): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const bareDate = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
  const ms = Date.parse(bareDate ? `${trimmed}T00:00:00Z` : trimmed);
  if (Number.isNaN(ms)) throw new CliError(`${flag} expects an ISO date/time or epoch seconds, got "${text}"`);
  return ms / 1000 + (bareDate && upper ? 86_400 - 0.000001 : 0);
}
