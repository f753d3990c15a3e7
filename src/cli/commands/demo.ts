/**
 * `moa-otel demo`: a full MoA conversation (two user turns, one tool call)
 * against a built-in scripted model server on 127.0.0.1, traced to a JSONL
 * session file and, with --otlp, to a collector. No keys, no network.
 */
import path from 'node:path';
import type { CliCommand, CliIo } from '../command.js';
import { runDemo } from '../../demo/demo.js';
import { otlpProtocolOption, parseCommandArgs } from '../args.js';
import { wantsColor } from '../color.js';
import { renderTurnTree } from '../../offline/tree.js';
import { stopOnSignals } from '../signals.js';
import { displayUrl } from '../../config/otlp-url.js';

const USAGE = `usage: moa-otel demo [--dir DIR] [--otlp URL] [--stream] [--json]

Runs a two-turn Mixture-of-Agents conversation with a tool call against a
built-in local model server (scripted models, no keys, no network), records
it with tracing on and prints the session file, one tree per recorded turn
and the trace ids.

  --dir DIR    trace directory (default: a fresh temporary directory)
  --otlp URL   also send spans over OTLP to URL/v1/traces (e.g. http://127.0.0.1:4318), through
               the application's @opentelemetry/exporter-trace-otlp-proto (-http, -grpc as
               OTEL_EXPORTER_OTLP_PROTOCOL says)
  --stream     stream the aggregator's answers
  --json       print one JSON object: {"sessionId","sessionFile","records","traceIds"}`;

const command: CliCommand = {
  name: 'demo',
  summary: 'run a scripted MoA conversation locally and show its traces',
  usage: USAGE,
  run: runDemoCommand,
};
export default command;

async function runDemoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: { dir: { type: 'string' }, otlp: { type: 'string' }, stream: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const dir = values.dir ? path.resolve(io.cwd, values.dir) : undefined;
  const json = values.json === true;
  const color = !json && wantsColor(io);
  const write = (text: string) => { if (!json) io.stdout.write(text); };

  write('moa-otel demo: scripted models on 127.0.0.1, no keys, no network\n\n');
  let streaming = false;
  // The one standard variable the demo honours: which OTLP encoding to send.
  const otlpProtocol = values.otlp ? otlpProtocolOption(io) : undefined;
  let keepSignals = () => {};
  const result = await runDemo({
    // Ctrl-C mid-demo: the turn under way is written as a partial record.
    onTracing: (tracing) => { keepSignals = stopOnSignals('demo', io, () => tracing.shutdown()); },
    ...(dir ? { dir } : {}),
    ...(values.otlp ? { otlpUrl: values.otlp } : {}),
    ...(otlpProtocol ? { otlpProtocol } : {}),
    cwd: io.cwd,
    stream: values.stream === true,
    onMessage: (role, text) => {
      // Streamed text is already on screen: end its line instead of printing it twice.
      if (role === 'assistant' && streaming) { streaming = false; write('\n'); if (!text.startsWith('[calls ')) return; }
      if (role === 'tool') { write(`  tool → ${text}\n`); return; }
      write(`${role === 'user' ? 'user' : 'assistant'}: ${text}\n`);
    },
    ...(values.stream ? {
      onChunk: (chunk) => {
        const piece = chunk.choices[0]?.delta.content;
        if (!piece) return;
        if (!streaming) { streaming = true; write('assistant (streamed): '); }
        write(piece);
      },
    } : {}),
  }).finally(() => keepSignals());
  const otlpFailed = result.otlp !== undefined && (result.otlp.failedSpans + result.otlp.droppedSpans > 0 || result.otlp.exportedSpans === 0);
  if (json) {
    io.stdout.write(`${JSON.stringify({
      sessionId: result.sessionId,
      sessionFile: result.sessionFile,
      records: result.records.length,
      traceIds: result.traceIds,
      ...(result.otlp ? { otlp: { endpoint: result.otlpEndpoint, ...result.otlp } } : {}),
    })}\n`);
  } else {
    write(`\nsession file: ${result.sessionFile} (${result.records.length} recorded turn${result.records.length === 1 ? '' : 's'}; cache HITs are not written)\n\n`);
    for (const record of result.records) write(`${renderTurnTree(record, { color })}\n\n`);
    write(`trace ids:\n${result.traceIds.map((id) => `  ${id}`).join('\n')}\n`);
    if (result.otlp && !otlpFailed) write(`${result.otlp.exportedSpans} spans sent over OTLP to ${displayUrl(result.otlpEndpoint ?? '')}\n`);
    write(`\nnext: moa-otel show ${result.sessionFile}\n`);
  }
  if (result.otlpProblem) {
    io.stderr.write(`moa-otel demo: ${result.otlpProblem.replace(/^moa-otel: /, '')}\n`);
    return 1;
  }
  if (result.otlp && otlpFailed) {
    const { exportedSpans, failedSpans, droppedSpans } = result.otlp;
    io.stderr.write(`moa-otel demo: OTLP export to ${displayUrl(result.otlpEndpoint ?? '')} failed for ${failedSpans + droppedSpans} of ${exportedSpans + failedSpans + droppedSpans} spans (is a collector listening there?)\n`);
    return 1;
  }
  if (result.invalidLines > 0) {
    io.stderr.write(`moa-otel demo: ${result.invalidLines} line(s) of the session file did not validate\n`);
    return 1;
  }
  return 0;
}
