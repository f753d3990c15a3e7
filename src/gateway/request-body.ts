/**
 * Reads a JSON request body under a size limit, a time limit and a nesting
 * limit, before any money is spent on it.
 *
 * - Size: a chunked body is counted as it arrives and nothing past the limit
 *   is kept, so a caller can never make the gateway hold more than
 *   `limitBytes` of one request. The rest is still read and thrown away (up
 *   to a bound) before the 413 goes out: closing a connection the caller is
 *   still writing to resets it, and the caller would see a reset instead of
 *   the 413.
 * - Time: a body that stops arriving for `idleTimeoutMs` gets a 408 (the
 *   server's request timeout bounds the whole request besides).
 * - Nesting: JSON nested deeper than the records can hold is a 400 here;
 *   found later, it failed the turn after the references had been paid for.
 */
import type { IncomingMessage } from 'node:http';
import { jsonNestingExceeds } from '../content/json-nesting.js';
import { MAX_JSON_DEPTH } from '../content/safe-json.js';
import { GatewayError } from './openai-error.js';

/** The caller went away before its request body was complete: there is no one to answer. */
export class RequestAbandonedError extends Error {
  override readonly name = 'RequestAbandonedError';
}

export interface BodyLimits {
  /** Larger bodies get a 413. */
  limitBytes: number;
  /** A body that sends nothing for this long gets a 408. */
  idleTimeoutMs: number;
}

/** How much of an oversize body is read and dropped so the 413 arrives; past it the connection is cut. */
function drainLimit(limitBytes: number): number {
  return 4 * Math.max(limitBytes, 1 << 20);
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError(413, `the request body is larger than this gateway's limit of ${limitBytes} bytes`, {
    code: 'request_too_large',
    // The rest of the body is never parsed: the connection cannot carry another request.
    headers: { connection: 'close' },
  });
}

function timedOut(idleTimeoutMs: number): GatewayError {
  return new GatewayError(408, `the request body stopped arriving (nothing for ${idleTimeoutMs} ms)`, {
    code: 'request_timeout', headers: { connection: 'close' },
  });
}

export function readJsonBody(req: IncomingMessage, { limitBytes, idleTimeoutMs }: BodyLimits): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  const declaredTooLarge = Number.isFinite(declared) && declared > limitBytes;
  // Too much to read through just to answer: refused at once.
  if (declaredTooLarge && declared > drainLimit(limitBytes)) return Promise.reject(tooLarge(limitBytes));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let oversize = declaredTooLarge;
    let idle: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(idle);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const fail = (error: Error) => {
      stop();
      // Nothing more is read; the response closes the connection.
      req.pause();
      reject(error);
    };
    const armIdleTimer = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(oversize ? tooLarge(limitBytes) : timedOut(idleTimeoutMs)), idleTimeoutMs);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      armIdleTimer();
      if (received > limitBytes) {
        oversize = true;
        chunks.length = 0;
        if (received > drainLimit(limitBytes)) fail(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      if (oversize) {
        reject(tooLarge(limitBytes));
        return;
      }
      try {
        resolve(parseJson(Buffer.concat(chunks, received).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    };
    const onGone = () => {
      stop();
      reject(new RequestAbandonedError('the caller closed the connection before the request body was complete'));
    };
    armIdleTimer();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new GatewayError(400, 'the request body is empty: send a JSON object');
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new GatewayError(400, `the request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`, { code: 'invalid_json' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the body back; the caller knows its body, the message need not repeat it.
    throw new GatewayError(400, 'the request body is not valid JSON', { code: 'invalid_json' });
  }
}
