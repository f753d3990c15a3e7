/**
 * The one check every end-to-end path shares: the spans a backend holds for a
 * turn form the MoA tree (DESIGN §2) and agree with the turn's JSONL record.
 */
import { expect } from 'vitest';
import { toGenAiMessages } from '../../../src/index.js';
import { safeStringify } from '../../../src/content/safe-json.js';
import { outputMessage } from '../../../src/content/genai.js';
import * as A from '../../../src/trace/attributes.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_INTERNAL, type FlatSpan } from './otlp-json.js';
import type { CallRecord, TurnRecordLine } from './moa.js';

export interface TurnExpectations {
  /** Content attributes must equal the record's messages byte for byte (false where the size guard cut them). */
  exactContent: boolean;
}

export function expectTurnMatchesRecord(spans: readonly FlatSpan[], record: TurnRecordLine, expectations: TurnExpectations): void {
  const ids = spans.map((s) => s.spanId);
  expect(new Set(ids).size, 'no span arrives twice').toBe(ids.length);
  expect(spans.length, 'root + references + aggregator, nothing else').toBe(record.references.length + 2);
  const byId = new Map(spans.map((s) => [s.spanId, s]));

  const root = byId.get(record.span_id);
  if (!root) throw new Error(`root span ${record.span_id} missing`);
  expect(root.traceId).toBe(record.trace_id);
  // The trace list's title: the convention's name, then the preset (and the question's start, with content).
  expect(root.name.startsWith(`${A.ROOT_SPAN_NAME} ${record.preset}`), root.name).toBe(true);
  expect(root.kind).toBe(SPAN_KIND_INTERNAL);
  expect(root.parentSpanId).toBe('');
  expect(root.attributes[A.GEN_AI_OPERATION_NAME]).toBe(A.OPERATION_INVOKE_WORKFLOW);
  expect(root.attributes[A.GEN_AI_WORKFLOW_NAME]).toBe(A.WORKFLOW_MOA);
  expect(root.attributes[A.MOA_PRESET]).toBe(record.preset);
  if (record.session_id !== null) {
    expect(root.attributes[A.MOA_SESSION_ID]).toBe(record.session_id);
    expect(root.attributes[A.GEN_AI_CONVERSATION_ID]).toBe(record.session_id);
  }
  expect(root.attributes[A.MOA_REFERENCE_COUNT]).toBe(record.references.length);
  expect(root.attributes).not.toHaveProperty(A.GEN_AI_USAGE_INPUT_TOKENS);

  record.references.forEach((ref, index) => {
    const span = byId.get(ref.span_id);
    if (!span) throw new Error(`reference span ${ref.span_id} (${ref.label}) missing`);
    expect(span.attributes[A.MOA_ROLE]).toBe(A.ROLE_REFERENCE);
    expect(span.attributes[A.MOA_REFERENCE_INDEX]).toBe(index);
    expectCallMatches(span, root, ref, expectations);
  });

  const agg = byId.get(record.aggregator.span_id);
  if (!agg) throw new Error(`aggregator span ${record.aggregator.span_id} missing`);
  expect(agg.attributes[A.MOA_ROLE]).toBe(A.ROLE_AGGREGATOR);
  expectCallMatches(agg, root, record.aggregator, expectations);
  expect(agg.links.map((l) => l.spanId).sort()).toEqual(record.references.map((r) => r.span_id).sort());
  for (const link of agg.links) expect(link.traceId).toBe(record.trace_id);
}

function expectCallMatches(span: FlatSpan, root: FlatSpan, call: CallRecord, expectations: TurnExpectations): void {
  const where = `${span.name} (${call.label})`;
  expect(span.traceId, where).toBe(root.traceId);
  expect(span.parentSpanId, where).toBe(root.spanId);
  expect(span.name, where).toBe(`chat ${call.model}`);
  expect(span.kind, where).toBe(SPAN_KIND_CLIENT);
  expect(span.attributes[A.GEN_AI_OPERATION_NAME], where).toBe(A.OPERATION_CHAT);
  expect(span.attributes[A.GEN_AI_REQUEST_MODEL], where).toBe(call.model);
  expect(span.attributes[A.MOA_LABEL], where).toBe(call.label);
  const providerName = span.attributes[A.GEN_AI_PROVIDER_NAME];
  expect(typeof providerName === 'string' && providerName.length > 0, `${where} gen_ai.provider.name`).toBe(true);
  expect(span.attributes).not.toHaveProperty('gen_ai.system');

  if (call.usage) {
    const u = call.usage;
    // Spans use the GenAI meaning (input includes cached), the record the uncached part.
    expect(span.attributes[A.GEN_AI_USAGE_INPUT_TOKENS], where).toBe((u.input_tokens ?? 0) + (u.cache_read_tokens ?? 0) + (u.cache_write_tokens ?? 0));
    expect(span.attributes[A.GEN_AI_USAGE_OUTPUT_TOKENS], where).toBe(u.output_tokens ?? 0);
    // Zero breakdowns are left out; cache writes go under the released name Jaeger and Phoenix read.
    expect(span.attributes[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS], where).toBe(u.cache_read_tokens || undefined);
    expect(span.attributes[A.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS], where).toBe(u.cache_write_tokens || undefined);
    expect(span.attributes[A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS], where).toBe(u.reasoning_tokens || undefined);
  }
  if (call.cost_usd !== null && call.cost_usd !== undefined) {
    expect(span.attributes[A.MOA_COST_USD], where).toBe(Number(call.cost_usd));
  }
  if (call.cost_status) expect(span.attributes[A.MOA_COST_STATUS], where).toBe(call.cost_status);

  const input = span.attributes[A.GEN_AI_INPUT_MESSAGES];
  expect(typeof input, `${where} gen_ai.input.messages`).toBe('string');
  if (expectations.exactContent) {
    // Byte-identical to what the record's exact messages convert to.
    expect(input, `${where} gen_ai.input.messages`).toBe(safeStringify(toGenAiMessages(call.input_messages)));
    if (span.attributes[A.MOA_ROLE] === A.ROLE_AGGREGATOR) {
      // Text and tool calls, exactly as the record's answer converts.
      const expected = safeStringify([outputMessage(call.output, call.tool_calls ?? null, call.finish_reason ?? null)]);
      expect(span.attributes[A.GEN_AI_OUTPUT_MESSAGES], `${where} gen_ai.output.messages`).toBe(expected);
    } else if (typeof call.output === 'string' && !call.output.startsWith('[failed')) {
      const output = JSON.parse(String(span.attributes[A.GEN_AI_OUTPUT_MESSAGES])) as Array<{ parts?: Array<{ type?: string; content?: unknown }> }>;
      const text = output.flatMap((m) => m.parts ?? []).filter((p) => p.type === 'text').map((p) => p.content).join('');
      expect(text, `${where} output text`).toBe(call.output);
    }
  } else {
    expect(() => JSON.parse(String(input)), `${where} input stays valid JSON`).not.toThrow();
  }
}
