/**
 * One HTTP POST with a deadline, over node:http or node:https, that always
 * resolves: an answer (any status) or the reason there was none. Nothing
 * here retries, logs or throws.
 */
import http from 'node:http';
import https from 'node:https';
import { errorText } from '../../base/errors.js';

export type PostOutcome =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; body: Buffer }
  | { kind: 'failed'; code: string; message: string };

export interface PostRequest {
  url: URL;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  timeoutMillis: number;
  agent: http.Agent | undefined;
  /** Aborts the request (shutdown); the outcome is then `failed` with code `ABORTED`. */
  signal?: AbortSignal;
}

/** A response body larger than this is cut: it is only read for a diagnostic or a partial-success count. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function postOnce(request: PostRequest): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const fail = (code: string, message: string) => finish({ kind: 'failed', code, message });
    const onAbort = () => {
      fail('ABORTED', 'export aborted by shutdown');
      outgoing?.destroy();
    };
    const timer = setTimeout(() => {
      fail('TIMEOUT', `no answer within ${request.timeoutMillis} ms`);
      outgoing?.destroy();
    }, Math.max(1, request.timeoutMillis));
    timer.unref?.();

    let outgoing: http.ClientRequest | undefined;
    try {
      if (request.signal?.aborted) {
        onAbort();
        return;
      }
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const transport = request.url.protocol === 'https:' ? https : http;
      outgoing = transport.request(request.url, {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(request.body.length) },
        agent: request.agent,
      }, (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept < MAX_RESPONSE_BYTES) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        response.on('end', () => finish({ kind: 'response', status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', (error) => fail(errorCode(error), errorText(error)));
      });
      outgoing.on('error', (error) => fail(errorCode(error), errorText(error)));
      outgoing.end(request.body);
    } catch (error) {
      // http.request throws synchronously on an invalid header value or URL.
      fail(errorCode(error), errorText(error));
    }
  });
}

function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code !== '' ? code : 'ERROR';
}
