/**
 * HTML escaping. Everything from a trace file is hostile input (prompts and
 * outputs are written by users and models), so every interpolated string goes
 * through one of these; attribute values are always double-quoted.
 */
const REPLACEMENTS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
// The HTML specials, and the controls other than tab/newline/CR (not allowed in HTML text), in one pass.
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const NEEDS_ESCAPE_TEST = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function escapeHtml(text: string): string {
  // Most strings of a report (message texts) have nothing to escape: one scan, no copy.
  if (!NEEDS_ESCAPE_TEST.test(text)) return text;
  return text.replace(NEEDS_ESCAPE, escapeChar);
}

function escapeChar(ch: string): string {
  return REPLACEMENTS[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
