/**
 * Server-sent events framed exactly as OpenAI frames a streamed chat
 * completion: one `data: <json>\n\n` per chunk, `data: [DONE]\n\n` at the
 * end, and for a failure after the stream began a `data: {"error": ...}`
 * event (which OpenAI's clients raise as an API error) instead of `[DONE]`.
 * Writes wait for the socket to drain, so a slow reader slows the upstream
 * stream instead of growing the gateway's memory.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export class SseResponse {
  constructor(private readonly res: ServerResponse) {}

  start(headers: OutgoingHttpHeaders): void {
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Reverse proxies (nginx) must pass each event on at once.
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  /** The caller is still there to read. */
  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  /** Sends one event; false when the caller has gone. */
  async send(payload: unknown): Promise<boolean> {
    return this.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  async done(): Promise<void> {
    if (await this.write('data: [DONE]\n\n')) this.res.end();
  }

  async fail(errorBody: unknown): Promise<void> {
    if (await this.send(errorBody)) this.res.end();
  }

  private async write(text: string): Promise<boolean> {
    if (!this.open) return false;
    if (!this.res.write(text)) await this.drainedOrClosed();
    return this.open;
  }

  private drainedOrClosed(): Promise<void> {
    return new Promise((resolve) => {
      const settle = () => {
        this.res.off('drain', settle);
        this.res.off('close', settle);
        resolve();
      };
      this.res.on('drain', settle);
      this.res.on('close', settle);
    });
  }
}
