/**
 * Regular expressions the user writes, run on a linear-time engine (RE2, the
 * pure-JavaScript `re2js` port). V8's engine backtracks: the common e-mail
 * regex or `.*password` takes tens of seconds on a message of 128 KB, and an
 * overlapping alternation like `(a|a)*b` as long on 40 characters. A
 * syntactic check catches some of those shapes, never all; an automaton
 * cannot take more than time linear in the text, whatever the pattern.
 *
 * RE2 has no lookahead and no backreferences (they are what makes matching
 * non-linear): a pattern that uses them is refused with the reason, never run
 * on V8 instead. Lookbehinds are accepted (re2js runs captureless ones in
 * linear time). Small differences from V8 that a redaction pattern will not
 * notice: `\s` is ASCII whitespace, `.` excludes `\n` only.
 *
 * `re2js` is loaded on first use, so a process without user patterns never
 * parses it.
 */
import { createRequire } from 'node:module';

/** The part of re2js used here. */
interface Re2Module {
  RE2JS: {
    LOOKBEHINDS: number;
    translateRegExp(expr: RegExp): string;
    compile(regex: string, flags?: number): Re2Pattern;
  };
}
interface Re2Pattern {
  test(input: string): boolean;
  matcher(input: string): Re2Matcher;
}
interface Re2Matcher {
  find(): boolean;
  start(): number;
  end(): number;
}

let engine: Re2Module | undefined;

function re2(): Re2Module {
  engine ??= createRequire(import.meta.url)('re2js') as Re2Module;
  return engine;
}

/** A user's pattern compiled for the linear engine. */
export interface LinearRegex {
  /** The pattern as written (flags included), for display and fingerprints. */
  readonly source: RegExp;
  /** Whether it matches anywhere in `text` (the engine's fast path: no positions). */
  test(text: string): boolean;
  /** `text` with every non-empty match replaced by `replacement`, left to right, without overlap. */
  replaceAll(text: string, replacement: string): string;
}

/** Why RE2 cannot run `regex`, or a compiled pattern. */
export type LinearCompileResult = { ok: true; regex: LinearRegex } | { ok: false; reason: string };

/** `regex` on the linear engine; never throws. The reason never quotes the pattern (it may spell out a secret). */
export function compileLinear(regex: RegExp): LinearCompileResult {
  let compiled: Re2Pattern;
  try {
    const { RE2JS } = re2();
    compiled = RE2JS.compile(RE2JS.translateRegExp(regex), RE2JS.LOOKBEHINDS);
  } catch (err) {
    return { ok: false, reason: refusalReason(err) };
  }
  return {
    ok: true,
    regex: {
      source: regex,
      test: (text) => compiled.test(text),
      replaceAll: (text, replacement) => replaceMatches(compiled, text, replacement),
    },
  };
}

function replaceMatches(pattern: Re2Pattern, text: string, replacement: string): string {
  const matcher = pattern.matcher(text);
  let out = '';
  let copied = 0;
  while (matcher.find()) {
    const start = matcher.start();
    const end = matcher.end();
    // A pattern that can match nothing would otherwise insert a marker between every character.
    if (end === start) continue;
    out += text.slice(copied, start) + replacement;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The engine's complaint without the pattern text it quotes. */
function refusalReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // "error parsing regexp: invalid or unsupported Perl syntax: `(?=`": keep the kind, and only a short quoted fragment.
  const match = /error parsing regexp: ([^:`]+)(?::\s*`([^`]{0,8})`)?/.exec(message);
  if (!match) return 'the linear-time engine (RE2) cannot run it';
  const fragment = match[2] !== undefined && /^(?:\(\?[=!<]|\\\d|\\[a-zA-Z])/.test(match[2]) ? ` \`${match[2]}\`` : '';
  const hint = /Perl syntax|escape/.test(match[1] ?? '') ? ' (RE2 runs in linear time, so it has no lookahead and no backreferences)' : '';
  return `${(match[1] ?? '').trim()}${fragment}${hint}`;
}
