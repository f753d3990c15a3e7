/**
 * `createMoaGateway`: an OpenAI-compatible HTTP endpoint in front of a MoA
 * client, so any OpenAI client in any language gets traced MoA turns.
 *
 * - `POST /v1/chat/completions`: one MoA iteration per request
 *   (`client.chat.completions.create(params, { sessionId, signal })`),
 *   answered as JSON or, with `stream: true`, as OpenAI's server-sent events;
 * - `GET /v1/models` (and `/v1/models/{id}`): the presets as models;
 * - `GET /healthz`: liveness, without a token.
 *
 * A caller that disconnects aborts its turn (references and aggregator); the
 * turn's record is still written. `close()` stops taking requests, lets open
 * turns finish and only then closes the connections.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Stream } from 'openai/streaming';
import { describeFailure, firstLine } from '../base/errors.js';
import type { MoaClient } from '../client/client.js';
import type { Env } from '../config/paths.js';
import { bearerTokenMatches, bindRefusal, hostHeaderName, isLoopbackHost } from './access.js';
import { chatParams, type ChatParams } from './chat-request.js';
import { ModelCatalog } from './models.js';
import { errorForBrokenStream, errorForFailedTurn, GatewayError } from './openai-error.js';
import { readJsonBody, RequestAbandonedError } from './request-body.js';
import { secretMask } from './secret-mask.js';
import { requestSession, SESSION_HEADER } from './session-id.js';
import { SseResponse } from './sse.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8788;
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * How long a caller may take to send a request, and how many connections may
 * be waiting for one at a time. Node's own defaults hold a connection whose
 * body trickles in for 300 s, with no cap on how many.
 */
export interface GatewayConnectionLimits {
  /** The request line and headers must arrive within this (default 10 s). */
  headersTimeoutMs?: number;
  /** A body that sends nothing for this long gets a 408 (default 15 s). */
  bodyIdleTimeoutMs?: number;
  /** The whole request must arrive within this (default 120 s). */
  requestTimeoutMs?: number;
  /**
   * Connections that have not yet delivered an accepted request (headers
   * still coming, no valid token yet, body still arriving). Past this many,
   * the oldest is closed (default 128): a flood of slow connections cannot
   * lock callers out, since a real caller's request is through in moments.
   */
  maxPendingConnections?: number;
}

const DEFAULT_LIMITS: Required<GatewayConnectionLimits> = {
  headersTimeoutMs: 10_000, bodyIdleTimeoutMs: 15_000, requestTimeoutMs: 120_000, maxPendingConnections: 128,
};

export interface MoaGatewayOptions {
  client: MoaClient;
  /** Bearer token callers must send; required to listen anywhere but loopback. */
  token?: string;
  /** Larger request bodies get a 413. */
  maxBodyBytes?: number;
  /** Where the provider keys come from, so error messages can mask them (default `process.env`). */
  env?: Env;
  /** Timeouts and the cap on connections still sending their request. */
  limits?: GatewayConnectionLimits;
}

export interface MoaGateway {
  /** Starts listening; resolves with the base URL for OpenAI clients (`http://127.0.0.1:8788/v1`). */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Turns being answered right now. */
  readonly openTurns: number;
  /** Stops taking requests, waits for open turns (or aborts them first), then closes every connection. */
  close(options?: { abortOpenTurns?: boolean }): Promise<void>;
  /** Aborts every open turn; each still writes its record. */
  abortOpenTurns(): void;
}

/** `listen` refused: a host that needs a token, a token too short, or the address is taken. */
export class GatewayListenError extends Error {
  override readonly name = 'GatewayListenError';
}

/** The reason an open turn is aborted when the gateway stops without waiting. */
class ShutdownAbort extends Error {
  override readonly name = 'ShutdownAbort';
}

interface OpenTurn {
  readonly controller: AbortController;
  readonly finished: Promise<void>;
  finish(): void;
}

