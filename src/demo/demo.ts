/**
 * The built-in demo: a two-user-turn MoA conversation with a tool call,
 * against scripted models on a local server, traced to a JSONL session file
 * (and OTLP when asked). No keys, no network beyond 127.0.0.1.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { displayUrl, otlpTracesUrl } from '../config/otlp-url.js';
import { sessionFilePath } from '../config/paths.js';
import { latestUserText } from '../content/genai.js';
import type { TurnRecord } from '../record/schema.js';
import { TraceFileError } from '../offline/errors.js';
import { readTurnRecords } from '../offline/reader.js';
import { setupMoaTracing } from '../setup/setup.js';
import { createMoaClient, type MoaPreset } from '../client/client.js';
import { runConversation } from '../client/conversation.js';
import { startScriptedServer, type RecordedRequest, type ScriptedModel } from '../testing/scripted-server.js';

export interface DemoOptions {
  /** Trace directory; a fresh temp dir when absent. */
  dir?: string;
  /** OTLP base URL of a collector (spans go to `<url>/v1/traces`, or to `<url>` over gRPC). */
  otlpUrl?: string;
  /** `http/protobuf` (default), `http/json` or `grpc`. */
  otlpProtocol?: 'http/protobuf' | 'http/json' | 'grpc';
  /** Where the application's OpenTelemetry packages are (default `process.cwd()`). */
  cwd?: string;
  stream?: boolean;
  /** Progress, as it happens: each user question, assistant message (tool calls as `[calls name(args)]`) and tool result. */
  onMessage?: (role: 'user' | 'assistant' | 'tool', text: string) => void;
  onChunk?: (chunk: ChatCompletionChunk) => void;
  /** Told the demo's pipeline once it exists, so an application can write open turns on a signal (`shutdown()`). */
  onTracing?: (tracing: { shutdown(): Promise<void> }) => void;
}

export interface DemoResult {
  sessionId: string;
  sessionFile: string;
  records: TurnRecord[];
  traceIds: string[];
  /** The traces URL spans went to, as it may be shown (`displayUrl`: no credentials, no query). */
  otlpEndpoint: string | undefined;
  /** What OTLP export did (with `otlpUrl`): the demo reports it as it was, not as hoped. */
  otlp: { exportedSpans: number; failedSpans: number; droppedSpans: number } | undefined;
  /** Why OTLP export could not even start (a missing exporter package), one line. */
  otlpProblem: string | undefined;
  /** Lines of the session file that did not validate (expected: none). */
  invalidLines: number;
}

const DEMO_QUESTIONS = [
  'What is the weather in Paris today, and should I cycle or take the metro?',
  'Thanks! Anything I should pack for the evening?',
] as const;

const DEMO_PRESET: MoaPreset = {
  references: [
    { provider: 'demo-openai', model: 'gpt-4o-mini', temperature: 0.4 },
    { provider: 'demo-router', model: 'scripted/careful-reasoner', temperature: 0.2 },
  ],
  aggregator: { provider: 'demo-house', model: 'scripted-aggregator', temperature: 0 },
};

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const server = await startScriptedServer({ models: demoModels() });
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'moa-demo-'));
  const otlpEndpoint = options.otlpUrl ? (options.otlpProtocol === 'grpc' ? options.otlpUrl : otlpTracesUrl(options.otlpUrl)) : undefined;
  const notices: string[] = [];
  const tracing = setupMoaTracing(
    {
      save_traces: true,
      trace_dir: dir,
      // A local demo: give a collector that is not there a few seconds, not the default ten.
      otlp: otlpEndpoint
        ? { enabled: true, endpoint: otlpEndpoint, timeout_ms: 3000, ...(options.otlpProtocol ? { protocol: options.otlpProtocol } : {}) }
        : { enabled: false },
      service_name: 'moa-otel-demo',
    },
    // Hermetic: the user's config file and OTEL_* variables do not change what the demo does.
    {
      env: {}, ignoreConfigFile: true, registerGlobal: false,
      notice: (line) => notices.push(line),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    },
  );
  options.onTracing?.(tracing);
  const sessionId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const client = createMoaClient({
      presets: { demo: DEMO_PRESET },
      providers: {
        // Priced from the genai-prices table as an OpenAI model (cost status "estimated").
        'demo-openai': { baseURL: server.baseURL, genAiProvider: 'openai' },
        // Reports its own cost in usage.cost, like OpenRouter ("actual").
        'demo-router': { baseURL: server.baseURL, genAiProvider: 'openrouter' },
        // A subscription plan ("included").
        'demo-house': { baseURL: server.baseURL, included: true },
      },
      defaultPreset: 'demo',
      instrumentation: tracing.instrumentation,
      sessionId,
      maxRetries: 0,
      env: {},
      ignoreConfigFile: true,
    });
    const handlers = {
      get_weather: (args: unknown) => {
        const city = typeof (args as { city?: unknown }).city === 'string' ? (args as { city: string }).city : 'Paris';
        return { city, forecast: 'light rain until 15:00, then clearing', temperature_c: 14, wind_kmh: 18 };
      },
    };
    let messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a concise travel assistant. Use tools for live data.' },
    ];
    for (const question of DEMO_QUESTIONS) {
      options.onMessage?.('user', question);
      messages = [...messages, { role: 'user', content: question }];
      const result = await runConversation({
        client, messages, tools: [WEATHER_TOOL], handlers, sessionId, maxIterations: 4,
        ...(options.stream ? { stream: true } : {}),
        ...(options.onChunk ? { onChunk: options.onChunk } : {}),
        onMessage: (m) => {
          if (m.role === 'tool') options.onMessage?.('tool', String(m.content));
          else if (m.role === 'assistant' && m.tool_calls?.length) {
            options.onMessage?.('assistant', m.tool_calls.map((c) => (c.type === 'function' ? `[calls ${c.function.name}(${c.function.arguments})]` : '[tool call]')).join(' '));
          } else if (m.role === 'assistant') options.onMessage?.('assistant', String(m.content ?? ''));
        },
      });
      messages = result.messages;
    }
  } finally {
    await tracing.shutdown();
    await server.close();
  }
  const stats = tracing.otlpStats();
  const otlp = stats && { exportedSpans: stats.exportedSpans, failedSpans: stats.failedSpans, droppedSpans: stats.droppedSpans };
  const otlpProblem = otlpEndpoint !== undefined && otlp === undefined ? notices[0] ?? 'moa-otel: OTLP export did not start' : undefined;

  const sessionFile = sessionFilePath(dir, sessionId);
  const { records, invalid } = await readRecords(sessionFile);
  const traceIds = [...new Set(records.map((r) => r.trace_id).filter((id): id is string => typeof id === 'string'))];
  return { sessionId, sessionFile, records, traceIds, otlpEndpoint: otlpEndpoint && displayUrl(otlpEndpoint), otlp, otlpProblem, invalidLines: invalid };
}

