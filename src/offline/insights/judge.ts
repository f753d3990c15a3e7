/**
 * `--judge PROVIDER:MODEL`: a model's opinion, for a sample of turns, of
 * which references the final answer used — added to the insights document
 * beside the text measures (`judge` fields), never in their place.
 *
 * - Sample: the selected records with a final answer and at least one
 *   reference output, ranked by a hash of their identity and the first N
 *   taken — deterministic, so a rerun picks the same turns (and hits the
 *   cache), and spread over the input rather than its beginning.
 * - Budget: before each call, the spend so far plus that call's likely cost
 *   (the price table's figure for the prompt and the maximum answer, or the
 *   most expensive judge call yet, whichever is higher) must stay within the
 *   budget, else judging stops. Calls are priced as the MoA client prices
 *   its own (`meterCall`). A call whose cost cannot be known stops judging
 *   after it: the budget could not account for the next one.
 * - Never fatal: a failed call is counted (and retried on the next run), a
 *   garbage answer is recorded (and cached: it was paid for).
 *
 * This module loads the MoA client's provider registry (and with it the
 * `openai` package), so the CLI imports it only when `--judge` is given.
 */
import { createHash } from 'node:crypto';
import type { ProviderRegistry, ResolvedProvider } from '../../client/providers.js';
import { meterCall } from '../../client/call-facts.js';
import { priceCall } from '../../client/pricing.js';
import { DecimalSum, decimalText } from '../../record/decimal.js';
import type { TurnRecord } from '../../record/schema.js';
import { isFailedCall } from '../summary.js';
import { groupKeyOf, selectsRecord, sessionOf, type AnalyzeSettings } from './analyze.js';
import { compareDecimal } from './decimal-math.js';
import type { InsightsDocument, JudgeSummary } from './document.js';
import { expandInputs, fileSession, readInputRecords, STDIN } from './input-files.js';
import { JudgeCache, verdictKey, type CachedVerdict } from './judge-cache.js';
import { JUDGE_MAX_TOKENS, JUDGE_PROMPT_VERSION, judgeMessages, parseJudgeAnswer } from './judge-prompt.js';

export const DEFAULT_JUDGE_SAMPLE = 20;
export const DEFAULT_JUDGE_BUDGET_USD = '1';
const MAX_FAILURE_LINES = 3;

export interface JudgeOptions {
  /** "provider:model"; the provider is resolved like a preset's (configured, else known by name). */
  judge: string;
  providers: ProviderRegistry;
  /** Where verdicts are cached (created owner-only). */
  cacheDir: string;
  /** Turns to judge at most (default 20). */
  sample?: number;
  /** Hard limit on this run's judge spend, decimal USD (default "1"). */
  budgetUsd?: string;
  /** The same filters the document was built with. */
  since?: number | null;
  until?: number | null;
  presets?: readonly string[];
  sessions?: readonly string[];
  /** Per judge call (default 60 s). */
  timeoutMs?: number;
}

export class JudgeSetupError extends Error {}

/** "provider:model" split at the first colon (model names may hold colons, e.g. `llama3:8b`). */
export function parseJudgeSpec(spec: string): { provider: string; model: string } {
  const colon = spec.indexOf(':');
  const provider = colon > 0 ? spec.slice(0, colon).trim() : '';
  const model = colon > 0 ? spec.slice(colon + 1).trim() : '';
  if (!provider || !model) throw new JudgeSetupError(`--judge expects PROVIDER:MODEL, got "${spec}"`);
  return { provider, model };
}

interface SampledTurn {
  rank: bigint;
  identity: string;
  answer: string;
  /** The references with an output: their index in the record, their row key, their text. */
  advisors: { index: number; key: string; text: string }[];
}

