/**
 * `moa-otel serve`: the OpenAI-compatible MoA gateway. Presets and providers
 * come from the configuration, as for `ask`; every request is one traced MoA
 * turn. SIGINT/SIGTERM/SIGHUP finish the open turns (for at most
 * --drain-seconds), flush the traces and exit 0; a second signal, or the end
 * of the drain, aborts the open turns (their records are still written).
 */
import path from 'node:path';
import { MoaConfigError } from '../../config/load.js';
import { displayUrl } from '../../config/otlp-url.js';
import { createMoaClient, type MoaClient } from '../../client/client.js';
import { bindRefusal } from '../../gateway/access.js';
import {
  createMoaGateway, DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, GatewayListenError, type MoaGateway,
} from '../../gateway/server.js';
import { presetProblems } from '../../gateway/models.js';
import { setupMoaTracing, type MoaTracing } from '../../setup/setup.js';
import { parseCommandArgs } from '../args.js';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { STOP_SIGNALS } from '../signals.js';

const TOKEN_ENV = 'MOA_GATEWAY_TOKEN';
/** A stop signal gives open turns this long: a stream nobody reads must not keep the server (and its records) hanging. */
const DEFAULT_DRAIN_MS = 30_000;

const USAGE = `usage: moa-otel serve [--host H] [--port P] [--max-body SIZE] [--drain-seconds S]

An OpenAI-compatible Mixture-of-Agents endpoint for any OpenAI client:
POST /v1/chat/completions runs one traced MoA turn per request (streaming,
tools, stream_options.include_usage), GET /v1/models lists the presets as
models ("moa/<preset>", and "moa" for the default preset), GET /healthz.
Presets, providers and tracing come from the configuration, as for ask.

  --host H          address to listen on (default ${DEFAULT_HOST}); anything but
                    loopback needs ${TOKEN_ENV}
  --port P          port (default ${DEFAULT_PORT}; 0 picks a free one)
  --max-body SIZE   largest request body: bytes, or with k / m (default 8m)
  --drain-seconds S on a stop signal, how long open turns may finish before
                    they are aborted and recorded (default ${DEFAULT_DRAIN_MS / 1000})

${TOKEN_ENV}  bearer token clients must send (16 characters or more)

The session of a request is its x-moa-session-id header, else
metadata.session_id, else user, else one per conversation. SIGINT, SIGTERM
and SIGHUP finish open turns, flush traces and exit 0; a second signal (or
the end of --drain-seconds) aborts them, and their records are still written.`;

const command: CliCommand = {
  name: 'serve',
  summary: 'serve MoA presets as an OpenAI-compatible endpoint',
  usage: USAGE,
  run: runServe,
};
export default command;

async function runServe(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' }, 'max-body': { type: 'string' }, 'drain-seconds': { type: 'string' } },
    allowPositionals: false,
  });
  const host = values.host ?? DEFAULT_HOST;
  const port = values.port === undefined ? DEFAULT_PORT : portOption(values.port);
  const maxBodyBytes = values['max-body'] === undefined ? DEFAULT_MAX_BODY_BYTES : sizeOption(values['max-body']);
  const drainMs = values['drain-seconds'] === undefined ? DEFAULT_DRAIN_MS : secondsOption(values['drain-seconds']) * 1000;
  const token = io.env[TOKEN_ENV] || undefined;
  const refusal = bindRefusal(host, token);
  if (refusal) throw new CliError(refusal);

  let tracing: MoaTracing | undefined;
  let gateway: MoaGateway;
  let url: string;
  try {
    tracing = setupMoaTracing({}, { env: io.env });
    const client = createMoaClient({ instrumentation: tracing.instrumentation, env: io.env, selfBaseURLs: selfBaseURLs(host, port) });
    requireUsablePreset(client, io);
    gateway = createMoaGateway({ client, token, maxBodyBytes, env: io.env });
    url = await gateway.listen({ host, port });
  } catch (err) {
    await tracing?.shutdown();
    if (err instanceof MoaConfigError || err instanceof GatewayListenError) throw new CliError(err.message);
    throw err;
  }

  // Signals are handled before anything is printed: whoever waits for the
  // "listening" line may stop the server at once.
  const stopped = untilStopped(gateway, io, drainMs);
  io.stdout.write(`moa-otel serve: listening on ${url}${token ? ' (bearer token required)' : ''}\n`);
  const destinations = [tracing.jsonl && path.dirname(tracing.jsonl.fileFor('session')), tracing.otlpUrl && displayUrl(tracing.otlpUrl)].filter(Boolean);
  io.stdout.write(`moa-otel serve: traces ${destinations.length > 0 ? `to ${destinations.join(' and ')}` : 'off (save_traces, otlp)'}\n`);
  await stopped;
  await tracing.shutdown();
  io.stderr.write('moa-otel serve: stopped\n');
  return 0;
}

