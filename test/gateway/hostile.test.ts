/**
 * The gateway against hostile callers, over real sockets: slow headers and
 * slow bodies are cut on time, a flood of them cannot lock a real caller
 * out, a body nested thousands deep is refused before any model is paid, an
 * oversize chunked body gets its 413 (not a reset), and a blank token is
 * refused at startup.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMoaClient } from '../../src/client/client.js';
import { createMoaGateway, GatewayListenError } from '../../src/gateway/server.js';
import { startGateway, type GatewayHarness, type HarnessOptions } from './harness.js';
import { waitUntil } from '../helpers/wait-until.js';

const TOKEN = 'a-long-enough-gateway-token-0123';

let harness: GatewayHarness | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await harness?.close();
  harness = undefined;
});

async function start(options: HarnessOptions): Promise<{ h: GatewayHarness; port: number }> {
  harness = await startGateway(options);
  return { h: harness, port: Number(new URL(harness.url).port) };
}

/** A raw connection that sends `text` and records what comes back and when it is closed. */
function rawConnection(port: number, text: string): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    let received = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve({ socket, received: () => received, closed });
    });
    sockets.push(socket);
    socket.on('data', (chunk: Buffer) => { received += chunk.toString(); });
    socket.on('error', () => {});
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - opened)));
    socket.once('error', reject);
  });
}

const slowLimits = { headersTimeoutMs: 300, bodyIdleTimeoutMs: 300, requestTimeoutMs: 2_000 };
const chatHead = (extra = '') => `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}`;

describe('slow callers', () => {
  it('headers that never finish are cut after the headers timeout', async () => {
    const { port } = await start({ limits: slowLimits });
    const c = await rawConnection(port, chatHead());
    expect(await c.closed).toBeLessThan(3_000);
  });

  it('a body without the token gets its 401 at once and the connection is closed, not held for the rest', async () => {
    const { port } = await start({ token: TOKEN, limits: { ...slowLimits, bodyIdleTimeoutMs: 60_000, requestTimeoutMs: 60_000 } });
    const c = await rawConnection(port, `${chatHead('Content-Length: 1000\r\n')}\r\n{"model":`);
    expect(await c.closed).toBeLessThan(3_000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('a body that stops arriving gets a 408 after the idle timeout', async () => {
    const { h, port } = await start({ limits: slowLimits });
    const c = await rawConnection(port, `${chatHead('Content-Length: 1000\r\n')}\r\n{"model":`);
    expect(await c.closed).toBeLessThan(3_000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.received()).toContain('"code":"request_timeout"');
    expect(h.upstream.requests).toHaveLength(0);
  });

  it('a flood of slow connections is capped, and a real caller still gets through', async () => {
    const { h, port } = await start({ token: TOKEN, limits: { headersTimeoutMs: 60_000, bodyIdleTimeoutMs: 60_000, requestTimeoutMs: 120_000, maxPendingConnections: 8 } });
    const flood = await Promise.all(Array.from({ length: 40 }, () => rawConnection(port, chatHead())));
    const models = await fetch(`${h.url}/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(models.status).toBe(200);
    // The gateway closes the connections over the cap; each client socket learns it a moment later.
    const open = () => flood.filter((c) => !c.socket.destroyed && c.socket.readyState === 'open');
    await waitUntil(() => open().length <= 8, 'the connections over the cap to be closed', { context: () => `${open().length} open` });
    expect(open().length).toBeLessThanOrEqual(8);
  });
});

describe('bodies', () => {
  it('JSON nested 5,000 deep is a 400 before any model is called', async () => {
    const { h } = await start({});
    const deep = `{"model":"moa","messages":[{"role":"user","content":"hi","extra":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
    const res = await fetch(`${h.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_json', message: expect.stringMatching(/deeper than 500 levels/) } });
    expect(h.upstream.requests).toHaveLength(0);
  });

  it('an oversize chunked body gets a clean 413 every time, never a reset', async () => {
    // The default limit (8 MB) and a body twice that, from a caller that sends its whole body before reading
    // (as Python's http.client does): cut off mid-body, it got EPIPE/ECONNRESET and never saw the 413.
    const { h, port } = await start({});
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await sendWholeBodyThenRead(port, 1100), `attempt ${attempt + 1}`).toBe('HTTP/1.1 413|');
    }
    expect(h.upstream.requests).toHaveLength(0);
  });
});

/** Sends a chunked body of `chunks` × 16 KB, reading nothing until it is all written; what came back, and any socket error. */
function sendWholeBodyThenRead(port: number, chunks: number): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    let failure = '';
    const socket = connect(port, '127.0.0.1', async () => {
      socket.pause();
      socket.write(chatHead('Transfer-Encoding: chunked\r\n\r\n'));
      const piece = `"${'x'.repeat(16 * 1024)}",`;
      const frame = `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`;
      for (let i = 0; i < chunks && !socket.destroyed; i++) {
        if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
      }
      if (!socket.destroyed) socket.write('1\r\n]\r\n0\r\n\r\n');
      socket.resume();
    });
    sockets.push(socket);
    socket.on('data', (c: Buffer) => { received += c.toString(); });
    socket.on('error', (err: NodeJS.ErrnoException) => { failure = `error ${err.code ?? err.message}`; });
    socket.on('close', () => resolve(`${received.slice(0, 12)}|${failure}`));
  });
}

describe('the token', () => {
  it('a blank token, or one holding whitespace, is refused at startup', async () => {
    const client = createMoaClient({ env: {}, ignoreConfigFile: true, presets: {}, providers: {} });
    for (const token of [' '.repeat(24), '\t'.repeat(20), 'two words in one gateway token']) {
      const gateway = createMoaGateway({ client, token, env: {} });
      const refused = await gateway.listen({ host: '127.0.0.1', port: 0 }).then(() => 'listening', (err: unknown) => err);
      expect(refused).toBeInstanceOf(GatewayListenError);
      expect((refused as Error).message).toMatch(/^the gateway token (is blank|holds whitespace or control characters): use one word/);
      if (refused === 'listening') await gateway.close();
    }
  });
});
