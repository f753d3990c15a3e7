/**
 * Streaming tee: the caller iterates the aggregator's chunks unchanged while
 * the aggregator span captures the text, assembles tool-call deltas, records
 * the first chunk and ends exactly once — when the stream ends, fails, or is
 * abandoned by the caller (a `break` out of `for await` runs the generator's
 * `finally`).
 */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { AggregatorEnd, ToolCall } from '../trace/types.js';

/** Accumulates what a chat-completions stream said, chunk by chunk. */
export class StreamAssembler {
  text = '';
  finishReason: string | null = null;
  id: string | null = null;
  model: string | null = null;
  rawUsage: unknown = undefined;
  readonly #toolCalls = new Map<number, { id?: string; type?: string; name: string; arguments: string }>();

  add(chunk: ChatCompletionChunk): void {
    if (chunk.id) this.id = chunk.id;
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.rawUsage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      // Only the first choice is the model response of the iteration.
      if (choice.index !== 0 && choice.index !== undefined) continue;
      const delta = choice.delta ?? {};
      // The opening chunk usually carries `content: ""`: that alone is not text output.
      if (typeof delta.content === 'string' && delta.content !== '') this.text += delta.content;
      for (const call of delta.tool_calls ?? []) {
        const slot = this.#toolCalls.get(call.index) ?? { name: '', arguments: '' };
        if (call.id) slot.id = call.id;
        if (call.type) slot.type = call.type;
        if (call.function?.name) slot.name += call.function.name;
        if (call.function?.arguments) slot.arguments += call.function.arguments;
        this.#toolCalls.set(call.index, slot);
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
  }

  /** The streamed text, or null when the model sent none (a tool-call-only answer). */
  get output(): string | null {
    return this.text === '' ? null : this.text;
  }

  toolCalls(): ToolCall[] {
    return [...this.#toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        ...(c.id !== undefined ? { id: c.id } : {}),
        type: c.type ?? 'function',
        function: { name: c.name, arguments: c.arguments },
      }));
  }
}

export interface TeeHooks {
  firstChunk(): void;
  /** Called once when the stream completed normally or was abandoned, with what was captured. */
  finish(assembler: StreamAssembler): void;
  /** Called once when the source stream failed; returns what the caller is thrown in its place (the error, masked). */
  fail(error: unknown): unknown;
  /** Drop chunks we asked for on our own account (the usage-only chunk), so the caller sees its own stream. */
  hideChunk?(chunk: ChatCompletionChunk): boolean;
  /** Release the upstream request when the caller walks away. */
  abortSource?(): void;
  /**
   * Completes the last chunk the caller gets, after the stream ended and
   * `finish` ran (the turn's `moa` field goes there). Set, it makes the tee
   * hold back a chunk that may be the last one — one with a finish reason, or
   * the usage chunk — until the next chunk or the end shows whether it is.
   */
  completeFinal?(chunk: ChatCompletionChunk, assembler: StreamAssembler): ChatCompletionChunk;
}

/** A chunk after which a provider usually sends nothing the caller sees: the finish chunk or the usage chunk. */
function mayBeFinal(chunk: ChatCompletionChunk): boolean {
  const choices = chunk.choices ?? [];
  return choices.length === 0 || choices.some((c) => c.finish_reason != null);
}

export async function* teeChunks(source: AsyncIterable<ChatCompletionChunk>, hooks: TeeHooks): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const assembler = new StreamAssembler();
  let first = true;
  let settled = false;
  let held: ChatCompletionChunk | undefined;
  const release = () => {
    const chunk = held;
    held = undefined;
    return chunk;
  };
  try {
    for await (const chunk of source) {
      if (first) {
        first = false;
        safely(() => hooks.firstChunk());
      }
      safely(() => assembler.add(chunk));
      if (hooks.hideChunk?.(chunk)) continue;
      const previous = release();
      if (previous) yield previous;
      if (hooks.completeFinal && mayBeFinal(chunk)) held = chunk;
      else yield chunk;
    }
    settled = true;
    safely(() => hooks.finish(assembler));
    const last = release();
    if (last) {
      let completed = last;
      safely(() => { completed = hooks.completeFinal?.(last, assembler) ?? last; });
      yield completed;
    }
  } catch (err) {
    // Only the source or the caller's `throw()` gets here: the hooks are guarded.
    settled = true;
    let thrown = err;
    safely(() => { thrown = hooks.fail(err); });
    // What the provider sent before it failed still reaches the caller, then the error.
    const last = release();
    if (last) yield last;
    throw thrown;
  } finally {
    if (!settled) {
      // The caller stopped iterating: end the span with what was captured so far.
      safely(() => hooks.finish(assembler));
      safely(() => hooks.abortSource?.());
    }
  }
}

/** What the aggregator span gets at the end of a stream, but usage and cost (`meterCall` on `rawUsage`). */
export function streamEnd(assembler: StreamAssembler): AggregatorEnd {
  const toolCalls = assembler.toolCalls();
  return {
    output: assembler.output,
    toolCalls: toolCalls.length > 0 ? toolCalls : null,
    finishReason: assembler.finishReason,
    response: {
      id: assembler.id,
      model: assembler.model,
      finishReasons: assembler.finishReason ? [assembler.finishReason] : [],
    },
  };
}

/** Tracing never breaks the caller's stream. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // instrumentation failure: ignore, the chunks still flow
  }
}