/**
 * Resolves once the gateway has stopped after SIGINT, SIGTERM or SIGHUP.
 * Open turns get `drainMs` to finish; then, or on a second signal, they are
 * aborted (each still recorded, with what it had received). A server that
 * stops as asked exits 0.
 */
function untilStopped(gateway: MoaGateway, io: CliIo, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const abort = (why: string) => {
      io.stderr.write(`moa-otel serve: ${why}: aborting ${gateway.openTurns} open turn(s)\n`);
      gateway.abortOpenTurns();
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        abort(`${signal} again`);
        return;
      }
      stopping = true;
      io.stderr.write(`moa-otel serve: ${signal}: finishing ${gateway.openTurns} open turn(s) (at most ${drainMs / 1000} s), then stopping (send it again to abort them)\n`);
      drainTimer = setTimeout(() => abort(`still open after ${drainMs / 1000} s`), drainMs);
      drainTimer.unref();
      void gateway.close().then(() => {
        clearTimeout(drainTimer);
        for (const stop of STOP_SIGNALS) process.off(stop, onSignal);
        resolve();
      });
    };
    for (const stop of STOP_SIGNALS) process.on(stop, onSignal);
  });
}

/** Presets that cannot run are named on stderr; without a single usable one there is nothing to serve. */
function requireUsablePreset(client: MoaClient, io: CliIo): void {
  const presets = Object.keys(client.config.presets);
  if (presets.length === 0) throw new CliError('no MoA presets configured (`presets:` in <home>/config.yaml, section moa:)');
  const all = presetProblems(client);
  const problems = all.filter((p) => p.reference === undefined);
  if (problems.length === presets.length) {
    throw new CliError(`no usable preset: ${problems.map((p) => `"${p.preset}": ${p.reason}`).join('; ')}`);
  }
  for (const { preset, reason, reference } of all) {
    io.stderr.write(reference === undefined
      ? `moa-otel serve: warning: preset "${preset}" cannot run: ${reason}\n`
      : `moa-otel serve: warning: preset "${preset}": reference ${reference} will fail: ${reason}\n`);
  }
}

/** The addresses this gateway answers on, so a provider pointing back at it is refused (no recursion). */
function selfBaseURLs(host: string, port: number): string[] {
  if (port === 0) return [];
  const hosts = new Set([host.includes(':') ? `[${host}]` : host, '127.0.0.1', 'localhost', '[::1]']);
  return [...hosts].map((h) => `http://${h}:${port}/v1`);
}

function portOption(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new CliError(`--port expects a port number (0-65535), got "${text}"`);
  return port;
}

function secondsOption(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) throw new CliError(`--drain-seconds expects a number of seconds (0-86400), got "${text}"`);
  return seconds;
}

function sizeOption(text: string): number {
  const match = /^(\d+)\s*([km]?)b?$/i.exec(text.trim());
  const bytes = match ? Number(match[1]) * ({ '': 1, k: 1024, m: 1024 * 1024 }[(match[2] ?? '').toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new CliError(`--max-body expects a size such as 65536, 512k or 8m, got "${text}"`);
  return bytes;
}