/** Judges a sample of the turns behind `doc` and adds the `judge` fields to it (in place; also returned). */
export async function judgeInsights(doc: InsightsDocument, paths: readonly string[], options: JudgeOptions): Promise<InsightsDocument> {
  const { provider: providerName, model } = parseJudgeSpec(options.judge);
  const budgetText = decimalText(options.budgetUsd ?? DEFAULT_JUDGE_BUDGET_USD);
  if (budgetText === null || budgetText.startsWith('-')) throw new JudgeSetupError(`--judge-budget-usd expects a decimal amount ≥ 0, got "${options.budgetUsd}"`);
  const sampleSize = options.sample ?? DEFAULT_JUDGE_SAMPLE;
  if (!Number.isInteger(sampleSize) || sampleSize < 0) throw new JudgeSetupError(`--judge-sample expects a whole number ≥ 0, got "${options.sample}"`);
  const provider = options.providers.get(providerName);
  if (provider.api === 'responses') {
    throw new JudgeSetupError(`provider "${providerName}" is called through the Responses API; the judge needs a chat-completions provider`);
  }
  const settings: AnalyzeSettings = {
    groupBy: doc.group_by, since: options.since ?? null, until: options.until ?? null,
    presets: [...(options.presets ?? [])], sessions: [...(options.sessions ?? [])], ngram: doc.text_measure.ngram,
  };
  const sample = await sampleTurns(paths, settings, sampleSize);
  const run = new JudgeRun(provider, model, budgetText, new JudgeCache(options.cacheDir), options.timeoutMs ?? 60_000);
  const perGroup = new Map<string, { turns: number; used: number }>();
  for (const turn of sample) {
    const verdict = await run.judge(turn, options.judge);
    if (verdict?.status !== 'judged') continue;
    for (const advisor of turn.advisors) {
      const group = perGroup.get(advisor.key) ?? { turns: 0, used: 0 };
      group.turns += 1;
      if (verdict.used.includes(advisor.index)) group.used += 1;
      perGroup.set(advisor.key, group);
    }
  }
  for (const row of doc.references) {
    const group = perGroup.get(row.key) ?? { turns: 0, used: 0 };
    row.judge = { turns: group.turns, used: group.used, used_share: group.turns > 0 ? group.used / group.turns : null };
  }
  doc.judge = run.summary(options.judge, sample.length);
  return doc;
}

/** The N lowest-ranked eligible records of the inputs (stdin is not read again: it was consumed by the analysis). */
async function sampleTurns(paths: readonly string[], settings: AnalyzeSettings, size: number): Promise<SampledTurn[]> {
  const kept: SampledTurn[] = [];
  if (size === 0) return kept;
  for (const input of await expandInputs(paths)) {
    if (input.target.file === STDIN) continue;
    const stem = fileSession(input.target.file);
    for await (const { record } of readInputRecords(input.target, () => undefined)) {
      const session = sessionOf(record, stem);
      if (!selectsRecord(settings, record, session, stem)) continue;
      const turn = eligibleTurn(record, session, settings);
      if (!turn) continue;
      if (kept.length === size && turn.rank >= (kept[kept.length - 1] as SampledTurn).rank) continue;
      kept.push(turn);
      kept.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
      if (kept.length > size) kept.pop();
    }
  }
  return kept;
}

function eligibleTurn(record: TurnRecord, session: string, settings: AnalyzeSettings): SampledTurn | null {
  const aggregator = record.aggregator;
  const asksTools = (Array.isArray(aggregator.tool_calls) && aggregator.tool_calls.length > 0) || aggregator.finish_reason === 'tool_calls';
  if (asksTools || isFailedCall(aggregator) || typeof aggregator.output !== 'string' || aggregator.output.trim() === '') return null;
  const advisors = record.references.flatMap((ref, index) => (
    !isFailedCall(ref) && typeof ref.output === 'string' && ref.output.trim() !== ''
      ? [{ index, key: groupKeyOf(settings.groupBy, record, ref), text: ref.output }]
      : []));
  if (advisors.length === 0) return null;
  const identity = [session, record.ts, record.iteration ?? '', record.preset].join('\u0000');
  const rank = BigInt(`0x${createHash('sha256').update(identity).digest('hex').slice(0, 15)}`);
  return { rank, identity, answer: aggregator.output, advisors };
}

class JudgeRun {
  readonly #spent = new DecimalSum();
  #maxCall = '0';
  #calls = 0;
  #unknownCost = 0;
  #judged = 0;
  #cached = 0;
  #failed = 0;
  #garbage = 0;
  #skipped = 0;
  #stopReason: string | null = null;
  readonly #failures: string[] = [];

