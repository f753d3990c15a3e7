/**
 * The span attributes a turn record is rebuilt from: those the JSONL
 * writer's `buildTurnRecord` reads, and those the OTLP reader itself reads to
 * file spans under their turn. A reader that only rebuilds records (the
 * commands that skip content) decodes no other attribute of a span: the
 * rest (display copies of the input and output, MIME types, per-turn usage
 * sums...) is a third of a span's attributes and never reaches a record.
 *
 * `test/offline/record-attributes.test.ts` checks that every attribute the
 * record builder names is here.
 */
import * as A from '../trace/attributes.js';

export const RECORD_ATTRIBUTES: ReadonlySet<string> = new Set([
  // What a span is (isMoaRoot, isMoaCall) and how a turn is assembled.
  A.GEN_AI_OPERATION_NAME, A.GEN_AI_WORKFLOW_NAME, A.MOA_ROLE, A.MOA_REFERENCE_INDEX, A.MOA_REFERENCE_COUNT, A.MOA_ITERATION,
  // The turn.
  A.MOA_SESSION_ID, A.GEN_AI_CONVERSATION_ID, A.MOA_PRESET, A.MOA_CACHE, A.MOA_FANOUT,
  // Each call.
  A.GEN_AI_REQUEST_MODEL, A.GEN_AI_PROVIDER_NAME, A.MOA_LABEL, A.GEN_AI_REQUEST_TEMPERATURE, A.GEN_AI_REQUEST_STREAM,
  A.GEN_AI_INPUT_MESSAGES, A.GEN_AI_OUTPUT_MESSAGES, A.GEN_AI_RESPONSE_FINISH_REASONS,
  A.MOA_AGGREGATOR_STREAMED, A.MOA_AGGREGATOR_OUTPUT_LOCATION,
  A.GEN_AI_USAGE_INPUT_TOKENS, A.GEN_AI_USAGE_OUTPUT_TOKENS, A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  A.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  A.MOA_COST_USD, A.MOA_COST_STATUS, A.MOA_COST_SOURCE,
]);
