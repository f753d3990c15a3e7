/**
 * The promise `create()` returns, with what the `openai` client's promise
 * offers frameworks: `.withResponse()` (data, an HTTP `Response`, the request
 * id) and `.asResponse()` (the `Response` alone). A MoA turn is several HTTP
 * calls; the `Response` describes the turn's answer: the completion as JSON
 * (or the chunks as server-sent events), the aggregator call's request id.
 */
import type { Stream } from 'openai/streaming';

/** What one turn produced, before the caller picks how to see it. */
export interface TurnOutcome<T> {
  data: T;
  /** The aggregator call's request id (`x-request-id`), when the provider sent one. */
  requestId: string | null;
  traceId: string | null;
}

export interface WithResponse<T> {
  data: T;
  response: Response;
  request_id: string | null;
}

export class MoaAPIPromise<T> extends Promise<T> {
  // `then` and friends return plain promises: this class is only the outermost one.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  readonly #outcome: Promise<TurnOutcome<T>>;

  constructor(outcome: Promise<TurnOutcome<T>>) {
    let settle: { resolve(value: T): void; reject(reason: unknown): void } | undefined;
    super((resolve, reject) => { settle = { resolve, reject }; });
    this.#outcome = outcome;
    outcome.then((o) => settle?.resolve(o.data), (err: unknown) => settle?.reject(err));
    // A caller who only uses `.withResponse()` gets the error there: this promise's own
    // rejection must not count as unhandled (the `openai` client's promise is lazy for the same reason).
    this.catch(() => undefined);
  }

  /** The completion (or stream), an HTTP `Response` describing it, and the aggregator's request id. */
  withResponse(): Promise<WithResponse<T>> {
    return this.#outcome.then((o) => ({ data: o.data, response: describe(o, false), request_id: o.requestId }));
  }

  /** An HTTP `Response` whose body is the completion as JSON, or the stream as server-sent events. */
  asResponse(): Promise<Response> {
    return this.#outcome.then((o) => describe(o, true));
  }

  /** @internal as the `openai` client's promise: the helpers built on `create()` (`parse`) transform the data. */
  _thenUnwrap<U>(transform: (data: T, props: { response: Response; requestLogID: string }) => U): MoaAPIPromise<U> {
    return new MoaAPIPromise(this.#outcome.then((o) => ({ ...o, data: transform(o.data, { response: describe(o, false), requestLogID: o.requestId ?? '' }) })));
  }
}

function describe<T>(outcome: TurnOutcome<T>, withBody: boolean): Response {
  const stream = isStream(outcome.data);
  const headers = new Headers({ 'content-type': stream ? 'text/event-stream' : 'application/json' });
  if (outcome.requestId) headers.set('x-request-id', outcome.requestId);
  if (outcome.traceId) headers.set('x-moa-trace-id', outcome.traceId);
  let body: ReadableStream<Uint8Array> | string | null = null;
  if (withBody) body = stream ? serverSentEvents(outcome.data as AsyncIterable<unknown>) : JSON.stringify(outcome.data);
  return new Response(body, { status: 200, headers });
}

function isStream(data: unknown): data is Stream<unknown> {
  return typeof data === 'object' && data !== null && typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** The chunks as `data:` events, ending with `data: [DONE]`, as a chat-completions stream is sent. */
function serverSentEvents(chunks: AsyncIterable<unknown>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) {
        controller.enqueue(encoder.encode('data: [DONE]\n\n'));
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(next.value)}\n\n`));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
