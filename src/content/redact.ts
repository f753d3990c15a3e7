/**
 * Redaction of secrets from content before it reaches a span or a file.
 * Applied to string values and object keys (never to raw JSON text), so it
 * cannot break escaping. Off by default: it costs a pass over every message.
 *
 * A `Redactor` is the policy of one instrumentation, built once from the
 * `redact` setting and immutable afterwards: two instrumentations with
 * different settings never affect each other, and nothing here is
 * module-level state that decides what is masked.
 */
import { createHash } from 'node:crypto';
import { isStringObject } from 'node:util/types';
import { compileLinear, type LinearRegex } from '../base/linear-regex.js';
import { safeStringify, type JsonReplacer } from './safe-json.js';
import { AWS_SECRET_KEY_NAME, AWS_SECRET_KEY_VALUE, BUILTIN_PATTERNS, EMAIL_PATTERN, PHONE_NUMBER_PATTERN, type SecretPattern } from './secret-patterns.js';

export const REDACTED = '[REDACTED]';

/** `redact` as the configuration gives it: off, the built-ins, the built-ins plus these patterns, or the mapping form. */
export type RedactSetting = boolean | readonly RegExp[] | RedactOptions;

export interface RedactOptions {
  /** Mask e-mail addresses (default true). */
  emails?: boolean;
  /** Mask phone numbers written with delimiters (`555-123-4567`, `(555) 123-4567`; default false). */
  phones?: boolean;
  /**
   * Extra patterns, masked whole, on top of the built-in ones. They run on a
   * linear-time engine (RE2): one that needs lookahead or a backreference
   * cannot, and then every text is masked whole (see `refusedPatterns`).
   */
  patterns?: readonly RegExp[];
}

/** A built-in pattern in force, with its hints, kept prefix and check. */
type BuiltinRule = Pick<SecretPattern, 'regex' | 'hints' | 'accept' | 'startBefore'>;
/** A user's pattern, on the linear engine, or the reason it could not be. */
interface UserRule {
  readonly regex: RegExp;
  readonly linear: LinearRegex | undefined;
  readonly refused: string | undefined;
}
type Rule = BuiltinRule | UserRule;

export class Redactor {
  /** Masks nothing. */
  static readonly OFF = new Redactor([], false);

  /** The policy a `redact` setting asks for. */
  static from(setting: RedactSetting | undefined): Redactor {
    if (setting === undefined || setting === false) return Redactor.OFF;
    if (setting === true) return new Redactor(builtinRules(true, false), true);
    if (isPatternList(setting)) return new Redactor([...builtinRules(true, false), ...setting.map(userRule)], true);
    return new Redactor([...builtinRules(setting.emails ?? true, setting.phones ?? false), ...(setting.patterns ?? []).map(userRule)], true);
  }

  /**
   * A policy from a list of patterns: built-in patterns (the same RegExp
   * objects as `BUILTIN_PATTERNS` and `EMAIL_PATTERN` hold) keep their
   * behaviour, any other is masked whole. For the tests and the bench, which
   * measure one pattern at a time.
   */
  static fromPatterns(patterns: readonly RegExp[]): Redactor {
    if (patterns.length === 0) return Redactor.OFF;
    const builtins = [...BUILTIN_PATTERNS, EMAIL_PATTERN, PHONE_NUMBER_PATTERN];
    const rules = patterns.map((regex) => builtins.find((p) => p.regex === regex) ?? userRule(regex));
    return new Redactor(rules, rules.some((r) => builtins.includes(r as SecretPattern)));
  }

  readonly #rules: readonly Rule[];
  /** AWS secrets under a key of that name: only with the built-in patterns. */
  readonly #keyAware: boolean;
  /** A user pattern the linear engine cannot run: every text is masked whole rather than run it on a backtracking engine. */
  readonly #failClosed: boolean;

  private constructor(rules: readonly Rule[], keyAware: boolean) {
    this.#rules = rules;
    this.#keyAware = keyAware;
    this.#failClosed = rules.some((r) => isUserRule(r) && r.refused !== undefined);
  }

  /**
   * The user patterns the linear engine refused, by position among the user
   * patterns, with the reason (never the pattern text: it may spell out a
   * secret). Non-empty means every text is masked whole.
   */
  get refusedPatterns(): readonly { index: number; reason: string }[] {
    return this.#rules.filter(isUserRule).flatMap((r, index) => (r.refused === undefined ? [] : [{ index, reason: r.refused }]));
  }

  /** Whether anything is masked at all (callers skip the work when not). */
  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** The patterns in force (built-in ones first). */
  get patterns(): readonly RegExp[] {
    return this.#rules.map((r) => r.regex);
  }

