/**
 * Who may talk to the gateway. Every answered request can spend money on the
 * configured providers, so:
 *
 * - without a token it listens on loopback only, and answers only requests
 *   addressed to a loopback host name (a web page that rebinds its own DNS
 *   name to 127.0.0.1 still sends its own name in `Host`);
 * - listening anywhere else needs a bearer token, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Shorter tokens are refused: they could be guessed from the network. */
const MIN_TOKEN_LENGTH = 16;

/** `localhost`, 127.0.0.0/8 and ::1 (also IPv4-mapped). */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost') return true;
  const v4 = name.startsWith('::ffff:') ? name.slice('::ffff:'.length) : name;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(name) === 6 && /^(?:0{0,4}:){2,7}0{0,3}1$/.test(name);
}

/** Why the gateway must not listen on `host` with this token, or undefined when it may. */
export function bindRefusal(host: string, token: string | undefined): string | undefined {
  // A bearer token is one word: one that is blank or holds a space could never be sent back as `Bearer <token>`,
  // and sixteen spaces are no secret.
  if (token !== undefined && /[\s\x00-\x1f\x7f]/.test(token)) {
    return `the gateway token ${token.trim() === '' ? 'is blank' : 'holds whitespace or control characters'}: use one word of printable characters, e.g. from \`openssl rand -hex 24\``;
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    return `the gateway token is too short (${token.length} characters; at least ${MIN_TOKEN_LENGTH}, e.g. from \`openssl rand -hex 24\`)`;
  }
  if (token === undefined && !isLoopbackHost(host)) {
    return `refusing to listen on ${host} without a token: anyone who reaches it could spend your provider credits (set MOA_GATEWAY_TOKEN, or listen on 127.0.0.1)`;
  }
  return undefined;
}

/** Does `Authorization: Bearer <token>` carry exactly this token? Constant time in the token's content. */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  // Hashing first gives both sides one length, so the comparison leaks neither length nor content.
  const given = createHash('sha256').update(match?.[1] ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

/** The host name of a `Host` header (`[::1]:8788` → `[::1]`, `localhost:8788` → `localhost`). */
export function hostHeaderName(hostHeader: string): string {
  const bracketed = /^(\[[^\]]*\])(?::\d*)?$/.exec(hostHeader);
  if (bracketed) return bracketed[1] as string;
  return hostHeader.replace(/:\d*$/, '');
}
