/**
 * One MoA turn as a text tree: the references (model, duration, tokens,
 * cost, status, output preview), the aggregator and the turn totals.
 * `full` adds the exact input messages and complete outputs. Used by
 * `moa-otel show` and by `moa-otel demo`.
 */
import type { TurnRecord } from '../export/record.js';
import {
  COLOR, PLAIN, formatCost, formatDuration, formatEpochSeconds, formatInt, preview, terminalSafe, type Palette,
} from './format.js';
import { summarizeTurn, type CallSummary, type TokenCounts } from './summary.js';

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
  lines.push(p.bold('totals') + `  ${plural(summary.referenceCount, 'reference')}${failed} + aggregator · ${tokenText(summary.tokens)} · ${formatCost(summary.costUsd)}`);
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
  const role = call.role === 'reference' ? `reference ${call.index ?? ''}`.trimEnd() : 'aggregator';
  const status = call.failed ? p.red(`failed: ${preview(call.error ?? 'failed', 80)}`) : p.green('ok');
  const extras: string[] = [];
  const agg = call.role === 'aggregator' ? (call.call as { streamed?: unknown }) : undefined;
  if (agg?.streamed === true) extras.push('streamed');
  return [
    p.cyan(role),
    p.bold(terminalSafe(call.label)),
    ...extras,
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
    else if (!call.failed && call.call.output_location === 'assistant_message_in_session_db') out.push(p.dim('↳ (streamed answer kept in the session database)'));
    if (toolCalls.length > 0) out.push(p.dim(`↳ tool calls: ${toolCalls.map(toolCallName).map((n) => preview(n, 40)).join(', ')}`));
    return out;
  }
  const messages = call.call.input_messages;
  out.push(p.dim(`input messages (${messages.length}):`));
  messages.forEach((message, i) => {
    for (const line of messageLines(message, i)) out.push(`  ${line}`);
  });
  out.push(p.dim('output:'));
  const text = call.output === null ? '(none)' : terminalSafe(call.output);
  for (const line of text.split('\n')) out.push(`  ${line}`);
  if (toolCalls.length > 0) {
    out.push(p.dim('tool calls:'));
    for (const line of terminalSafe(JSON.stringify(toolCalls, null, 2)).split('\n')) out.push(`  ${line}`);
  }
  return out;
}

/** A message exactly as sent: string content verbatim, everything else as JSON. */
function messageLines(message: unknown, index: number): string[] {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return [`[${index}] (not a message)`, ...terminalSafe(JSON.stringify(message, null, 2) ?? 'undefined').split('\n')];
  }
  const m = message as Record<string, unknown>;
  const lines = [`[${index}] ${typeof m.role === 'string' ? terminalSafe(m.role) : '(no role)'}`];
  if (typeof m.content === 'string') lines.push(...terminalSafe(m.content).split('\n').map((l) => `    ${l}`));
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(m)) {
    if (key === 'role' || (key === 'content' && typeof m.content === 'string')) continue;
    rest[key] = m[key];
  }
  if (Object.keys(rest).length > 0) {
    lines.push(...terminalSafe(JSON.stringify(rest, null, 2)).split('\n').map((l) => `    ${l}`));
  }
  return lines;
}

function toolCallsOf(call: CallSummary): unknown[] {
  const calls = (call.call as { tool_calls?: unknown }).tool_calls;
  return Array.isArray(calls) ? calls : [];
}

function toolCallName(call: unknown): string {
  const fn = (call as { function?: { name?: unknown } } | null)?.function;
  return typeof fn?.name === 'string' ? fn.name : '?';
}

export function tokenText(t: TokenCounts): string {
  const parts = [`in ${formatInt(t.input)}`];
  if (t.cacheRead > 0 || t.cacheWrite > 0) parts.push(`cache ${formatInt(t.cacheRead)}r/${formatInt(t.cacheWrite)}w`);
  parts.push(`out ${formatInt(t.output)}` + (t.reasoning > 0 ? ` (${formatInt(t.reasoning)} reasoning)` : ''));
  return parts.join(' ');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
