/**
 * A real gateway for tests: the scripted model server upstream, real tracing
 * (the JSONL exporter into a temp dir and OTLP/HTTP into the in-process
 * receiver), the MoA client built as `moa-otel serve` builds it, listening on
 * 127.0.0.1 with a free port.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMoaClient, type MoaPreset } from '../../src/client/client.js';
import { createMoaGateway, type MoaGateway, type MoaGatewayOptions } from '../../src/gateway/server.js';
import { turnRecordSchema, type TurnRecord } from '../../src/record/schema.js';
import { setupMoaTracing, type MoaTracing } from '../../src/setup/setup.js';
import { startScriptedServer, type RecordedRequest, type ScriptedModel, type ScriptedReply, type ScriptedServer } from '../../src/testing/scripted-server.js';
import { attr, startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';

export const ADVICE_A = 'Advice A: call get_weather before answering.';
export const ADVICE_B = 'Advice B: keep the answer short.';
export const TOOL_ANSWER = 'It is sunny in Paris, 21 degrees.';
export const PLAIN_ANSWER = 'Final answer from the aggregator.';
export const WEATHER_ARGS = '{"city":"Paris"}';

/**
 * The aggregator of a tool-using agent: asked with tools and no tool result
 * yet, it calls `get_weather`; once a tool result is in the conversation it
 * answers from it; without tools it answers plainly.
 */
export function weatherAggregator(request: RecordedRequest): ScriptedReply {
  const tools = request.body.tools;
  if (request.messages.some((m) => m.role === 'tool')) return { content: TOOL_ANSWER };
  if (Array.isArray(tools) && tools.length > 0) return { content: null, toolCalls: [{ name: 'get_weather', arguments: WEATHER_ARGS }] };
  return { content: PLAIN_ANSWER };
}

export const UPSTREAM_MODELS: Record<string, ScriptedModel> = {
  'advisor-a': { reply: ADVICE_A },
  'advisor-b': { reply: ADVICE_B },
  aggregator: { reply: weatherAggregator, chunkSize: 8 },
};

export const DUO: MoaPreset = {
  references: [{ provider: 'local', model: 'advisor-a' }, { provider: 'local', model: 'advisor-b' }],
  aggregator: { provider: 'local', model: 'aggregator' },
};

export const SOLO: MoaPreset = {
  references: [{ provider: 'local', model: 'advisor-b' }],
  aggregator: { provider: 'local', model: 'aggregator' },
};

export interface GatewayHarness {
  upstream: ScriptedServer;
  receiver: OtlpReceiver;
  tracing: MoaTracing;
  gateway: MoaGateway;
  /** Base URL for OpenAI clients, `http://127.0.0.1:PORT/v1`. */
  url: string;
  traceDir: string;
  /** Flushes, then every record of every session file, validated. */
  records(): Promise<TurnRecord[]>;
  /** Flushes, then every span the OTLP receiver got. */
  spans(): Promise<OtlpSpan[]>;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<MoaGatewayOptions, 'client'>> {
  models?: Record<string, ScriptedModel>;
  /** Provider keys the client sends upstream (to check they never reach a caller). */
  providerApiKey?: string;
}

export async function startGateway(options: HarnessOptions = {}): Promise<GatewayHarness> {
  const { models = UPSTREAM_MODELS, providerApiKey, ...gatewayOptions } = options;
  const upstream = await startScriptedServer({ models });
  const receiver = await startOtlpReceiver();
  const traceDir = mkdtempSync(path.join(tmpdir(), 'moa-gateway-traces-'));
  const tracing = setupMoaTracing(
    // Cache hits too: a framework's tool iteration is the HIT that proves the session was shared.
    { save_traces: true, trace_dir: traceDir, trace_cache_hits: true, otlp: { endpoint: `${receiver.url}/v1/traces` }, service_name: 'gateway-test' },
    { env: {}, ignoreConfigFile: true, registerGlobal: false },
  );
  const client = createMoaClient({
    instrumentation: tracing.instrumentation,
    presets: { duo: DUO, solo: SOLO },
    providers: { local: { baseURL: upstream.baseURL, ...(providerApiKey ? { apiKey: providerApiKey } : {}) } },
    defaultPreset: 'duo',
    maxRetries: 0,
    env: {},
    ignoreConfigFile: true,
  });
  const gateway = createMoaGateway({ client, env: {}, ...gatewayOptions });
  const url = await gateway.listen({ host: '127.0.0.1', port: 0 });
  return {
    upstream, receiver, tracing, gateway, url, traceDir,
    async records() {
      await tracing.forceFlush();
      return readdirSync(traceDir).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) => readFileSync(path.join(traceDir, f), 'utf8')
        .split('\n').filter((l) => l.trim() !== '').map((l) => turnRecordSchema.parse(JSON.parse(l))));
    },
    async spans() {
      await tracing.forceFlush();
      return receiver.spans();
    },
    async close() {
      await gateway.close({ abortOpenTurns: true });
      await tracing.shutdown();
      await upstream.close();
      await receiver.close();
    },
  };
}

/** The records whose aggregator saw `marker` in the caller's messages (each test conversation carries its own). */
export function recordsMentioning(records: TurnRecord[], marker: string): TurnRecord[] {
  return records.filter((r) => JSON.stringify(r.aggregator.input_messages).includes(marker));
}

/**
 * Checks one recorded turn against the spans the OTLP receiver got: a root
 * with the record's trace id and session, a reference span per reference
 * call made (none on a cache HIT) and the aggregator span.
 */
export function spanTreeOf(spans: OtlpSpan[], record: TurnRecord) {
  const tree = spans.filter((s) => s.traceId === record.trace_id);
  const root = tree.find((s) => s.name.startsWith('invoke_workflow moa'));
  return {
    root,
    sessionId: root ? attr(root, 'moa.session_id') : undefined,
    cache: root ? attr(root, 'moa.cache') : undefined,
    references: tree.filter((s) => attr(s, 'moa.role') === 'reference').length,
    aggregators: tree.filter((s) => attr(s, 'moa.role') === 'aggregator').length,
  };
}