export function createMoaGateway(options: MoaGatewayOptions): MoaGateway {
  const { client, token } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const mask = secretMask(client.config, options.env ?? process.env, [token]);
  const catalog = new ModelCatalog(client);
  const turns = new Set<OpenTurn>();
  let draining = false;

  const server: Server = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    // Node checks both timeouts on this period (30 s by default): a timeout is only as exact as it.
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof RequestAbandonedError) return;
      if (!(err instanceof GatewayError)) diag.error(`moa-otel gateway: ${mask(firstLine(describeFailure(err)))}`);
      answerError(res, err instanceof GatewayError ? err : new GatewayError(500, 'internal error in the MoA gateway', { type: 'server_error', code: 'internal_error' }));
    });
  });

  // Connections still owing an accepted request, oldest first (a Set keeps insertion order).
  const pending = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
    if (pending.size > limits.maxPendingConnections) {
      const oldest = pending.values().next().value as Socket;
      pending.delete(oldest);
      oldest.destroy();
    }
  });
  /** The connection delivered an accepted request: it no longer counts against the cap. */
  const accepted = (req: IncomingMessage) => pending.delete(req.socket);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') {
      allowMethods(req, 'GET', 'HEAD');
      accepted(req);
      sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
      return;
    }
    checkAccess(req);
    if (req.method !== 'POST') accepted(req);
    if (draining) throw shuttingDown('the MoA gateway is shutting down');
    if (path === '/v1/models') {
      allowMethods(req, 'GET');
      sendJson(res, 200, { object: 'list', data: catalog.list() });
    } else if (path.startsWith('/v1/models/')) {
      allowMethods(req, 'GET');
      sendJson(res, 200, modelById(decodedPathPart(path.slice('/v1/models/'.length))));
    } else if (path === '/v1/chat/completions') {
      allowMethods(req, 'POST');
      await chatCompletion(req, res);
    } else {
      throw new GatewayError(404, `Invalid URL (${req.method ?? ''} ${path})`);
    }
  }

  function checkAccess(req: IncomingMessage): void {
    if (token === undefined) {
      // Loopback only, so only loopback names: a page whose DNS name was rebound to 127.0.0.1 still sends its own.
      const host = req.headers.host;
      if (host !== undefined && !isLoopbackHost(hostHeaderName(host))) {
        throw new GatewayError(403, `requests for host "${hostHeaderName(host)}" are refused: without a token this gateway answers loopback names only`, { code: 'forbidden_host' });
      }
      return;
    }
    if (!bearerTokenMatches(req.headers.authorization, token)) {
      const sent = req.headers.authorization !== undefined;
      throw new GatewayError(401, sent ? 'Incorrect API key provided for this MoA gateway' : 'Missing API key: send `Authorization: Bearer <token>`', {
        code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' },
      });
    }
  }

  function modelById(id: string): object {
    const known = catalog.list().find((m) => m.id === id);
    if (known) return known;
    catalog.resolve(id); // throws the 404 naming what exists
    return catalog.entry(id);
  }

  async function chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = String(req.headers['content-type'] ?? '');
    // Browsers send cross-site requests without a preflight only as form or text bodies: those never start a turn.
    if (!/^application\/json\b/i.test(contentType)) {
      throw new GatewayError(415, 'send the request body as JSON with `Content-Type: application/json`', { code: 'unsupported_media_type' });
    }
    const params = chatParams(await readJsonBody(req, { limitBytes: maxBodyBytes, idleTimeoutMs: limits.bodyIdleTimeoutMs }));
    accepted(req);
    // The body may have finished arriving after close() began: no new turn starts then.
    if (draining) throw shuttingDown('the MoA gateway is shutting down');
    const model = catalog.resolve(params.model);
    const { sessionId } = requestSession(req.headers, params);
    const headers = sessionHeaders(sessionId);
    const turn = openTurn(res);
    try {
      const request = { ...params, model } as ChatParams;
      // `x-moa-usage: turn` makes `usage` the whole turn's totals, for callers that bill from it.
      const usage = String(req.headers[USAGE_HEADER] ?? '').trim().toLowerCase();
      const result = await client.chat.completions.create(request, {
        sessionId, signal: turn.controller.signal, ...(usage === 'turn' || usage === 'aggregator' ? { usage } : {}),
      });
      // Answered as the model that was asked for (`moa/duo`), not the aggregator: per-model accounting keys on the preset.
      if (request.stream === true) await relayStream(result as Stream<ChatCompletionChunk>, res, headers, turn, params.model);
      else sendJson(res, 200, { ...(result as ChatCompletion), model: params.model }, headers);
    } catch (err) {
      answerError(res, failedTurnError(err, turn));
    } finally {
      turn.finish();
    }
  }

  async function relayStream(stream: Stream<ChatCompletionChunk>, res: ServerResponse, headers: OutgoingHttpHeaders, turn: OpenTurn, model: string): Promise<void> {
    const sse = new SseResponse(res);
    sse.start(headers);
    try {
      for await (const chunk of stream) {
        // Leaving the loop ends the aggregator span with what was streamed and releases the upstream request.
        if (!(await sse.send({ ...chunk, model }))) break;
      }
      // An aborted upstream stream just ends (the openai package treats the abort as the end): the caller
      // must not take the cut answer for a whole one.
      if (turn.controller.signal.aborted) await sse.fail(failedTurnError(turn.controller.signal.reason, turn, errorForBrokenStream).body());
      else await sse.done();
    } catch (err) {
      await sse.fail(failedTurnError(err, turn, errorForBrokenStream).body());
    }
  }

  function failedTurnError(err: unknown, turn: OpenTurn, describe = errorForFailedTurn): GatewayError {
    if (turn.controller.signal.reason instanceof ShutdownAbort) {
      return shuttingDown('the MoA gateway is shutting down: the turn was aborted');
    }
    return describe(err, mask);
  }

  function openTurn(res: ServerResponse): OpenTurn {
    const controller = new AbortController();
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => { resolveFinished = resolve; });
    // The caller went away before its answer was complete: stop the references and the aggregator.
    const onClose = () => {
      if (!res.writableFinished) controller.abort(new Error('the caller disconnected'));
    };
    const turn: OpenTurn = {
      controller,
      finished,
      finish() {
        res.off('close', onClose);
        turns.delete(turn);
        resolveFinished();
      },
    };
    res.on('close', onClose);
    turns.add(turn);
    return turn;
  }

  function sendJson(res: ServerResponse, status: number, payload: unknown, headers: OutgoingHttpHeaders = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      // Refused before its body was read (no token, wrong host, ...): close rather than wait for the rest of it.
      ...(draining || !res.req.complete ? { connection: 'close' } : {}),
    });
    res.end(text);
  }

  function answerError(res: ServerResponse, error: GatewayError): void {
    sendJson(res, error.status, error.body(), error.headers);
  }

  function abortOpenTurns(): void {
    for (const turn of turns) turn.controller.abort(new ShutdownAbort('the MoA gateway is shutting down'));
  }

  return {
    async listen({ host = DEFAULT_HOST, port = DEFAULT_PORT } = {}) {
      const refusal = bindRefusal(host, token);
      if (refusal) throw new GatewayListenError(refusal);
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          reject(new GatewayListenError(`cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : firstLine(describeFailure(err))}`));
        };
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          // Later server errors (out of file descriptors, ...) are reported, never thrown into the process.
          server.on('error', (err) => diag.error(`moa-otel gateway: ${firstLine(describeFailure(err))}`));
          resolve();
        });
      });
      return baseUrl(server.address() as AddressInfo);
    },
    get openTurns() {
      return turns.size;
    },
    async close({ abortOpenTurns: abort = false } = {}) {
      draining = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (abort) abortOpenTurns();
      await Promise.all([...turns].map((t) => t.finished));
      server.closeAllConnections();
      await stopped;
    },
    abortOpenTurns,
  };
}

/** A percent-encoded path segment; a malformed one is kept as sent (and names no model). */
function decodedPathPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function shuttingDown(message: string): GatewayError {
  return new GatewayError(503, message, { type: 'server_error', code: 'shutting_down', headers: { connection: 'close' } });
}

/** Allows the methods given; anything else is a 405 whose `Allow` lists them. */
function allowMethods(req: IncomingMessage, ...methods: string[]): void {
  if (methods.includes(req.method ?? '')) return;
  throw new GatewayError(405, `${req.method ?? ''} is not allowed here (allowed: ${methods.join(', ')})`, {
    code: 'method_not_allowed', headers: { allow: methods.join(', ') },
  });
}

/** Request header choosing what `usage` reports: `turn` (all calls) or `aggregator` (the default). */
const USAGE_HEADER = 'x-moa-usage';

/** Tells the caller which session its turn was recorded under (when the id fits in a header). */
function sessionHeaders(sessionId: string): OutgoingHttpHeaders {
  return /^[\x20-\x7e]{1,1024}$/.test(sessionId) ? { [SESSION_HEADER]: sessionId } : {};
}

function baseUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/v1`;
}