  constructor(
    private readonly provider: ResolvedProvider, private readonly model: string, private readonly budget: string,
    private readonly cache: JudgeCache, private readonly timeoutMs: number,
  ) {}

  async judge(turn: SampledTurn, judgeSpec: string): Promise<CachedVerdict | null> {
    const key = verdictKey(turn.identity, [turn.answer, ...turn.advisors.map((a) => a.text)], judgeSpec);
    const cached = await this.cache.get(key);
    if (cached) return this.count(cached, true);
    if (this.#stopReason !== null) {
      this.#skipped += 1;
      return null;
    }
    const messages = judgeMessages(turn.answer, turn.advisors.map((a) => a.text));
    const likely = this.likelyCost(messages.reduce((n, m) => n + m.content.length, 0));
    if (compareDecimal(sum(this.#spent.toString(), likely), this.budget) > 0) {
      this.#stopReason = `budget: the next call could cost $${likely}, $${this.#spent.toString()} of $${this.budget} spent`;
      this.#skipped += 1;
      return null;
    }
    let text: string;
    try {
      this.#calls += 1;
      const response = await this.provider.client.chat.completions.create(
        { model: this.model, messages, temperature: 0, max_tokens: JUDGE_MAX_TOKENS, stream: false },
        { timeout: this.timeoutMs },
      );
      this.meter(response.usage);
      text = response.choices[0]?.message.content ?? '';
    } catch (err) {
      this.#failed += 1;
      if (this.#failures.length < MAX_FAILURE_LINES) this.#failures.push(failureLine(this.provider.scrub(err)));
      return null;
    }
    const used = parseJudgeAnswer(text, turn.advisors.length);
    const verdict: CachedVerdict = used === null
      ? { status: 'garbage' }
      : { status: 'judged', used: used.map((n) => (turn.advisors[n - 1] as { index: number }).index) };
    await this.cache.put(key, verdict).catch((err: unknown) => {
      if (this.#failures.length < MAX_FAILURE_LINES) this.#failures.push(`cache: ${failureLine(err)}`);
    });
    return this.count(verdict, false);
  }

  summary(spec: string, sampled: number): JudgeSummary {
    return {
      model: spec, prompt_version: JUDGE_PROMPT_VERSION, sampled_turns: sampled, judged_turns: this.#judged, cached_turns: this.#cached,
      failed_turns: this.#failed, garbage_turns: this.#garbage, skipped_turns: this.#skipped, calls: this.#calls,
      cost_usd: this.#spent.toString(), unknown_cost_calls: this.#unknownCost, budget_usd: this.budget,
      stopped: this.#stopReason !== null, stop_reason: this.#stopReason, failures: [...this.#failures],
    };
  }

  private count(verdict: CachedVerdict, fromCache: boolean): CachedVerdict {
    if (verdict.status === 'garbage') this.#garbage += 1;
    else {
      this.#judged += 1;
      if (fromCache) this.#cached += 1;
    }
    return verdict;
  }

  private meter(rawUsage: unknown): void {
    const { cost } = meterCall(this.provider, this.model, rawUsage);
    const usd = decimalText(cost.usd);
    if (usd === null) {
      this.#unknownCost += 1;
      this.#stopReason ??= `the judge's cost is unknown (model "${this.model}" is not priced and the provider reported none), so the budget cannot be kept`;
      return;
    }
    this.#spent.add(usd);
    if (compareDecimal(usd, this.#maxCall) > 0) this.#maxCall = usd;
  }

  /** The price table's cost of the prompt (about 3 characters a token) and the longest answer, or the dearest call yet. */
  private likelyCost(promptChars: number): string {
    const table = priceCall({
      provider: this.provider.name, genAiProvider: this.provider.genAiProvider, baseURL: this.provider.baseURL, model: this.model,
      usage: { inputTokens: Math.ceil(promptChars / 3), outputTokens: JUDGE_MAX_TOKENS, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      included: this.provider.included,
    });
    const estimate = decimalText(table.usd) ?? '0';
    return compareDecimal(estimate, this.#maxCall) >= 0 ? estimate : this.#maxCall;
  }
}

function sum(a: string, b: string): string {
  const total = new DecimalSum();
  total.add(a);
  total.add(b);
  return total.toString();
}

function failureLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').slice(0, 200);
}
