/** Large, varied conversations for the size tests of the end-to-end tier. */
import type { ChatMessage } from '../../../src/index.js';

/** Varied, partly multi-byte text of about `bytes` UTF-8 bytes, so size handling is not tested on one repeated ASCII letter only. */
export function bulkyText(bytes: number, seed: number): string {
  const words = ['mixture', 'of', 'agents', 'réponse', 'Größe', '模型', 'aggregator', 'advice', '"quoted"', 'back\\slash', '😀'];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const word = words[(i * 7 + seed) % words.length] ?? 'x';
    parts.push(word);
    size += Buffer.byteLength(word) + 1;
  }
  return parts.join(' ');
}

/** System prompt, then about `bytes` of user/assistant turns; the last one as a content-parts array. */
export function bulkyConversation(bytes: number, seed: number): ChatMessage[] {
  return [
    { role: 'system', content: `You advise on turn ${seed}.` },
    { role: 'user', content: bulkyText(bytes / 2, seed) },
    { role: 'assistant', content: bulkyText(bytes / 4, seed + 1) },
    { role: 'user', content: [{ type: 'text', text: bulkyText(bytes / 4, seed + 2) }] },
  ];
}

/** UTF-8 bytes of the calls' messages as JSON: how big a turn is. */
export function messageBytes(calls: ReadonlyArray<{ messages: readonly ChatMessage[] }>): number {
  return calls.reduce((sum, c) => sum + Buffer.byteLength(JSON.stringify(c.messages)), 0);
}
