/**
 * One MoA turn as a text tree: the references (model, duration, tokens,
 * cost, status, output preview), the aggregator and the turn totals.
 * `full` adds the exact input messages and complete outputs. Used by
 * `moa-otel show` and by `moa-otel demo`.
 */
import type { TurnRecord } from '../record/schema.js';
import {
  COLOR, PLAIN, formatCost, formatDuration, formatEpochSeconds, formatInt, plural, preview, terminalSafe, terminalSafeLines, type Palette,
} from './format.js';
import type { Usage } from '../record/usage.js';
import { messageParts, summarizeTurn, type CallSummary } from './summary.js';

export interface TurnTreeOptions {
  /** Print the exact input messages and the complete outputs. */
  full?: boolean;
  /** ANSI colors (callers decide, usually from `stream.isTTY`). */
  color?: boolean;
}

const PREVIEW_CHARS = 100;

export function renderTurnTree(record: TurnRecord, options: TurnTreeOptions = {}): string {
  const p = options.color ? COLOR : PLAIN;
  const summary = summarizeTurn(record);
  const lines: string[] = [headerLine(record, p)];
  summary.calls.forEach((call, i) => {
    const last = i === summary.calls.length - 1;
    const branch = last ? '└─ ' : '├─ ';
    const indent = last ? '   ' : '│  ';
    lines.push(branch + callLine(call, p));
    for (const detail of callDetails(call, options.full === true, p)) lines.push(indent + detail);
  });
  const failed = summary.referenceFailed > 0 ? p.red(` (${summary.referenceFailed} failed)`) : '';
  lines.push(p.bold('totals') + `  ${plural(summary.referenceCount, 'reference')}${failed} + aggregator · ${tokenText(summary.tokens)} · ${formatCost(summary.cost.toNullableString())}`);
  return `${lines.join('\n')}\n`;
}

function headerLine(record: TurnRecord, p: Palette): string {
  const parts = [p.bold(`turn ${formatEpochSeconds(record.ts)}`), `preset ${terminalSafe(record.preset)}`];
  parts.push(`session ${record.session_id === null ? '(none)' : terminalSafe(record.session_id)}`);
  if (record.iteration !== undefined) parts.push(`iteration ${record.iteration}`);
  if (record.cache) parts.push(`cache ${record.cache}`);
  if (typeof record.duration_ms === 'number') parts.push(formatDuration(record.duration_ms));
  return parts.join(' · ');
}

function callLine(call: CallSummary, p: Palette): string {
  const role = call.role === 'reference' ? `reference ${call.index}` : 'aggregator';
  const status = call.failed ? p.red(`failed: ${preview(call.error ?? 'failed', 80)}`) : p.green('ok');
  return [
    p.cyan(role),
    p.bold(terminalSafe(call.label)),
    ...(call.role === 'aggregator' && call.call.streamed ? ['streamed'] : []),
    formatDuration(call.durationMs),
    call.tokens ? tokenText(call.tokens) : 'tokens –',
    formatCost(call.costUsd) + (call.costStatus && call.costStatus !== 'actual' ? ` (${call.costStatus})` : ''),
    status,
  ].join('  ');
}

function callDetails(call: CallSummary, full: boolean, p: Palette): string[] {
  const out: string[] = [];
  const toolCalls = toolCallsOf(call);
  if (!full) {
    if (!call.failed && typeof call.output === 'string' && call.output !== '') out.push(p.dim(`↳ ${preview(call.output, PREVIEW_CHARS)}`));
    else if (!call.failed && call.role === 'aggregator' && call.call.output_location === 'assistant_message_in_session_db') out.push(p.dim('↳ (streamed answer kept in the session database)'));
    if (toolCalls.length > 0) out.push(p.dim(`↳ tool calls: ${toolCalls.map(toolCallName).map((n) => preview(n, 40)).join(', ')}`));
    return out;
  }
  const messages = call.call.input_messages;
  out.push(p.dim(`input messages (${messages.length}):`));
  messages.forEach((message, i) => {
    for (const line of messageLines(message, i)) out.push(`  ${line}`);
  });
  out.push(p.dim('output:'));
  const text = call.output === null ? '(none)' : terminalSafeLines(call.output);
  for (const line of text.split('\n')) out.push(`  ${line}`);
  if (toolCalls.length > 0) {
    out.push(p.dim('tool calls:'));
    for (const line of terminalSafeLines(JSON.stringify(toolCalls, null, 2)).split('\n')) out.push(`  ${line}`);
  }
  return out;
}

/** A message exactly as sent: string content verbatim, everything else as JSON. */
function messageLines(message: unknown, index: number): string[] {
  const parts = messageParts(message);
  if (!parts) return [`[${index}] (not a message)`, ...terminalSafeLines(JSON.stringify(message, null, 2) ?? 'undefined').split('\n')];
  const lines = [`[${index}] ${parts.role === null ? '(no role)' : terminalSafe(parts.role)}`];
  if (parts.text !== null) lines.push(...terminalSafeLines(parts.text).split('\n').map((l) => `    ${l}`));
  if (parts.rest) lines.push(...terminalSafeLines(JSON.stringify(parts.rest, null, 2)).split('\n').map((l) => `    ${l}`));
  return lines;
}

function toolCallsOf(call: CallSummary): unknown[] {
  return call.role === 'aggregator' && Array.isArray(call.call.tool_calls) ? call.call.tool_calls : [];
}

function toolCallName(call: unknown): string {
  const fn = (call as { function?: { name?: unknown } } | null)?.function;
  return typeof fn?.name === 'string' ? fn.name : '?';
}

function tokenText(t: Usage): string {
  const parts = [`in ${formatInt(t.inputTokens)}`];
  if (t.cacheReadTokens > 0 || t.cacheWriteTokens > 0) parts.push(`cache ${formatInt(t.cacheReadTokens)}r/${formatInt(t.cacheWriteTokens)}w`);
  parts.push(`out ${formatInt(t.outputTokens)}` + (t.reasoningTokens > 0 ? ` (${formatInt(t.reasoningTokens)} reasoning)` : ''));
  return parts.join(' ');
}
