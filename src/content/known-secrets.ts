/**
 * Masks known secret values — the API keys a configuration holds — wherever
 * they appear in a text or a thrown error. Providers echo the key they were
 * sent (`Incorrect API key provided: sk-…`, or the whole Authorization
 * header), and the `openai` package copies that body into the error's
 * message, stack, `error`, `code`, `param` and `type`; an error may also
 * carry a `cause` chain. Unlike the pattern-based `Redactor`, this knows the
 * exact values, so it masks any key shape, always (not only with `redact`).
 */
import { REDACTED } from './redact.js';

/** Shorter values are not masked: they would mangle ordinary words and are no real credential. */
const MIN_SECRET_LENGTH = 8;

const MAX_DEPTH = 16;

export class KnownSecrets {
  /** Longest first, so a key that contains another is masked whole. */
  readonly #secrets: readonly string[];

  constructor(secrets: Iterable<string | null | undefined>) {
    const unique = new Set<string>();
    for (const secret of secrets) if (typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH) unique.add(secret);
    this.#secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#secrets.length;
  }

  has(secret: string): boolean {
    return this.#secrets.includes(secret);
  }

  /** These secrets and `more`. */
  with(...more: string[]): KnownSecrets {
    return new KnownSecrets([...this.#secrets, ...more]);
  }

  /** The text with every known secret masked. */
  text(input: string): string {
    let out = input;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /**
   * The thrown value with every known secret masked. An object is masked in
   * place and returned — the same object, of the same class, so a caller's
   * `instanceof OpenAI.AuthenticationError` and `err.status` still work, and
   * whoever else holds it (a rethrow, a span) holds the masked one. When the
   * object refuses a change (frozen, read-only), a plain `Error` with the
   * masked message, name and status is returned instead. Never throws.
   */
  error(thrown: unknown): unknown {
    if (this.#secrets.length === 0) return thrown;
    if (typeof thrown === 'string') return this.text(thrown);
    if (thrown === null || typeof thrown !== 'object') return thrown;
    const walk = { seen: new WeakSet<object>(), refused: false };
    this.#maskObject(thrown, walk, 0);
    return walk.refused ? this.#maskedCopy(thrown) : thrown;
  }

  #maskValue(value: unknown, walk: Walk, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value !== null && typeof value === 'object') {
      // Response headers are immutable: a masked copy replaces them.
      if (value instanceof Headers) return this.#maskedHeaders(value);
      this.#maskObject(value, walk, depth + 1);
    }
    return value;
  }

  /** Every own property (non-enumerable ones too: `message`, `stack`, `cause`), at any depth. */
  #maskObject(object: object, walk: Walk, depth: number): void {
    if (depth > MAX_DEPTH || walk.seen.has(object)) return;
    walk.seen.add(object);
    let keys: string[];
    try {
      keys = Object.getOwnPropertyNames(object);
    } catch {
      walk.refused = true; // a revoked proxy: nothing can be read, so nothing can be vouched for
      return;
    }
    for (const key of keys) {
      let before: unknown;
      try {
        before = (object as Record<string, unknown>)[key];
      } catch {
        continue; // a getter that throws shows nothing
      }
      const after = this.#maskValue(before, walk, depth);
      if (after === before) continue;
      try {
        (object as Record<string, unknown>)[key] = after;
        if ((object as Record<string, unknown>)[key] !== after) walk.refused = true;
      } catch {
        walk.refused = true; // read-only or frozen
      }
    }
  }

  #maskedHeaders(headers: Headers): Headers {
    let changed = false;
    const entries: Array<[string, string]> = [];
    for (const [name, value] of headers) {
      const masked = this.text(value);
      changed ||= masked !== value;
      entries.push([name, masked]);
    }
    return changed ? new Headers(entries) : headers;
  }

  #maskedCopy(thrown: object): Error {
    const read = (key: string): unknown => {
      try {
        return (thrown as Record<string, unknown>)[key];
      } catch {
        return undefined;
      }
    };
    const message = read('message');
    const copy = new Error(this.text(typeof message === 'string' ? message : 'unprintable error'));
    const name = read('name');
    if (typeof name === 'string') copy.name = name;
    const status = read('status');
    if (status !== undefined) Object.assign(copy, { status });
    return copy;
  }
}

interface Walk {
  seen: WeakSet<object>;
  /** Some property could not be masked in place. */
  refused: boolean;
}
