import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromGenAiMessages, setupMoaTracing, startMoaTurn, toGenAiMessages, type GenAiMessage } from '../../src/index.js';
import { attr, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

let receiver: OtlpReceiver;
beforeEach(async () => { receiver = await startOtlpReceiver(); });
afterEach(async () => { await receiver.close(); });

const CLIENT = 3;
const INTERNAL = 1;

describe('OTLP export', () => {
  it('sends the span tree with GenAI attributes, parents and links to a real OTLP/HTTP endpoint', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-otlp-'));
    const tracing = setupMoaTracing(
      { save_traces: true, trace_dir: dir, otlp: { endpoint: `${receiver.url}/v1/traces` }, service_name: 'otlp-test' },
      { env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test' }, ignoreConfigFile: true, registerGlobal: false },
    );
    expect(tracing.otlpUrl).toBe(`${receiver.url}/v1/traces`);
    const refMessages = [{ role: 'system', content: 'advise' }, { role: 'user', content: 'Which city?' }];
    const aggMessages = [{ role: 'user', content: 'Which city?' }, { role: 'user', content: 'Reference 1 — local:alpha: Rome' }];
    const turn = startMoaTurn({ sessionId: 'conv-42', preset: 'trio', fanout: 'user_turn', cache: 'miss', iteration: 1, instrumentation: tracing.instrumentation });
    const refs = await Promise.all([0, 1].map(async (index) => {
      const ref = turn.startReference({ index, model: index ? 'beta' : 'alpha', provider: 'local', genAiProvider: 'openai', temperature: 0.5, messages: refMessages, serverAddress: '127.0.0.1', serverPort: 8080 });
      await new Promise((r) => setTimeout(r, 10));
      if (index === 1) ref.fail(new Error('timed out after 10 ms'));
      else ref.end({ output: 'Rome', usage: { inputTokens: 50, outputTokens: 9, cacheReadTokens: 40, cacheWriteTokens: 2, reasoningTokens: 4 }, cost: { usd: 0.002, status: 'actual', source: 'provider' }, response: { id: 'r-1', model: 'alpha-001', finishReasons: ['stop'] } });
      return ref.spanContext;
    }));
    const agg = turn.startAggregator({ model: 'omega', provider: 'local', genAiProvider: 'openai', messages: aggMessages, stream: true });
    agg.firstChunk();
    agg.end({ output: 'Go to Rome.', usage: { inputTokens: 80, outputTokens: 5 }, cost: { usd: 0.01, status: 'estimated', source: 'genai-prices' }, finishReason: 'stop' });
    turn.end();
    await tracing.shutdown();

    const spans = receiver.spans();
    expect(spans).toHaveLength(4);
    const root = spans.find((s) => s.name.startsWith('invoke_workflow moa'))!;
    const children = spans.filter((s) => s !== root);
    expect(root.kind).toBe(INTERNAL);
    expect(root.parentSpanId ?? '').toBe('');
    for (const c of children) {
      expect(c.parentSpanId).toBe(root.spanId);
      expect(c.traceId).toBe(root.traceId);
      expect(c.kind).toBe(CLIENT);
    }
    expect(children.map((c) => c.name).sort()).toEqual(['chat alpha', 'chat beta', 'chat omega']);

    expect(attr(root, 'gen_ai.operation.name')).toBe('invoke_workflow');
    expect(attr(root, 'gen_ai.workflow.name')).toBe('moa');
    expect(attr(root, 'gen_ai.conversation.id')).toBe('conv-42');
    expect(attr(root, 'moa.session_id')).toBe('conv-42');
    expect(attr(root, 'moa.preset')).toBe('trio');
    expect(attr(root, 'moa.fanout')).toBe('user_turn');
    expect(attr(root, 'moa.cache')).toBe('miss');
    expect(attr(root, 'moa.iteration')).toBe(1);
    expect(attr(root, 'moa.reference.count')).toBe(2);
    expect(attr(root, 'moa.reference.failed')).toBe(1);
    expect(attr(root, 'moa.usage.input_tokens')).toBe(50 + 40 + 2 + 80);
    expect(attr(root, 'moa.usage.output_tokens')).toBe(14);
    expect(attr(root, 'moa.cost.usd')).toBeCloseTo(0.012, 10);
    expect(attr(root, 'gen_ai.usage.input_tokens')).toBeUndefined();
    expect(attr(root, 'gen_ai.system')).toBeUndefined();

    const alpha = children.find((c) => c.name === 'chat alpha')!;
    expect(attr(alpha, 'gen_ai.operation.name')).toBe('chat');
    expect(attr(alpha, 'gen_ai.provider.name')).toBe('openai');
    expect(attr(alpha, 'gen_ai.request.model')).toBe('alpha');
    expect(attr(alpha, 'gen_ai.request.temperature')).toBe(0.5);
    expect(attr(alpha, 'gen_ai.request.stream')).toBeUndefined();
    expect(attr(alpha, 'server.address')).toBe('127.0.0.1');
    expect(attr(alpha, 'server.port')).toBe(8080);
    expect(attr(alpha, 'moa.role')).toBe('reference');
    expect(attr(alpha, 'moa.label')).toBe('local:alpha');
    expect(attr(alpha, 'moa.reference.index')).toBe(0);
    expect(attr(alpha, 'gen_ai.response.model')).toBe('alpha-001');
    expect(attr(alpha, 'gen_ai.response.id')).toBe('r-1');
    expect(attr(alpha, 'gen_ai.response.finish_reasons')).toEqual(['stop']);
    expect(attr(alpha, 'gen_ai.usage.input_tokens')).toBe(92);
    expect(attr(alpha, 'gen_ai.usage.output_tokens')).toBe(9);
    expect(attr(alpha, 'gen_ai.usage.cache_read.input_tokens')).toBe(40);
    expect(attr(alpha, 'gen_ai.usage.cache_creation.input_tokens')).toBe(2);
    expect(attr(alpha, 'gen_ai.usage.reasoning.output_tokens')).toBe(4);
    expect(attr(alpha, 'moa.cost.usd')).toBe(0.002);
    expect(attr(alpha, 'moa.cost.status')).toBe('actual');
    expect(attr(alpha, 'moa.cost.source')).toBe('provider');
    const input = JSON.parse(String(attr(alpha, 'gen_ai.input.messages'))) as GenAiMessage[];
    expect(input).toEqual(toGenAiMessages(refMessages));
    expect(fromGenAiMessages(input)).toEqual(refMessages);
    expect(JSON.parse(String(attr(alpha, 'gen_ai.output.messages')))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Rome' }], finish_reason: 'stop' }]);

    const beta = children.find((c) => c.name === 'chat beta')!;
    expect(beta.status?.code).toBe(2);
    expect(attr(beta, 'error.type')).toBe('Error');
    expect(beta.events?.some((e) => e.name === 'exception')).toBe(true);

    const omega = children.find((c) => c.name === 'chat omega')!;
    expect(attr(omega, 'moa.role')).toBe('aggregator');
    expect(attr(omega, 'moa.reference.index')).toBeUndefined();
    expect(attr(omega, 'gen_ai.request.stream')).toBe(true);
    expect(attr(omega, 'moa.aggregator.streamed')).toBe(true);
    expect(attr(omega, 'moa.aggregator.output_location')).toBe('inline_from_stream');
    expect(typeof attr(omega, 'gen_ai.response.time_to_first_chunk')).toBe('number');
    expect(omega.links?.map((l) => l.spanId).sort()).toEqual(refs.map((r) => r.spanId).sort());

    const resource = { attributes: receiver.requests[0]!.json!.resourceSpans[0]!.resource?.attributes ?? [] };
    expect(attr(resource, 'service.name')).toBe('otlp-test');
    expect(attr(resource, 'deployment.environment')).toBe('test');

    // The JSONL line and the spans describe the same turn.
    const rec = JSON.parse(readFileSync(path.join(dir, 'conv-42.jsonl'), 'utf8')) as { trace_id: string; span_id: string };
    expect(rec.trace_id).toBe(root.traceId);
    expect(rec.span_id).toBe(root.spanId);
  });

  it('leaves content out of spans when capture_content is off, and off the JSONL-only tracer', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-otlp-'));
    const tracing = setupMoaTracing(
      { save_traces: true, trace_dir: dir, otlp: { endpoint: `${receiver.url}/v1/traces`, capture_content: false } },
      { env: {}, ignoreConfigFile: true, registerGlobal: false },
    );
    const turn = startMoaTurn({ sessionId: 'private', preset: 'p', instrumentation: tracing.instrumentation });
    turn.startAggregator({ model: 'm', provider: 'p', messages: [{ role: 'user', content: 'secret plan' }] }).end({ output: 'secret answer' });
    turn.end();
    await tracing.shutdown();
    const spans = receiver.spans();
    expect(spans).toHaveLength(2);
    expect(JSON.stringify(spans)).not.toContain('secret');
    // The file still has everything.
    expect(readFileSync(path.join(dir, 'private.jsonl'), 'utf8')).toContain('secret plan');
  });

  it('redacts secrets in spans and in the file when asked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-otlp-'));
    const tracing = setupMoaTracing(
      { save_traces: true, trace_dir: dir, redact: ['project-\\d+'], otlp: { endpoint: `${receiver.url}/v1/traces` } },
      { env: {}, ignoreConfigFile: true, registerGlobal: false },
    );
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    const turn = startMoaTurn({ sessionId: 'redact', preset: 'p', instrumentation: tracing.instrumentation });
    turn.startReference({ index: 0, model: 'r', provider: 'p', messages: [] }).fail(new Error(`401: invalid key ${key}`));
    turn.startAggregator({ model: 'm', provider: 'p', messages: [{ role: 'user', content: `my key is ${key} for project-123` }] }).end({
      output: `echo ${key}`,
      toolCalls: [{ id: 'c1', type: 'function', function: { name: 'login', arguments: JSON.stringify({ key }) } }],
    });
    turn.end();
    await tracing.shutdown();
    const file = readFileSync(path.join(dir, 'redact.jsonl'), 'utf8');
    const sent = JSON.stringify(receiver.spans());
    expect(file).toContain('"name":"login"');
    expect(sent).toContain('exception');
    for (const text of [file, sent]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain('project-123');
      expect(text).toContain('[REDACTED]');
    }
  });
});