  /**
   * The text with every secret masked. Fails closed: when a pattern cannot
   * run on the text (a user pattern whose greedy run overflows the regex
   * engine's stack on a text of megabytes), the whole text is masked.
   */
  text(input: string): string {
    if (this.#failClosed) return input === '' ? input : REDACTED;
    let out = input;
    for (const rule of this.#rules) {
      if (isUserRule(rule)) {
        // The automaton's yes/no scan is far cheaper than collecting positions, and most texts hold no match.
        if (rule.linear?.test(out)) out = rule.linear.replaceAll(out, REDACTED);
        continue;
      }
      // A substring check is far cheaper than a scan, and most texts hold no hint at all.
      if (rule.hints && !rule.hints.some((hint) => out.includes(hint))) continue;
      try {
        out = rule.startBefore
          ? maskExtendingLeft(out, rule.regex, rule.startBefore)
          : out.replace(rule.regex, (match: string, ...rest: unknown[]) => mask(rule, match, rest));
      } catch {
        return REDACTED;
      }
    }
    return out;
  }

  /**
   * A `JSON.stringify` replacer that masks string values and object keys (a
   * secret can be a key: a map of tokens to their owners); undefined when the
   * policy masks nothing, so callers can skip it.
   */
  get replacer(): JsonReplacer | undefined {
    return this.active ? this.#replace : undefined;
  }

  /** `value` as JSON with secrets masked; never throws (see `safeStringify`). */
  json(value: unknown): string {
    return safeStringify(value, this.replacer);
  }

  /**
   * The session id to record and to name the file after. An id that holds a
   * secret (an e-mail, a key) is masked, and a short hash of the whole id is
   * appended so two different ids never share a file and one id always gets
   * the same file, in every process. The hash is a pseudonym, not
   * encryption: for an id as guessable as an e-mail address, someone holding
   * the file can confirm a guess.
   */
  sessionId(id: string): string;
  sessionId(id: string | null | undefined): string | null | undefined;
  sessionId(id: string | null | undefined): string | null | undefined {
    if (id == null || id === '' || !this.active) return id;
    const masked = this.text(id);
    if (masked === id) return id;
    return `${masked}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
  }

  readonly #replace: JsonReplacer = (key, value) => {
    // A String object is written as its text, so it is masked as one (from any realm: told by its internal slot).
    if (value !== null && typeof value === 'object' && isStringObject(value)) value = String(value);
    if (typeof value === 'string') {
      if (this.#keyAware && AWS_SECRET_KEY_NAME.test(key) && AWS_SECRET_KEY_VALUE.test(value)) return REDACTED;
      return this.text(value);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return this.#withMaskedKeys(value);
    return value;
  };

  /** The object itself when no key holds a secret (the common case: no copy), else a copy with masked keys. */
  #withMaskedKeys(object: object): object {
    const keys = Object.keys(object);
    let renamed: Map<string, string> | undefined;
    for (const key of keys) {
      const masked = this.text(key);
      if (masked !== key) (renamed ??= new Map()).set(key, masked);
    }
    if (!renamed) return object;
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      let name = renamed.get(key) ?? key;
      // Two secrets mask to the same text; both entries stay.
      for (let n = 2; Object.hasOwn(out, name); n++) name = `${renamed.get(key) ?? key}#${n}`;
      // defineProperty: a key named "__proto__" stays a plain entry.
      Object.defineProperty(out, name, { value: readProperty(object, key), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

function mask(rule: BuiltinRule, match: string, rest: unknown[]): string {
  // A user pattern that can match nothing would otherwise insert a marker between every character.
  if (match === '') return match;
  const groups = rest[rest.length - 1];
  const keep = typeof groups === 'object' && groups !== null ? (groups as { keep?: string }).keep ?? '' : '';
  if (rule.accept && !rule.accept(match.slice(keep.length))) return match;
  return keep + REDACTED;
}

/** Masks from where `startBefore` says each secret starts to the end of its match. */
function maskExtendingLeft(text: string, regex: RegExp, startBefore: NonNullable<BuiltinRule['startBefore']>): string {
  // A copy: exec() moves lastIndex, and the pattern object is shared by every Redactor.
  const scanner = new RegExp(regex.source, regex.flags);
  let out = '';
  let copied = 0;
  for (let match = scanner.exec(text); match !== null; match = scanner.exec(text)) {
    const start = startBefore(text, match.index);
    if (start === undefined || start < copied) continue;
    out += text.slice(copied, start) + REDACTED;
    copied = match.index + match[0].length;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function builtinRules(emails: boolean, phones: boolean): Rule[] {
  return [...BUILTIN_PATTERNS, ...(emails ? [EMAIL_PATTERN] : []), ...(phones ? [PHONE_NUMBER_PATTERN] : [])];
}

/** A user's pattern, masked whole wherever it matches, on the linear engine. */
function userRule(regex: RegExp): UserRule {
  const compiled = compileLinear(regex);
  return compiled.ok ? { regex, linear: compiled.regex, refused: undefined } : { regex, linear: undefined, refused: compiled.reason };
}

function isUserRule(rule: Rule): rule is UserRule {
  return 'linear' in rule;
}

function isPatternList(setting: RedactSetting): setting is readonly RegExp[] {
  return Array.isArray(setting);
}

function readProperty(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (err) {
    return `[getter failed: ${err instanceof Error ? err.message : String(err)}]`;
  }
}
