/**
 * The judge's verdicts on disk, one small file per (turn, judge model,
 * prompt version), in an owner-only directory: a rerun over the same turns
 * makes no calls. The key hashes the turn's identity and the texts the judge
 * saw, so an edited record is judged again. Written to a temporary name and
 * renamed, so a crash never leaves half a verdict; an unreadable entry is a
 * miss.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JUDGE_PROMPT_VERSION } from './judge-prompt.js';

/** What the judge said about one turn. `used` indexes the record's references. */
export type CachedVerdict = { status: 'judged'; used: number[] } | { status: 'garbage' };

/** Files end in `.judge` so no trace reader takes them for trace data. */
const SUFFIX = '.judge';

export function verdictKey(turnIdentity: string, texts: readonly string[], judgeModel: string): string {
  const hash = createHash('sha256');
  for (const part of [String(JUDGE_PROMPT_VERSION), judgeModel, turnIdentity, ...texts]) hash.update(part).update('\u0000');
  return hash.digest('hex');
}

export class JudgeCache {
  #ready: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  async get(key: string): Promise<CachedVerdict | null> {
    let text: string;
    try {
      text = await readFile(this.file(key), 'utf8');
    } catch {
      return null;
    }
    try {
      const value = JSON.parse(text) as { status?: unknown; used?: unknown };
      if (value.status === 'garbage') return { status: 'garbage' };
      if (value.status === 'judged' && Array.isArray(value.used) && value.used.every((n) => Number.isInteger(n) && n >= 0)) {
        return { status: 'judged', used: value.used as number[] };
      }
    } catch {
      // a damaged entry is judged again
    }
    return null;
  }

  async put(key: string, verdict: CachedVerdict): Promise<void> {
    await (this.#ready ??= this.prepare());
    const file = this.file(key);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(verdict)}\n`, { mode: 0o600 });
    await rename(temporary, file);
  }

  private async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // An existing directory keeps its mode through mkdir; the cache holds judgements of private traces.
    await chmod(this.dir, 0o700);
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}${SUFFIX}`);
  }
}