describe('turn status', () => {
  it('marks the root ERROR when the aggregator fails, but not when a reference does', async () => {
    const tracing = setupMoaTracing({ otlp: { endpoint: `${receiver.url}/v1/traces` } }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
    const failedAgg = startMoaTurn({ sessionId: 'a', preset: 'p', instrumentation: tracing.instrumentation });
    failedAgg.startReference({ index: 0, model: 'r', provider: 'p', messages: [] }).end({ output: 'ok' });
    failedAgg.startAggregator({ model: 'agg', provider: 'p', messages: [] }).fail(Object.assign(new Error('bad gateway'), { status: 502 }));
    failedAgg.end();
    const failedRef = startMoaTurn({ sessionId: 'b', preset: 'p', instrumentation: tracing.instrumentation });
    failedRef.startReference({ index: 0, model: 'r', provider: 'p', messages: [] }).fail(new Error('down'));
    failedRef.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'fine' });
    failedRef.end();
    await tracing.shutdown();
    const roots = receiver.spans().filter((s) => s.name.startsWith('invoke_workflow moa'));
    const byId = new Map(roots.map((r) => [r.traceId, r]));
    const a = byId.get(failedAgg.spanContext.traceId)!;
    const b = byId.get(failedRef.spanContext.traceId)!;
    expect(a.status?.code).toBe(2);
    expect(attr(a, 'error.type')).toBe('502');
    expect(b.status?.code ?? 0).toBe(0);
    expect(attr(b, 'moa.reference.failed')).toBe(1);
  });
});
