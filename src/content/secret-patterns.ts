/**
 * The built-in secret shapes that `redact: true` masks. The "Redaction"
 * section of docs/security.md lists them; keep the two in step.
 *
 * Every pattern runs in time linear in the text, whatever the text (a
 * redaction pass runs on every message of every turn, so one slow pattern
 * stalls the agent), and never throws. The rules that keep them so:
 * - every repetition that can fail after it has run is bounded (`{0,40}`,
 *   `{1,256}`) or ends where the next token cannot start, so a failed attempt
 *   costs a constant or only the run it stands on;
 * - an unbounded run is lazy and ends at a lookahead (`x{20}x*?(?!x)`), not
 *   greedy (`x{20,}`): the engine keeps a backtrack entry per character of
 *   a greedy run, and a run of a few million characters overflows its stack
 *   (RangeError) where the lazy form needs none;
 * - patterns that would otherwise start at every character of a long run
 *   start only at its first character (a negative lookbehind), so a run is
 *   scanned once, not once per starting point;
 * - no lazy "anything" up to a terminator: a private key's body is matched
 *   as base64 lines, so a BEGIN without an END costs its own lines only
 *   (a lazy `[\s\S]*?` searched the rest of the text for END from every
 *   BEGIN: quadratic).
 * test/content/redaction-linear.test.ts checks each one on adversarial text.
 *
 * A named group `keep` is a prefix that stays (`Bearer `, `user:` of a URL),
 * so the masked text still says what was there.
 *
 * Vendor keys start where no letter or digit stands before them
 * (`(?<![A-Za-z0-9])`), not at a word boundary: a key glued to a word by an
 * underscore (`OPENAI_KEY_sk-proj-…`, `token_ghp_…`) is still found.
 */

export interface SecretPattern {
  /** Short name, used by tests and the bench. */
  readonly name: string;
  /** What it masks, in README's words. */
  readonly covers: string;
  /** Global. */
  readonly regex: RegExp;
  /** The pattern can only match a text holding one of these: a fast substring check skips the scan. */
  readonly hints?: readonly string[];
  /** The candidate (without its `keep` prefix) is masked only when this agrees. */
  readonly accept?: (secret: string) => boolean;
  /**
   * For a pattern that matches from a distinctive character inside the
   * secret (the "@" of an address), so the engine can find candidates by a
   * fast scan for it instead of trying every position: where the secret
   * really starts, left of the match, or undefined when there is none.
   */
  readonly startBefore?: (text: string, matchIndex: number) => number | undefined;
}

/** `user:password` in base64, as HTTP Basic credentials are; decodes to printable text holding a colon. */
function isBasicCredentials(candidate: string): boolean {
  // Padded base64 comes in whole quads: most words after "Basic" fail here, before any decoding.
  if (candidate.length % 4 !== 0) return false;
  const bytes = Buffer.from(candidate, 'base64');
  // Not base64 at all when re-encoding does not give the candidate back.
  if (bytes.toString('base64').replace(/=+$/, '') !== candidate.replace(/=+$/, '')) return false;
  const text = bytes.toString('utf8');
  return text.includes(':') && !/[\u0000-\u001f\u007f\ufffd]/.test(text);
}

