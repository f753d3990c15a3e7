/**
 * HTML escaping. Everything from a trace file is hostile input (prompts and
 * outputs are written by users and models), so every interpolated string goes
 * through one of these; attribute values are always double-quoted.
 */
const HTML_SPECIAL = /[&<>"']/g;
const REPLACEMENTS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
// Controls other than tab/newline/CR are not allowed in HTML text.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function escapeHtml(text: string): string {
  return text
    .replace(HTML_SPECIAL, (ch) => REPLACEMENTS[ch] as string)
    .replace(CONTROL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
