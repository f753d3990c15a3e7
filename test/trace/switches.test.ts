/**
 * Rendered well in every backend: the standard content and semantic-convention
 * switches, the GenAI names backends read today, and the OpenInference and
 * Langfuse attribute sets — checked on what a real OTLP/HTTP receiver gets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupMoaTracing, type MoaTurnStarter } from '../../src/index.js';
import { attr, startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';

let receiver: OtlpReceiver;
beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await receiver.close();
});

const WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };

function turn(instrumentation: MoaTurnStarter): void {
  const t = instrumentation.startTurn({ sessionId: 'sw', preset: 'duo' });
  t.startReference({ index: 0, model: 'ref', provider: 'openai', reasoningLevel: 'high', messages: [{ role: 'user', content: 'What is the weather?' }, { role: 'user', content: 'advise' }] })
    .end({ output: 'check the tool', usage: { inputTokens: 10, outputTokens: 4, cacheWriteTokens: 6 }, cost: { usd: 0.25, status: 'actual' } });
  t.startReference({ index: 1, model: 'plain', provider: 'openai', messages: [{ role: 'user', content: [{ type: 'search_result', source: 'https://example.com', title: 'T' }] }] })
    .end({ output: 'ok', usage: { inputTokens: 3, outputTokens: 1 } });
  const agg = t.startAggregator({
    model: 'agg', provider: 'openai', stream: true, tools: [WEATHER_TOOL],
    messages: [{ role: 'user', content: 'What is the weather?' }, { role: 'user', content: 'guidance block' }],
  });
  agg.end({ toolCalls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }], finishReason: 'tool_calls', usage: { inputTokens: 8, outputTokens: 2, cacheReadTokens: 5 } });
  t.end();
}

async function spansWith(env: Record<string, string>, options: Record<string, unknown> = {}): Promise<Record<string, OtlpSpan>> {
  const tracing = setupMoaTracing({ otlp: { endpoint: `${receiver.url}/v1/traces` }, ...options }, { env, ignoreConfigFile: true });
  turn(tracing.instrumentation);
  await tracing.shutdown();
  // The root by its convention prefix: its name goes on with the preset and the question.
  return Object.fromEntries(receiver.spans().map((s) => [s.name.startsWith('invoke_workflow moa') ? 'invoke_workflow moa' : s.name, s]));
}

describe('GenAI names and attribute sets, by default', () => {
  it('released names, no zero breakdowns, stream only when true, conversation id everywhere', async () => {
    const spans = await spansWith({});
    const ref = spans['chat ref']!;
    const plain = spans['chat plain']!;
    const agg = spans['chat agg']!;
    const root = spans['invoke_workflow moa']!;
    expect(attr(ref, 'gen_ai.usage.cache_creation.input_tokens')).toBe(6);
    expect(attr(ref, 'gen_ai.usage.cache_write.input_tokens')).toBeUndefined();
    expect(attr(ref, 'gen_ai.usage.input_tokens')).toBe(16);
    expect(attr(ref, 'gen_ai.usage.cache_read.input_tokens')).toBeUndefined();
    expect(attr(ref, 'gen_ai.usage.reasoning.output_tokens')).toBeUndefined();
    expect(attr(agg, 'gen_ai.usage.cache_read.input_tokens')).toBe(5);
    expect(attr(ref, 'gen_ai.request.stream')).toBeUndefined();
    expect(attr(agg, 'gen_ai.request.stream')).toBe(true);
    expect(attr(ref, 'gen_ai.request.reasoning.level')).toBe('high');
    for (const span of [root, ref, plain, agg]) expect(attr(span, 'gen_ai.conversation.id')).toBe('sw');
    expect(JSON.parse(String(attr(agg, 'gen_ai.tool.definitions')))).toEqual([WEATHER_TOOL]);
    // The schema's required finish_reason, in its own words; the raw reason on the span.
    expect(JSON.parse(String(attr(agg, 'gen_ai.output.messages')))[0].finish_reason).toBe('tool_call');
    expect(attr(agg, 'gen_ai.response.finish_reasons')).toEqual(['tool_calls']);
    // An unknown content part is the schema's generic part, its fields kept.
    expect(JSON.parse(String(attr(plain, 'gen_ai.input.messages')))[0].parts[0]).toEqual({
      type: 'generic', generic_type: 'search_result', source: 'https://example.com', title: 'T',
    });
  });

  it('Phoenix sees a CHAIN root with the question and the answer, and text outputs; Langfuse the cost', async () => {
    const spans = await spansWith({});
    const root = spans['invoke_workflow moa']!;
    expect(attr(root, 'openinference.span.kind')).toBe('CHAIN');
    expect(attr(root, 'input.value')).toBe('What is the weather?');
    expect(attr(root, 'output.value')).toBe('tool calls: get_weather({"city":"Paris"})');
    expect(attr(spans['chat ref']!, 'output.value')).toBe('check the tool');
    expect(attr(spans['chat ref']!, 'gen_ai.usage.cost')).toBe(0.25);
  });

  it('backend hints can be turned off', async () => {
    const spans = await spansWith({}, { otlp: { endpoint: `${receiver.url}/v1/traces`, backend_hints: false } });
    for (const key of ['openinference.span.kind', 'input.value', 'output.value', 'gen_ai.usage.cost']) {
      expect(Object.values(spans).some((s) => attr(s, key) !== undefined), key).toBe(false);
    }
  });
});

describe('OTEL_SEMCONV_STABILITY_OPT_IN', () => {
  it('gen_ai_latest_experimental switches to the newest names instead', async () => {
    const spans = await spansWith({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http,gen_ai_latest_experimental' });
    expect(attr(spans['chat ref']!, 'gen_ai.usage.cache_write.input_tokens')).toBe(6);
    expect(attr(spans['chat ref']!, 'gen_ai.usage.cache_creation.input_tokens')).toBeUndefined();
  });
});

describe('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', () => {
  const CONTENT = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.definitions', 'input.value', 'output.value'];
  const hasContentAttributes = (spans: Record<string, OtlpSpan>) => Object.values(spans).some((s) => CONTENT.some((k) => attr(s, k) !== undefined));
  const contentEvents = (spans: Record<string, OtlpSpan>) => Object.values(spans).flatMap((s) => (s.events ?? []).filter((e) => e.name === 'gen_ai.client.inference.operation.details'));

  it.each([
    ['SPAN_ONLY', true, false],
    ['EVENT_ONLY', false, true],
    ['SPAN_AND_EVENT', true, true],
    ['NO_CONTENT', false, false],
    ['span_only', true, false],
    ['EVERYTHING', false, false], // invalid: fails closed
  ])('%s: content attributes %s, content events %s', async (mode, attributes, events) => {
    const spans = await spansWith({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: mode });
    expect(hasContentAttributes(spans)).toBe(attributes);
    const found = contentEvents(spans);
    expect(found.length).toBe(events ? 3 : 0);
    if (events) {
      const aggEvent = spans['chat agg']!.events!.find((e) => e.name === 'gen_ai.client.inference.operation.details')!;
      expect(attr({ attributes: aggEvent.attributes ?? [] }, 'gen_ai.output.messages')).toContain('get_weather');
    }
  });

  it("moa-otel's own capture_content=false wins over the environment", async () => {
    const spans = await spansWith({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'SPAN_AND_EVENT' },
      { otlp: { endpoint: `${receiver.url}/v1/traces`, capture_content: false } });
    expect(hasContentAttributes(spans)).toBe(false);
    expect(contentEvents(spans)).toEqual([]);
  });
});

describe('otlp.max_content_bytes', () => {
  it('cuts long content strings on spans with the marker, keeping JSON valid', async () => {
    const tracing = setupMoaTracing({ otlp: { endpoint: `${receiver.url}/v1/traces`, max_content_bytes: 100 } }, { env: {}, ignoreConfigFile: true });
    const t = tracing.instrumentation.startTurn({ sessionId: 'cap', preset: 'p' });
    t.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }).end({ output: 'y'.repeat(5000) });
    t.end();
    await tracing.shutdown();
    const agg = receiver.spans().find((s) => s.name === 'chat agg')!;
    const input = JSON.parse(String(attr(agg, 'gen_ai.input.messages')));
    expect(input[0].parts[0].content).toBe(`${'x'.repeat(100)}…[moa-otel: truncated 4900 chars]`);
    expect(String(attr(agg, 'output.value'))).toMatch(/^y{100}…\[moa-otel: truncated 4900 chars\]$/);
  });
});
