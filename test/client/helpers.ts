/** Test scaffolding: an in-memory tracer, the scripted server and a MoA client wired to both. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Tracer } from '@opentelemetry/api';
import { createMoaClient, type MoaClient, type MoaClientOptions, type MoaPreset } from '../../src/client/client.js';
import { startScriptedServer, type ScriptedModel, type ScriptedServer } from '../../src/testing/scripted-server.js';
import { sessionFilePath } from '../../src/config/paths.js';
import { turnRecordSchema, type TurnRecord } from '../../src/record/schema.js';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import { MoaInstrumentation, type MoaTurnStarter } from '../../src/trace/instrumentation.js';

export interface TestTracing {
  tracer: Tracer;
  /** Records into this provider (content captured, nothing masked, unless built from processors). */
  instrumentation: MoaInstrumentation;
  exporter: InMemorySpanExporter;
  provider: NodeTracerProvider;
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function inMemoryTracing(extraProcessors: SpanProcessor[] = [], instrumentation = new MoaInstrumentation()): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), ...extraProcessors] });
  instrumentation.setTracerProvider(provider);
  return {
    tracer: provider.getTracer('moa-otel-test'),
    instrumentation,
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    shutdown: () => provider.shutdown(),
  };
}

/** Two advisors and an aggregator, all on one scripted server. */
export const DEFAULT_MODELS: Record<string, ScriptedModel> = {
  'advisor-a': { reply: 'Advice A: check the weather tool first.' },
  'advisor-b': { reply: 'Advice B: answer briefly.' },
  aggregator: { reply: 'Final answer from the aggregator.' },
};

export async function scriptedServer(models: Record<string, ScriptedModel> = DEFAULT_MODELS): Promise<ScriptedServer> {
  return startScriptedServer({ models });
}

export function testPreset(overrides: Partial<MoaPreset> = {}): MoaPreset {
  return {
    references: [
      { provider: 'local', model: 'advisor-a', temperature: 0.3 },
      { provider: 'local', model: 'advisor-b' },
    ],
    aggregator: { provider: 'local', model: 'aggregator' },
    ...overrides,
  };
}

export function testClient(server: ScriptedServer, instrumentation: MoaTurnStarter, options: Partial<MoaClientOptions> = {}): MoaClient {
  return createMoaClient({
    presets: { test: testPreset() },
    providers: { local: { baseURL: server.baseURL } },
    defaultPreset: 'test',
    instrumentation,
    sessionId: 'test-session',
    maxRetries: 0,
    env: {},
    ignoreConfigFile: true,
    ...options,
  });
}

export function byRole(spans: ReadableSpan[], role: string): ReadableSpan[] {
  return spans.filter((s) => s.attributes['moa.role'] === role);
}

export function roots(spans: ReadableSpan[]): ReadableSpan[] {
  return spans.filter((s) => s.name.startsWith('invoke_workflow moa'));
}

/** Nanoseconds since the epoch of an OpenTelemetry HrTime. */
export function ns(time: [number, number]): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

export const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

export interface RecordingTracing extends TestTracing {
  dir: string;
  /** Flushes, then parses (and validates) every line of a session file. */
  records(sessionId: string): Promise<TurnRecord[]>;
}

/** In-memory spans plus the real JSONL exporter writing into a fresh temp dir. */
export function recordingTracing(options: { traceCacheHits?: boolean } = {}): RecordingTracing {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-traces-'));
  const processors = createMoaSpanProcessors(
    { save_traces: true, trace_dir: dir, trace_cache_hits: options.traceCacheHits ?? false },
    { env: {}, ignoreConfigFile: true },
  );
  const base = inMemoryTracing([...processors], processors.instrumentation);
  return {
    ...base,
    dir,
    async records(sessionId: string) {
      await base.provider.forceFlush();
      const file = sessionFilePath(dir, sessionId);
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => turnRecordSchema.parse(JSON.parse(l)));
    },
  };
}