const AUTHORIZATION_BASIC: SecretPattern = {
  name: 'authorization-basic',
  covers: 'the credentials of an `Authorization: Basic …` header, any case, also written `"Authorization": "Basic …"` or `authorization=Basic …` (the header name stays)',
  regex: /(?<keep>\bAuthorization\\?["']?\s{0,4}[:=]\s{0,4}\\?["']?\s{0,4}Basic\s{1,4})[A-Za-z0-9+/]+?(?![A-Za-z0-9+/])={0,2}/gi,
  hints: ['uthorization', 'UTHORIZATION'],
};

const AUTHORIZATION_TOKEN: SecretPattern = {
  name: 'authorization-token',
  covers: 'the credentials of an `Authorization: token …` header (GitHub\'s form), any case and quoting as for Basic (the header name and `token` stay)',
  regex: /(?<keep>\bAuthorization\\?["']?\s{0,4}[:=]\s{0,4}\\?["']?\s{0,4}token\s{1,4})[A-Za-z0-9._~+/=-]{8}[A-Za-z0-9._~+/=-]*?(?![A-Za-z0-9._~+/=-])/gi,
  hints: ['uthorization', 'UTHORIZATION'],
};

export const BUILTIN_PATTERNS: readonly SecretPattern[] = [
  {
    name: 'private-key',
    covers: 'PEM private keys (`-----BEGIN … PRIVATE KEY-----` with its base64 body and END line, also with `\\n` escapes as in JSON key files) and PGP private key blocks (`-----BEGIN PGP PRIVATE KEY BLOCK-----` with its headers, body, checksum and END line); a BEGIN without an END masks what follows it up to the first character that is neither base64 nor whitespace',
    regex: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:(?:\r?\n|\\r?\\n)[A-Za-z][A-Za-z0-9-]{0,40}:[^\r\n\\]{0,300}){0,8}[A-Za-z0-9+/=\s\\]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|(?![A-Za-z0-9+/=\s\\]))/g,
    hints: ['PRIVATE KEY'],
  },
  AUTHORIZATION_BASIC,
  AUTHORIZATION_TOKEN,
  {
    name: 'basic-credentials',
    covers: '`Basic <base64>` anywhere when the base64 (padded, 8 characters or more) decodes to `user:password`',
    regex: /(?<keep>\b[Bb]asic\s{1,4})[A-Za-z0-9+/]{6}[A-Za-z0-9+/]*?(?![A-Za-z0-9+/])={0,2}(?![A-Za-z0-9+/=])/g,
    hints: ['asic'],
    accept: isBasicCredentials,
  },
  {
    name: 'bearer-token',
    covers: '`Bearer <token>` with a token of 20 or more characters (the word `Bearer` stays)',
    regex: /(?<keep>\b[Bb]earer\s{1,16})[A-Za-z0-9._~+/-]{20}[A-Za-z0-9._~+/-]*?(?![A-Za-z0-9._~+/-])={0,4}/g,
    hints: ['earer'],
  },
  {
    name: 'url-password',
    covers: 'the password of a URL with credentials (`scheme://user:password@host`; the user name stays)',
    // Starts at "://" (the scheme stays outside the match), so the engine scans for that literal instead of trying every position.
    regex: /(?<keep>:\/\/(?<=[A-Za-z0-9+.-]:\/\/)[^\s:@/?#"'<>\\`]{0,256}:)[^\s@/?#"'<>\\`]{1,256}(?=@)/g,
    hints: ['://'],
  },
  {
    name: 'aws-secret-access-key',
    covers: 'AWS secret access keys (40 characters) after their name: `aws_secret_access_key`, `AWS_SECRET_ACCESS_KEY`, `SecretAccessKey`, `secretAccessKey`, `--aws-secret-access-key`, with `=`, `:` or spaces between, quoted or not; and as the value of an object key so named',
    regex: /(?<keep>secret[_-]?access[_-]?key\\?["']?\s{0,4}[:=]?\s{0,4}\\?["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/gi,
    hints: ['ecret', 'ECRET'],
  },
  {
    name: 'openai-anthropic-openrouter-key',
    covers: 'OpenAI, Anthropic and OpenRouter keys (`sk-…`, `sk-proj-…`, `sk-ant-…`, `sk-or-…`, 20+ characters after the prefix), also glued to a word by `_` or `-` (`MY_KEY_sk-proj-…`)',
    regex: /(?<![A-Za-z0-9])sk-(?:proj-|ant-|or-)?[A-Za-z0-9_-]{20}[A-Za-z0-9_-]*?(?![A-Za-z0-9_-])/g,
    hints: ['sk-'],
  },
  {
    name: 'github-token',
    covers: 'GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and `github_pat_`, each with 30+ characters after the prefix), also glued to a word',
    regex: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30}[A-Za-z0-9]*?\b|github_pat_[A-Za-z0-9_]{30}[A-Za-z0-9_]*?(?![A-Za-z0-9_]))/g,
    hints: ['gh', 'github_pat_'],
  },
  {
    name: 'slack-token',
    covers: 'Slack tokens (`xoxa-`, `xoxb-`, `xoxp-`, `xoxo-`, `xoxs-`, `xoxr-` with 10+ characters after the prefix), also glued to a word',
    regex: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10}[A-Za-z0-9-]*?(?![A-Za-z0-9-])/g,
    hints: ['xox'],
  },
  {
    name: 'google-api-key',
    covers: 'Google API keys (`AIza` + 35 characters), also glued to a word',
    regex: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
    hints: ['AIza'],
  },
  {
    name: 'aws-access-key-id',
    covers: 'AWS access key ids (`AKIA…`, and `ASIA…` of temporary credentials), also glued to a word',
    regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])/g,
    hints: ['AKIA', 'ASIA'],
  },
  {
    name: 'stripe-key',
    covers: 'Stripe secret and restricted keys (`sk_live_…`, `rk_live_…`, and their `_test_` forms, 16+ characters after the prefix), also glued to a word',
    regex: /(?<![A-Za-z0-9])[sr]k_(?:live|test)_[A-Za-z0-9]{16}[A-Za-z0-9]*?(?![A-Za-z0-9])/g,
    hints: ['k_live_', 'k_test_'],
  },
  {
    name: 'jwt',
    covers: 'JSON Web Tokens (`eyJ….eyJ….<signature>`: a JSON header and payload in base64url, the signature possibly empty)',
    // Starts only where no base64url character stands before it, so a long run is scanned once, not once per "eyJ" in it.
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4}[A-Za-z0-9_-]*?\.eyJ[A-Za-z0-9_-]{4}[A-Za-z0-9_-]*?\.[A-Za-z0-9_-]*?(?![A-Za-z0-9_-])/g,
    hints: ['eyJ'],
  },
  {
    name: 'slack-webhook',
    covers: 'Slack webhook URLs (`https://hooks.slack.com/services/…`, also `/workflows/` and `/triggers/`; the host and kind stay)',
    regex: /(?<keep>hooks\.slack\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9_-]{4}[A-Za-z0-9/_-]*?(?![A-Za-z0-9/_-])/g,
    hints: ['hooks.slack.com/'],
  },
];

