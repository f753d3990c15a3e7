/**
 * The `moa` field of a returned completion: what the whole turn did and
 * cost, per call and in total, so a caller that bills or budgets sees the
 * references' spend too (the aggregator's `usage` alone is a fraction of it).
 * Field names are snake_case, like the rest of the chat-completions JSON.
 */
import type { CompletionUsage } from 'openai/resources/completions';
import { decimalText, DecimalSum } from '../record/decimal.js';
import { addUsage, totalTokens, ZERO_USAGE, type Usage } from '../record/usage.js';
import type { CostStatus, SessionId } from '../trace/types.js';
import type { CallMetering } from './call-facts.js';

/** Tokens of one call or of the turn. `input_tokens` is the UNCACHED input, as in the trace records. */
export interface MoaUsageReport {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** Every input token (cached or not) plus output. */
  total_tokens: number;
}

export interface MoaCallReport {
  role: 'reference' | 'aggregator';
  label: string;
  provider: string;
  model: string;
  /** null: no call was made (a cache hit or a skipped slot), or the provider reported no usage. */
  usage: MoaUsageReport | null;
  /** US dollars (nearest float); null when unknown. */
  cost_usd: number | null;
  /** The same cost as exact decimal text. */
  cost_usd_exact: string | null;
  cost_status: CostStatus | null;
  /** Why the call failed or was skipped; null when it answered. */
  error: string | null;
  /** Reused from the reference cache: not called, and not billed, in this turn. */
  cached: boolean;
}

export interface MoaTurnReport {
  /** The turn's trace (its root span `invoke_workflow moa`); null when nothing records. */
  trace_id: string | null;
  session_id: SessionId;
  preset: string;
  fanout: string;
  /** 1-based iteration within the user turn. */
  iteration: number;
  /** `hit`: the references' advice was reused from an earlier iteration; `miss`: they ran (or there are none). */
  cache: 'hit' | 'miss';
  calls: MoaCallReport[];
  totals: {
    /** Tokens of the calls made in this turn (cached references add nothing). */
    usage: MoaUsageReport;
    /** Sum of the known costs (exact decimal arithmetic); null when no cost is known. */
    cost_usd: number | null;
    cost_usd_exact: string | null;
    /** Every call made has a known cost (otherwise `cost_usd` is a lower bound). */
    cost_complete: boolean;
    /** Requests sent to providers in this turn (failed ones included). */
    calls: number;
    /** Calls that failed or were skipped. */
    failures: number;
  };
}

export interface CallFacts {
  role: 'reference' | 'aggregator';
  label: string;
  provider: string;
  model: string;
  /** A request was sent (it may have failed): not for a cached or skipped reference. */
  called: boolean;
  metering?: CallMetering;
  error?: string | null;
  cached?: boolean;
}

export interface TurnFacts {
  traceId: string | null;
  sessionId: SessionId;
  preset: string;
  fanout: string;
  iteration: number;
  cache: 'hit' | 'miss';
}

export function buildTurnReport(turn: TurnFacts, calls: readonly CallFacts[]): MoaTurnReport {
  let usage: Usage = ZERO_USAGE;
  const cost = new DecimalSum();
  let made = 0;
  let failures = 0;
  let unknownCost = false;
  const reports = calls.map((call): MoaCallReport => {
    const exact = decimalText(call.metering?.cost.usd);
    if (call.called) made += 1;
    if (call.metering?.usage) usage = addUsage(usage, call.metering.usage);
    if (exact !== null) cost.add(exact);
    // A failed call reported nothing to price; one that answered without a known cost leaves the total short.
    else if (call.called && !call.error) unknownCost = true;
    if (call.error) failures += 1;
    return {
      role: call.role,
      label: call.label,
      provider: call.provider,
      model: call.model,
      usage: call.metering?.usage ? usageReport(call.metering.usage) : null,
      cost_usd: exact === null ? null : Number(exact),
      cost_usd_exact: exact,
      cost_status: call.metering?.cost.status ?? null,
      error: call.error ?? null,
      cached: call.cached === true,
    };
  });
  const total = cost.toNullableString();
  return {
    trace_id: turn.traceId,
    session_id: turn.sessionId,
    preset: turn.preset,
    fanout: turn.fanout,
    iteration: turn.iteration,
    cache: turn.cache,
    calls: reports,
    totals: {
      usage: usageReport(usage),
      cost_usd: total === null ? null : Number(total),
      cost_usd_exact: total,
      cost_complete: !unknownCost,
      calls: made,
      failures,
    },
  };
}

/**
 * The turn's totals as an OpenAI `usage` object, for callers that only read
 * `usage`: every input token of every call as prompt tokens (cached ones in
 * `prompt_tokens_details.cached_tokens`), and the turn's cost as `cost` (the
 * field OpenRouter uses) when one is known.
 */
export function turnUsage(report: MoaTurnReport): CompletionUsage & { cost?: number } {
  const u = report.totals.usage;
  const prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output_tokens,
    total_tokens: prompt + u.output_tokens,
    prompt_tokens_details: { cached_tokens: u.cache_read_tokens },
    completion_tokens_details: { reasoning_tokens: u.reasoning_tokens },
    ...(report.totals.cost_usd !== null ? { cost: report.totals.cost_usd } : {}),
  };
}

/**
 * The aggregator's own `usage` with the whole turn's dollars in `cost`, the
 * field OpenRouter reports a request's cost in and OpenAI-compatible clients
 * read: the caller asked one model and pays for every call of the turn. The
 * tokens stay the aggregator's (agent loops size their context from them);
 * a provider's own `cost` (the aggregator's share alone) is replaced, and
 * removed when no cost of the turn is known.
 */
export function withTurnCost<U extends object>(usage: U, report: MoaTurnReport): U & { cost?: number } {
  const { cost: _aggregatorCost, ...rest } = usage as U & { cost?: unknown };
  return (report.totals.cost_usd !== null ? { ...rest, cost: report.totals.cost_usd } : rest) as U & { cost?: number };
}

function usageReport(u: Usage): MoaUsageReport {
  return {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    cache_read_tokens: u.cacheReadTokens,
    cache_write_tokens: u.cacheWriteTokens,
    reasoning_tokens: u.reasoningTokens,
    total_tokens: totalTokens(u),
  };
}
