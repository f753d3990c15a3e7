/**
 * The advisory view: what a reference (advisor) model sees of the
 * conversation. Advisors get no tools, so the view is plain alternating
 * user/assistant text: tool calls become one line each on the assistant turn
 * that made them, tool results are attached to that same turn as marked,
 * size-limited previews. System prompts belong to the acting model and are
 * left out; advisors get a system prompt of their own.
 */
import type { ChatMessage } from '../trace/types.js';

const DEFAULT_TOOL_RESULT_BUDGET = 4000;

export const ADVISOR_SYSTEM_PROMPT = [
  'You are an advisor to another AI model, the acting assistant, which is in a conversation with a user.',
  'The acting assistant can use tools; you cannot. You see the conversation as text: lines starting with',
  '"[tool call]" show tools the assistant invoked, and "[tool result]" blocks show (possibly shortened) outputs.',
  'Your notes go only to the acting assistant, never to the user. Tell it what it should do next:',
  'the answer or next step you judge best, facts or pitfalls it may have missed, and any mistake you see so far.',
  'Be concrete and brief. If you are unsure, say so instead of guessing.',
].join(' ');

/** Appended when the view would end on an assistant turn, so the advisor is asked something. */
export const ADVICE_REQUEST = 'What should the assistant do next? Give your advice for its next step.';

export interface AdvisoryViewOptions {
  /** Characters of one tool result kept before it is cut in the middle. */
  toolResultBudget?: number;
}

export interface AdvisoryMessage {
  role: 'user' | 'assistant';
  content: string;
  [extra: string]: unknown;
}

/** Builds the advisory view; never mutates the input. Always ends on a user turn. */
export function buildAdvisoryView(messages: readonly ChatMessage[], options: AdvisoryViewOptions = {}): AdvisoryMessage[] {
  const budget = options.toolResultBudget ?? DEFAULT_TOOL_RESULT_BUDGET;
  const view: AdvisoryMessage[] = [];
  // Tool names by call id, so a tool result can say which tool produced it.
  const toolNames = new Map<string, string>();

  const push = (role: AdvisoryMessage['role'], text: string) => {
    if (text.trim() === '') return;
    const last = view[view.length - 1];
    // Merge consecutive turns of one role: several providers require alternation.
    if (last && last.role === role) last.content = `${last.content}\n\n${text}`;
    else view.push({ role, content: text });
  };

  for (const message of messages) {
    switch (message.role) {
      case 'user':
        push('user', contentToText(message.content));
        break;
      case 'assistant': {
        const lines: string[] = [];
        const text = contentToText(message.content);
        if (text.trim() !== '') lines.push(text);
        for (const call of toolCallsOf(message)) {
          if (call.id) toolNames.set(call.id, call.name);
          // Arguments are what the assistant decided: kept whole. Only tool results get the budget.
          lines.push(`[tool call] ${call.name}(${call.arguments})`);
        }
        push('assistant', lines.join('\n'));
        break;
      }
      case 'tool':
      case 'function': {
        const id = typeof message.tool_call_id === 'string' ? message.tool_call_id : undefined;
        const name = (id && toolNames.get(id)) ?? (typeof message.name === 'string' ? message.name : 'tool');
        const body = cutMiddle(contentToText(message.content), budget);
        // Attached to the assistant turn that made the call: the advisor reads it as that turn's outcome.
        push('assistant', `[tool result] ${name}${id ? ` (${id})` : ''}:\n${body}\n[end of tool result]`);
        break;
      }
      default:
        // system and developer messages instruct the acting model, not the advisors.
        break;
    }
  }
  if (view.length === 0 || view[view.length - 1]?.role !== 'user') push('user', ADVICE_REQUEST);
  return view;
}

/** The exact request messages sent to one reference. */
export function referenceMessages(view: readonly AdvisoryMessage[]): ChatMessage[] {
  return [{ role: 'system', content: ADVISOR_SYSTEM_PROMPT }, ...view.map((m) => ({ ...m }))];
}

/** Keeps the start and the end of a long text and says how much was left out in between. */
export function cutMiddle(text: string, budget: number): string {
  if (text.length <= budget) return text;
  const head = Math.ceil(budget / 2);
  const tail = Math.floor(budget / 2);
  const omitted = text.length - head - tail;
  return `${text.slice(0, head)}\n[… ${omitted} of ${text.length} characters omitted …]\n${text.slice(text.length - tail)}`;
}

/** Message content as text: strings as they are, part arrays flattened, non-text parts as placeholders. */
function contentToText(content: unknown): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content) ?? '';
  const pieces: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') { pieces.push(part); continue; }
    if (typeof part !== 'object' || part === null) continue;
    const p = part as Record<string, unknown>;
    if (typeof p.text === 'string' && (p.type === 'text' || p.type === undefined || p.type === 'input_text' || p.type === 'output_text')) {
      pieces.push(p.text);
    } else if (p.type === 'refusal' && typeof p.refusal === 'string') {
      pieces.push(`[refusal] ${p.refusal}`);
    } else {
      pieces.push(placeholderFor(p.type));
    }
  }
  return pieces.join('\n');
}

function placeholderFor(type: unknown): string {
  switch (type) {
    case 'image_url':
    case 'image':
    case 'input_image':
      return '[image]';
    case 'input_audio':
    case 'audio':
      return '[audio]';
    case 'file':
    case 'input_file':
      return '[file]';
    default:
      return typeof type === 'string' && type !== '' ? `[${type}]` : '[attachment]';
  }
}

interface PlainToolCall { id?: string; name: string; arguments: string }

function toolCallsOf(message: ChatMessage): PlainToolCall[] {
  const out: PlainToolCall[] = [];
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  for (const call of calls) {
    if (typeof call !== 'object' || call === null) continue;
    const c = call as Record<string, unknown>;
    const fn = (c.function ?? c.custom) as Record<string, unknown> | undefined;
    const name = typeof fn?.name === 'string' ? fn.name : 'unknown_tool';
    const args = fn?.arguments ?? fn?.input ?? '';
    out.push({
      ...(typeof c.id === 'string' ? { id: c.id } : {}),
      name,
      arguments: typeof args === 'string' ? args : JSON.stringify(args) ?? '',
    });
  }
  // Legacy single function_call.
  const legacy = message.function_call as Record<string, unknown> | undefined;
  if (legacy && typeof legacy.name === 'string') {
    out.push({ name: legacy.name, arguments: typeof legacy.arguments === 'string' ? legacy.arguments : '' });
  }
  return out;
}
