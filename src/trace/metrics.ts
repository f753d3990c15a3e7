/**
 * The metrics of MoA turns, through an `@opentelemetry/api` meter (the
 * application's, or setupMoaTracing's own when it exports): the GenAI client
 * metrics for every model call, with the bucket boundaries the conventions
 * advise, and MoA's own counters.
 *
 * | instrument | kind | unit | attributes |
 * |---|---|---|---|
 * | `gen_ai.client.token.usage` | histogram | `{token}` | operation, provider, `gen_ai.token.type` (`input`/`output`), request/response model, server |
 * | `gen_ai.client.operation.duration` | histogram | `s` | the same but token type, plus `error.type` on failure |
 * | `gen_ai.client.operation.time_to_first_chunk` | histogram | `s` | streamed calls only |
 * | `moa.turns` | counter | `{turn}` | `moa.preset`, `moa.cache` (`hit`/`miss`) |
 * | `moa.reference.failures` | counter | `{call}` | provider, request model, `error.type` |
 * | `moa.cost` | counter | `{USD}` (UCUM annotation: a dollar is no UCUM unit) | provider, request model, `moa.role` (calls with a known cost) |
 * | `moa.insights.unique_contribution` | histogram | `1` | `moa.preset`, `moa.label` (only with `insights_live`) |
 */
import { createNoopMeter, type Attributes, type Counter, type Histogram, type Meter, type MeterProvider } from '@opentelemetry/api';
import { PACKAGE_VERSION } from '../base/version.js';
import { genAiInputTokens, type Usage } from '../record/usage.js';
import * as A from './attributes.js';
import { INSTRUMENTATION_SCOPE } from './attributes.js';

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const SECONDS_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

export const METRIC_TOKEN_USAGE = 'gen_ai.client.token.usage';
export const METRIC_OPERATION_DURATION = 'gen_ai.client.operation.duration';
export const METRIC_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk';
export const METRIC_TURNS = 'moa.turns';
export const METRIC_REFERENCE_FAILURES = 'moa.reference.failures';
export const METRIC_COST = 'moa.cost';
export const METRIC_UNIQUE_CONTRIBUTION = 'moa.insights.unique_contribution';
export const GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
/** Shares of the answer: fine near 0, where a drop candidate sits. */
const SHARE_BUCKETS = [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1];

/** What one ended call tells the metrics. */
export interface CallMeasurement {
  role: string;
  /** The call's identifying attributes (operation, provider, models, server), made only when measured. */
  attributes: () => Attributes;
  durationSeconds: number;
  usage: Usage | null;
  timeToFirstChunkSeconds: number | null;
  errorType: string | null;
  costUsd: number | null;
}

interface Instruments {
  tokenUsage: Histogram;
  duration: Histogram;
  firstChunk: Histogram;
  turns: Counter;
  referenceFailures: Counter;
  cost: Counter;
  uniqueContribution: Histogram;
}

/**
 * Instruments are made on first use, so a turn that records nothing costs
 * nothing. The API keeps no proxy for meters, so the provider is asked for
 * at each measurement (a global lookup) and the instruments are made again
 * only when it changed — an application may register its own after the
 * first turn.
 */
export class MoaMetrics {
  #from: MeterProvider | undefined;
  /** Undefined while the provider is the API's no-op one: nothing is measured then, not even attribute sets built. */
  #instruments: Instruments | undefined;

  constructor(private readonly provider: () => MeterProvider) {}

