/**
 * Which session a request belongs to. The session names the trace file and
 * scopes the reference cache, so successive requests of one chat must agree:
 *
 * 1. the `x-moa-session-id` header;
 * 2. `metadata.session_id` in the body;
 * 3. the body's `user`;
 * 4. otherwise an id derived from the start of the conversation (system
 *    messages up to the first user message), which every later request of
 *    the same chat repeats unchanged, while tool iterations and new user turns
 *    only append. Two chats that open with the very same words share it; a
 *    client that can tell its chats apart should send the header.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SESSION_HEADER } from '../client/request-options.js';

// The header the MoA client itself reads a session from: one name for both doors.
export { SESSION_HEADER };

export type SessionSource = 'header' | 'metadata' | 'user' | 'conversation';

export interface RequestSession {
  sessionId: string;
  source: SessionSource;
}

export function requestSession(headers: IncomingHttpHeaders, body: { user?: unknown; metadata?: unknown; messages: readonly unknown[] }): RequestSession {
  const header = nonEmpty(headers[SESSION_HEADER]);
  if (header !== undefined) return { sessionId: header, source: 'header' };
  const metadata = body.metadata !== null && typeof body.metadata === 'object' ? (body.metadata as Record<string, unknown>) : undefined;
  const fromMetadata = nonEmpty(metadata?.session_id);
  if (fromMetadata !== undefined) return { sessionId: fromMetadata, source: 'metadata' };
  const user = nonEmpty(body.user);
  if (user !== undefined) return { sessionId: user, source: 'user' };
  return { sessionId: conversationSessionId(body.messages), source: 'conversation' };
}

/** `chat-` and 16 hex digits of a hash of the conversation's opening messages. */
export function conversationSessionId(messages: readonly unknown[]): string {
  const opening: [string, string][] = [];
  for (const message of messages) {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    opening.push([String(role), contentText(content)]);
    if (role === 'user') break;
  }
  return `chat-${createHash('sha256').update(JSON.stringify(opening)).digest('hex').slice(0, 16)}`;
}

/**
 * Frameworks send the same text as a string on one request and as text parts
 * on another; both read the same here, so the id does not change with them.
 */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content ?? null);
  return content.map((part: unknown) => {
    const { type, text } = (part ?? {}) as { type?: unknown; text?: unknown };
    return type === 'text' && typeof text === 'string' ? text : JSON.stringify(part);
  }).join('');
}

function nonEmpty(value: unknown): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.trim() !== '' ? text : undefined;
}
