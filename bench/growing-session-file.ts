/**
 * A growing agent session as the writer leaves it on disk: every line holds
 * the whole conversation so far once per reference (its own system prompt,
 * then the history) and once more for the aggregator, so the file grows with
 * the square of the turns. Mixed scripts, so UTF-8 and escaping cost what
 * they cost users. Used by the readers bench (`offline-formats.ts`).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { conversation, mixedText, MIXED_TEXTS_WITH_MARKUP } from './mixed-text.js';

interface Message { role: string; content: string }

export interface GrowingSessionOptions {
  turns?: number;
  /** Characters of conversation added per turn. */
  growChars?: number;
  references?: number;
}

/** Writes the session to `file`; returns its size in bytes and its turns. */
export async function writeGrowingSession(file: string, options: GrowingSessionOptions = {}): Promise<{ bytes: number; turns: number }> {
  const { turns = 50, growChars = 20_000, references = 3 } = options;
  const stream = createWriteStream(file, { mode: 0o600 });
  const history: Message[] = [];
  let bytes = 0;
  for (let t = 0; t < turns; t++) {
    history.push(...conversation(t, growChars, 2500, MIXED_TEXTS_WITH_MARKUP));
    const ts = 1_760_000_000 + t * 30;
    const call = (k: number, system: string) => ({
      label: `openai:model-${k}`, model: `model-${k}`, provider: 'openai', temperature: 0.7,
      input_messages: [{ role: 'system', content: system }, ...history],
      output: mixedText(t * 7 + k, 1500, MIXED_TEXTS_WITH_MARKUP),
      usage: { input_tokens: 5000 + t * 5000, output_tokens: 400, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
      cost_usd: 0.0012 + k / 10_000, cost_status: 'actual', cost_source: 'provider',
      started_at: ts - 3, ended_at: ts - 2 + k * 0.1, duration_ms: 1000 + k * 100, error: null,
    });
    const refs = Array.from({ length: references }, (_, k) => call(k, `You are reference advisor ${k}. Answer briefly.`));
    const { temperature: _temperature, ...agg } = call(references, 'You are the acting model.');
    const record = {
      ts, session_id: 'grow', preset: 'default', references: refs,
      aggregator: { ...agg, temperature: null, streamed: false, output_location: 'inline' },
      trace_id: (t + 1).toString(16).padStart(32, '0'), span_id: (t + 1).toString(16).padStart(16, 'a'),
      duration_ms: 3000, cache: 'miss', fanout: 'user_turn', iteration: 0,
    };
    const line = `${JSON.stringify(record)}\n`;
    bytes += Buffer.byteLength(line);
    if (!stream.write(line)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  return { bytes, turns };
}