  private get instruments(): Instruments | undefined {
    const provider = this.provider();
    if (provider !== this.#from) {
      this.#from = provider;
      const meter = provider.getMeter(INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
      this.#instruments = isNoopMeter(meter) ? undefined : makeInstruments(meter);
    }
    return this.#instruments;
  }

  /** Whether anything is measured: a caller can skip building a measurement nobody takes. */
  get measuring(): boolean {
    return this.instruments !== undefined;
  }

  callEnded(call: CallMeasurement): void {
    const instruments = this.instruments;
    if (!instruments) return;
    const { tokenUsage, duration, firstChunk, referenceFailures, cost } = instruments;
    const base = call.attributes();
    duration.record(call.durationSeconds, call.errorType ? { ...base, [A.ERROR_TYPE]: call.errorType } : base);
    if (call.usage) {
      tokenUsage.record(genAiInputTokens(call.usage), { ...base, [GEN_AI_TOKEN_TYPE]: 'input' });
      tokenUsage.record(call.usage.outputTokens, { ...base, [GEN_AI_TOKEN_TYPE]: 'output' });
    }
    if (call.timeToFirstChunkSeconds !== null) firstChunk.record(call.timeToFirstChunkSeconds, base);
    if (call.errorType && call.role === A.ROLE_REFERENCE) {
      referenceFailures.add(1, {
        [A.GEN_AI_PROVIDER_NAME]: base[A.GEN_AI_PROVIDER_NAME] ?? '', [A.GEN_AI_REQUEST_MODEL]: base[A.GEN_AI_REQUEST_MODEL] ?? '',
        [A.ERROR_TYPE]: call.errorType,
      });
    }
    if (call.costUsd !== null && call.costUsd >= 0) {
      cost.add(call.costUsd, {
        [A.GEN_AI_PROVIDER_NAME]: base[A.GEN_AI_PROVIDER_NAME] ?? '', [A.GEN_AI_REQUEST_MODEL]: base[A.GEN_AI_REQUEST_MODEL] ?? '',
        [A.MOA_ROLE]: call.role,
      });
    }
  }

  /** A reference's unique contribution to one answer (live insights). */
  uniqueContribution(preset: string, label: string, share: number): void {
    this.instruments?.uniqueContribution.record(share, { [A.MOA_PRESET]: preset, [A.MOA_LABEL]: label });
  }

  turnEnded(preset: string, cache: 'hit' | 'miss'): void {
    this.instruments?.turns.add(1, { [A.MOA_PRESET]: preset, [A.MOA_CACHE]: cache });
  }
}

const NOOP_METER_PROTOTYPE = Object.getPrototypeOf(createNoopMeter()) as object;

/** The API's no-op meter (no meter provider registered): its instruments would drop everything. */
function isNoopMeter(meter: Meter): boolean {
  return Object.getPrototypeOf(meter) === NOOP_METER_PROTOTYPE;
}

function makeInstruments(meter: Meter): Instruments {
  return {
    tokenUsage: meter.createHistogram(METRIC_TOKEN_USAGE, {
      description: 'Number of input and output tokens used', unit: '{token}', advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    duration: meter.createHistogram(METRIC_OPERATION_DURATION, {
      description: 'GenAI operation duration', unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    firstChunk: meter.createHistogram(METRIC_TIME_TO_FIRST_CHUNK, {
      description: 'Time to receive the first chunk of a streamed response', unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    turns: meter.createCounter(METRIC_TURNS, { description: 'MoA iterations, by cache hit or miss', unit: '{turn}' }),
    referenceFailures: meter.createCounter(METRIC_REFERENCE_FAILURES, { description: 'Reference calls that failed (the turn went on)', unit: '{call}' }),
    cost: meter.createCounter(METRIC_COST, { description: 'Cost of model calls in US dollars', unit: '{USD}' }),
    uniqueContribution: meter.createHistogram(METRIC_UNIQUE_CONTRIBUTION, {
      description: "Share of the final answer found in this reference's output and in no other reference's", unit: '1',
      advice: { explicitBucketBoundaries: SHARE_BUCKETS },
    }),
  };
}

/** The attributes metrics identify a call by: the ones the conventions name, nothing with content. */
export function callMetricAttributes(facts: {
  provider: string; requestModel: string; responseModel?: string | null; serverAddress?: string; serverPort?: number;
}): Attributes {
  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: A.OPERATION_CHAT,
    [A.GEN_AI_PROVIDER_NAME]: facts.provider,
    [A.GEN_AI_REQUEST_MODEL]: facts.requestModel,
  };
  if (facts.responseModel) attrs[A.GEN_AI_RESPONSE_MODEL] = facts.responseModel;
  if (facts.serverAddress) attrs[A.SERVER_ADDRESS] = facts.serverAddress;
  if (facts.serverPort !== undefined) attrs[A.SERVER_PORT] = facts.serverPort;
  return attrs;
}
