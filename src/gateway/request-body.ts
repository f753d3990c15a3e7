/**
 * Reads a JSON request body under a size limit. A declared length over the
 * limit is refused before a byte is read; a chunked body is counted as it
 * arrives and reading stops at the limit, so a caller can never make the
 * gateway hold more than `limitBytes` of one request.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from './openai-error.js';

/** The caller went away before its request body was complete: there is no one to answer. */
export class RequestAbandonedError extends Error {
  override readonly name = 'RequestAbandonedError';
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError(413, `the request body is larger than this gateway's limit of ${limitBytes} bytes`, {
    code: 'request_too_large',
    // The rest of the body is never read: the connection cannot carry another request.
    headers: { connection: 'close' },
  });
}

export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(limitBytes));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        stop();
        // Nothing more is read; the response closes the connection.
        req.pause();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
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
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new GatewayError(400, 'the request body is empty: send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the body back; the caller knows its body, the message need not repeat it.
    throw new GatewayError(400, 'the request body is not valid JSON', { code: 'invalid_json' });
  }
}
