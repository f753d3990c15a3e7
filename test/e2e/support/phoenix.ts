/**
 * Arize Phoenix for the end-to-end tier: started from the venv that
 * `scripts/phoenix.sh install` made (path handed over by the global setup),
 * on 127.0.0.1 and free ports, with a scratch working dir and nothing that
 * calls home; read back through its REST and GraphQL APIs, i.e. what its
 * trace, span and session views show.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { freePort, startService, waitForHealthy, waitUntil, type ServiceProcess } from './processes.js';
import { baseEnv } from './stack.js';

export interface Phoenix {
  service: ServiceProcess;
  /** Base URL of its UI, APIs and OTLP/HTTP receiver (spans go to /v1/traces). */
  url: string;
  /** Seconds from spawn to a healthy /healthz. */
  startupSeconds: number;
  stop(): Promise<void>;
}

export async function startPhoenix(workDir: string): Promise<Phoenix> {
  const [httpPort, grpcPort] = await Promise.all([freePort(), freePort()]);
  const dataDir = join(workDir, 'phoenix-data');
  const home = join(workDir, 'phoenix-home');
  await Promise.all([mkdir(dataDir, { recursive: true }), mkdir(home, { recursive: true })]);
  const env = {
    ...baseEnv(),
    HOME: home,
    PHOENIX_HOST: '127.0.0.1',
    PHOENIX_PORT: String(httpPort),
    // Its gRPC receiver binds every interface whatever the host; nothing here
    // sends to it, a free port keeps it off anyone else's.
    PHOENIX_GRPC_PORT: String(grpcPort),
    // SQLite database and everything else it writes.
    PHOENIX_WORKING_DIR: dataDir,
    // No usage telemetry (FullStory, Scarf) and no downloads of its own.
    PHOENIX_TELEMETRY_ENABLED: 'false',
    PHOENIX_ALLOW_EXTERNAL_RESOURCES: 'false',
    PYTHONUNBUFFERED: '1',
  };
  const started = Date.now();
  const service = startService('phoenix', inject('phoenixBin'), ['serve'], env, join(workDir, 'phoenix.log'));
  const url = `http://127.0.0.1:${httpPort}`;
  // Its first start creates the database: tens of seconds on two busy cores.
  await waitForHealthy(service, `${url}/healthz`, 240_000);
  const startupSeconds = (Date.now() - started) / 1000;
  process.stderr.write(`[e2e] Phoenix healthy after ${startupSeconds.toFixed(1)}s\n`);
  return { service, url, startupSeconds, stop: () => service.stop() };
}

/** A span as Phoenix's REST API returns it (/v1/projects/{project}/spans). */
export interface PhoenixSpan {
  name: string;
  context: { trace_id: string; span_id: string };
  parent_id: string | null;
  /** OpenInference kind: LLM, CHAIN, ... (UNKNOWN when Phoenix could not tell). */
  span_kind: string;
  /** Flat dotted keys, e.g. `llm.input_messages.0.message.role`. */
  attributes: Record<string, unknown>;
}