/** The session's records through the offline reader; a missing file is an empty session. */
async function readRecords(file: string): Promise<{ records: TurnRecord[]; invalid: number }> {
  const records: TurnRecord[] = [];
  let invalid = 0;
  try {
    for await (const { record } of readTurnRecords(file, { onProblem: () => { invalid += 1; } })) records.push(record);
  } catch (err) {
    if (!(err instanceof TraceFileError)) throw err;
  }
  return { records, invalid };
}

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather and forecast for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** Whether the messages' last user question is the first demo question. */
function isFirstQuestion(messages: readonly unknown[]): boolean {
  return latestUserText(messages)?.includes('weather in Paris') === true;
}

function demoModels(): Record<string, ScriptedModel> {
  return {
    'gpt-4o-mini': {
      usage: 'chat_completions',
      tokens: { cached: 64 },
      reply: (req) => isFirstQuestion(req.messages)
        ? 'Check the live forecast with the weather tool before recommending anything; rain changes the cycling answer.'
        : 'Suggest a compact umbrella and a warm layer: evenings in Paris cool down quickly after rain.',
    },
    'scripted/careful-reasoner': {
      usage: 'chat_completions',
      tokens: { reasoning: 48 },
      costUsd: 0.00042,
      reply: (req) => isFirstQuestion(req.messages)
        ? 'If rain is expected, recommend the metro (line 1 crosses the centre); otherwise cycling with Vélib is faster for short trips.'
        : 'Mention comfortable shoes and a portable charger; keep the answer to two or three items.',
    },
    'scripted-aggregator': {
      usage: 'chat_completions',
      tokens: { cached: 128 },
      chunkSize: 16,
      reply: (req) => {
        // The last message is our guidance block; the question comes before it.
        const firstQuestion = isFirstQuestion(req.messages.slice(0, -1));
        const sawWeather = req.messages.some((m) => m.role === 'tool');
        if (firstQuestion && !toolAnsweredSinceQuestion(req)) {
          return { toolCalls: [{ name: 'get_weather', arguments: JSON.stringify({ city: 'Paris' }) }] };
        }
        if (firstQuestion) {
          return { content: 'Light rain until about 15:00 (14 °C), clearing later. Take the metro this morning; after 15:00 cycling is a good option.' };
        }
        return { content: sawWeather
          ? 'Pack a compact umbrella, a warm layer for the evening (it stays around 14 °C) and comfortable shoes.'
          : 'Pack an umbrella and a warm layer.' };
      },
    },
  };
}

function toolAnsweredSinceQuestion(req: RecordedRequest): boolean {
  const msgs = req.messages.slice(0, -1);
  let lastUser = -1;
  msgs.forEach((m, i) => { if (m.role === 'user') lastUser = i; });
  return msgs.slice(lastUser + 1).some((m) => m.role === 'tool');
}