export const EMAIL_PATTERN: SecretPattern = {
  name: 'email-address',
  covers: 'e-mail addresses (`local@domain.tld`: a local part of 1 to 64 characters, a domain with a dot and a top-level name of letters; not the user of a URL `https://git@host/…` nor an SSH remote `git@host:org/repo`); on with `redact: true`, off with `redact: { emails: false }`',
  // From the "@" (found by a fast scan for that character); `startBefore` adds the local part.
  regex: /@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,63}(?![A-Za-z0-9-]|:[A-Za-z0-9_~/])/g,
  hints: ['@'],
  startBefore: emailLocalPartStart,
};

export const PHONE_NUMBER_PATTERN: SecretPattern = {
  name: 'phone-number',
  covers: 'phone numbers written with delimiters (`555-123-4567`, `555.123.4567`, `(555) 123-4567`, with an optional `+1 `), so line numbers, dates, versions and IDs stay; on with `redact: { phones: true }` and with `privacy_filter`',
  // Every part has a fixed length, so an attempt costs a constant at each position.
  regex: /(?<![\w.+-])(?:\+?1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w-])/g,
};

/** An e-mail address's local part: 1 to 64 of these characters. */
function isLocalPartChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39)
    || code === 0x2e || code === 0x5f || code === 0x25 || code === 0x2b || code === 0x2d; // . _ % + -
}

/** Where the address whose "@" is at `at` starts, or undefined: no local part, one over 64 characters, or the user of a URL (`//git@host`). */
function emailLocalPartStart(text: string, at: number): number | undefined {
  let start = at;
  while (start > 0 && at - start <= 64 && isLocalPartChar(text.charCodeAt(start - 1))) start--;
  if (start === at || at - start > 64) return undefined;
  if (start >= 2 && text.startsWith('//', start - 2)) return undefined;
  return start;
}

/** An object key naming an AWS secret access key, and the value it holds: masked whole, as a JSON walk sees them apart. */
export const AWS_SECRET_KEY_NAME = /secret[_-]?access[_-]?key$/i;
export const AWS_SECRET_KEY_VALUE = /^[A-Za-z0-9/+]{40}$/;