/** Every span Phoenix holds for a trace (default project); [] while it knows nothing of it. */
export async function phoenixTraceSpans(phoenixUrl: string, traceId: string): Promise<PhoenixSpan[]> {
  const spans: PhoenixSpan[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ trace_id: traceId, limit: '1000' });
    if (cursor) query.set('cursor', cursor);
    const response = await fetch(`${phoenixUrl}/v1/projects/default/spans?${query}`);
    // The default project exists once the first span arrived.
    if (response.status === 404) return [];
    if (!response.ok) throw new Error(`Phoenix answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
    const page = (await response.json()) as { data: PhoenixSpan[]; next_cursor: string | null };
    spans.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return spans;
}

/** Waits until Phoenix holds every expected span of the trace; a second read then sees any late duplicate. */
export async function waitForPhoenixSpans(phoenixUrl: string, traceId: string, expectedSpanIds: readonly string[], timeoutMs = 60_000): Promise<PhoenixSpan[]> {
  await waitUntil(
    `Phoenix to hold ${expectedSpanIds.length} spans of trace ${traceId}`,
    async () => {
      const ids = new Set((await phoenixTraceSpans(phoenixUrl, traceId)).map((s) => s.context.span_id));
      return expectedSpanIds.every((id) => ids.has(id)) ? true : undefined;
    },
    timeoutMs,
    500,
  );
  await new Promise((r) => setTimeout(r, 1_000));
  return phoenixTraceSpans(phoenixUrl, traceId);
}

/** A session as Phoenix's sessions view lists it. */
export interface PhoenixSession {
  sessionId: string;
  numTraces: number;
  firstInput: { value: string; mimeType: string } | null;
  lastOutput: { value: string; mimeType: string } | null;
}

export async function phoenixSessions(phoenixUrl: string): Promise<PhoenixSession[]> {
  const query = `query {
    projects(first: 50) { edges { node { name sessions(first: 100) { edges { node {
      sessionId numTraces firstInput { value mimeType } lastOutput { value mimeType }
    } } } } } }
  }`;
  const response = await fetch(`${phoenixUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  if (!response.ok) throw new Error(`Phoenix GraphQL answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  const body = (await response.json()) as {
    data?: { projects: { edges: Array<{ node: { sessions: { edges: Array<{ node: PhoenixSession }> } } }> } };
    errors?: unknown[];
  };
  if (body.errors || !body.data) throw new Error(`Phoenix GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data.projects.edges.flatMap((p) => p.node.sessions.edges.map((s) => s.node));
}

/** One chat message as Phoenix shows it, rebuilt from its flat `llm.{input,output}_messages.*` attributes. */
export interface PhoenixMessage {
  role: string;
  /** `message.content`, or its `message.contents.*` text parts joined; '' when neither. */
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: unknown }>;
  toolCallId?: string;
}

export function phoenixMessages(attributes: Record<string, unknown>, prefix: 'llm.input_messages' | 'llm.output_messages'): PhoenixMessage[] {
  const byIndex = new Map<number, Map<string, unknown>>();
  const pattern = new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d+)\\.message\\.(.+)$`);
  for (const [key, value] of Object.entries(attributes)) {
    const match = key.match(pattern);
    if (!match?.[1] || !match[2]) continue;
    const index = Number(match[1]);
    const fields = byIndex.get(index) ?? new Map<string, unknown>();
    fields.set(match[2], value);
    byIndex.set(index, fields);
  }
  return [...byIndex.keys()]
    .sort((a, b) => a - b)
    .map((index) => {
      const fields = byIndex.get(index) ?? new Map<string, unknown>();
      const indexed = (name: string) =>
        [...fields.keys()]
          .map((k) => k.match(new RegExp(`^${name}\\.(\\d+)\\.`))?.[1])
          .filter((i): i is string => i !== undefined)
          .map(Number)
          .filter((i, n, all) => all.indexOf(i) === n)
          .sort((a, b) => a - b);
      const contents = indexed('contents').map((i) => fields.get(`contents.${i}.message_content.text`) ?? '');
      const content = fields.get('content');
      const message: PhoenixMessage = {
        role: String(fields.get('role')),
        text: typeof content === 'string' ? content : contents.join(''),
        toolCalls: indexed('tool_calls').map((i) => ({
          id: String(fields.get(`tool_calls.${i}.tool_call.id`) ?? ''),
          name: String(fields.get(`tool_calls.${i}.tool_call.function.name`) ?? ''),
          arguments: parseJson(fields.get(`tool_calls.${i}.tool_call.function.arguments`)),
        })),
      };
      const toolCallId = fields.get('tool_call_id');
      if (typeof toolCallId === 'string') message.toolCallId = toolCallId;
      return message;
    });
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * What Phoenix should show for an OpenAI-style chat message of a JSONL record:
 * derived from the record alone, so the check does not lean on moa-otel's own
 * conversion.
 */
export function expectedPhoenixMessage(message: unknown): PhoenixMessage {
  const m = message as {
    role: string;
    content?: string | Array<{ type?: string; text?: string }> | null;
    tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
    tool_call_id?: string;
  };
  const text = typeof m.content === 'string' ? m.content : (m.content ?? []).filter((p) => p.type === 'text').map((p) => p.text ?? '').join('');
  const expected: PhoenixMessage = {
    role: m.role,
    text,
    toolCalls: (m.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, arguments: parseJson(call.function.arguments) })),
  };
  if (m.tool_call_id !== undefined) expected.toolCallId = m.tool_call_id;
  return expected;
}
