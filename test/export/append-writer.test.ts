import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync, chmodSync, chownSync, closeSync, constants, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync,
  openSync, readdirSync, readFileSync, readlinkSync, readSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppendWriter, type WriterStats } from '../../src/export/append-writer.js';
import { readTurnRecords, type RecordProblem } from '../../src/offline/reader.js';
import { oursLine } from '../offline/fixtures.js';
import { bundleFixture, type BundledFixture } from '../fixtures/bundle.js';
import { waitUntil } from '../helpers/wait-until.js';

// The tests run as root (the container's user); "someone else" is nobody.
const OTHER_UID = 65534;
const THIRD_UID = 65533;

interface ChildOutcome {
  timedOut: boolean;
  code: number | null;
  report?: { results: boolean[]; stats: WriterStats; messages: string[] };
  stderr: string;
}

interface ChildOptions {
  uid?: number;
  /** RLIMIT_FSIZE soft limit in bytes (hard limit unlimited, so the child can lift it). */
  fileSizeLimit?: number;
  timeoutMs?: number;
}

let appendOnce: BundledFixture;

/** Runs test/fixtures/append-once.ts in a child process; a child that hangs is killed and reported as timed out. */
function runAppendOnce(file: string, steps: string[], options: ChildOptions = {}): Promise<ChildOutcome> {
  const node = [process.execPath, appendOnce.file, file, ...steps];
  const asUser = options.uid === undefined ? [] : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups'];
  const limited = options.fileSizeLimit === undefined ? [] : ['prlimit', `--fsize=${options.fileSizeLimit}:unlimited`];
  const [command, ...args] = [...limited, ...asUser, ...node] as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: tmpdir() } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ timedOut, code, stderr, report: stdout === '' ? undefined : JSON.parse(stdout) as ChildOutcome['report'] });
    });
  });
}

async function readBack(file: string) {
  const problems: RecordProblem[] = [];
  const lines: number[] = [];
  const iterations: Array<number | undefined> = [];
  for await (const r of readTurnRecords(file, { onProblem: (p) => problems.push(p) })) {
    lines.push(r.line);
    iterations.push(r.record.iteration);
  }
  return { lines, iterations, problems };
}

/** Bytes a non-blocking FIFO reader can read now (0 at end of file or when nothing is waiting). */
function bytesWaiting(fd: number): number {
  try {
    return readSync(fd, Buffer.alloc(64 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    throw err;
  }
}

function modeOf(p: string): number {
  return statSync(p).mode & 0o777;
}

describe('AppendWriter', () => {
  let root: string;
  let dir: string;
  let file: string;
  let messages: string[];
  let writer: AppendWriter;

  beforeAll(async () => {
    appendOnce = await bundleFixture(path.resolve(import.meta.dirname, '../fixtures/append-once.ts'));
  });
  afterAll(() => appendOnce.cleanup());

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'moa-writer-'));
    // Traversable by the other users some tests run as.
    chmodSync(root, 0o755);
    dir = path.join(root, 'traces');
    mkdirSync(dir, { mode: 0o700 });
    file = path.join(dir, 'session.jsonl');
    messages = [];
    writer = new AppendWriter({ log: (m) => messages.push(m) });
  });
  afterEach(() => {
    writer.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes 0600 files in a 0700 directory it creates', () => {
    const nested = path.join(root, 'new', 'deeper', 's.jsonl');
    expect(writer.appendLine(nested, oursLine())).toBe(true);
    expect(modeOf(path.dirname(nested))).toBe(0o700);
    expect(modeOf(nested)).toBe(0o600);
    expect(readFileSync(nested, 'utf8')).toBe(`${oursLine()}\n`);
    expect(writer.stats).toMatchObject({ linesWritten: 1, bytesWritten: oursLine().length + 1, writeErrors: 0, linesRefused: 0 });
  });

  describe('refuses what is not a regular file of ours', () => {
    it('a symbolic link in place of the session file: the target is untouched, the turn goes on, one report', () => {
      const target = path.join(root, 'bashrc');
      writeFileSync(target, 'export PS1=x\n', { mode: 0o644 });
      symlinkSync(target, file);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(readFileSync(target, 'utf8')).toBe('export PS1=x\n');
      expect(modeOf(target)).toBe(0o644);
      expect(writer.stats).toMatchObject({ linesWritten: 0, linesRefused: 2, writeErrors: 0 });
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/refusing to write trace file .*session\.jsonl: it is a symbolic link/);
    });

    it('a dangling symbolic link: nothing is created where it points', () => {
      const target = path.join(root, 'planted.jsonl');
      symlinkSync(target, file);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(existsSync(target)).toBe(false);
      expect(lstatSync(file).isSymbolicLink()).toBe(true);
    });

    it('a FIFO with no reader: the writer returns at once instead of blocking for ever', async () => {
      execFileSync('mkfifo', ['-m', '0600', file]);
      // In a child: on a writer that blocks, the test must still end (in seconds), and say so.
      const outcome = await runAppendOnce(file, [oursLine()], { timeoutMs: 10_000 });
      expect(outcome.timedOut).toBe(false);
      expect(outcome.code).toBe(0);
      expect(outcome.report?.results).toEqual([false]);
      expect(outcome.report?.stats.linesRefused).toBe(1);
      expect(outcome.report?.messages[0]).toMatch(/FIFO/);
    });

    it('a FIFO with a reader: nothing reaches the reader', () => {
      execFileSync('mkfifo', ['-m', '0600', file]);
      const reader = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        expect(writer.appendLine(file, oursLine())).toBe(false);
        expect(bytesWaiting(reader)).toBe(0);
        expect(writer.stats.linesRefused).toBe(1);
        expect(messages[0]).toMatch(/it is a FIFO, not a regular file/);
      } finally {
        closeSync(reader);
      }
    });

    it('a device node and a socket', async () => {
      execFileSync('mknod', ['-m', '0600', file, 'c', '1', '3']); // the null device
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(messages[0]).toMatch(/it is a character device, not a regular file/);
      const socketFile = path.join(dir, 'socket.jsonl');
      const server: Server = createServer();
      await new Promise<void>((resolve) => server.listen(socketFile, resolve));
      try {
        expect(writer.appendLine(socketFile, oursLine())).toBe(false);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      expect(writer.stats).toMatchObject({ linesRefused: 2, writeErrors: 0, linesWritten: 0 });
    });

    it('a file with a second hard link (it could be another file of ours)', () => {
      const other = path.join(root, 'notes.txt');
      writeFileSync(other, 'mine\n', { mode: 0o600 });
      linkSync(other, file);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(readFileSync(other, 'utf8')).toBe('mine\n');
      expect(messages[0]).toMatch(/2 hard links/);
    });

    it('a file that belongs to another user, untouched', () => {
      writeFileSync(file, 'theirs\n');
      chmodSync(file, 0o666);
      chownSync(file, OTHER_UID, OTHER_UID);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe('theirs\n');
      expect(modeOf(file)).toBe(0o666);
      expect(messages[0]).toMatch(new RegExp(`it belongs to uid ${OTHER_UID}, not to this process \\(uid 0\\)`));
    });

    it('a trace directory that belongs to another user, with a clear message', () => {
      chownSync(dir, OTHER_UID, OTHER_UID);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(existsSync(file)).toBe(false);
      expect(writer.stats.linesRefused).toBe(1);
      expect(messages).toEqual([expect.stringMatching(new RegExp(`trace directory ${dir} belongs to uid ${OTHER_UID}, not to this process`))]);
    });

    it('run as another user: a file planted by a third user, and a world-writable directory of someone else', async () => {
      chownSync(dir, OTHER_UID, OTHER_UID);
      writeFileSync(file, '');
      chmodSync(file, 0o666);
      chownSync(file, THIRD_UID, THIRD_UID);
      const planted = await runAppendOnce(file, [oursLine()], { uid: OTHER_UID });
      expect(planted.stderr).toBe('');
      expect(planted.report?.results).toEqual([false]);
      expect(planted.report?.messages[0]).toMatch(new RegExp(`it belongs to uid ${THIRD_UID}, not to this process \\(uid ${OTHER_UID}\\)`));
      expect(readFileSync(file, 'utf8')).toBe('');

      // Like /tmp: writable by all, owned by root.
      const shared = path.join(root, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const sharedFile = path.join(shared, 's.jsonl');
      const open = await runAppendOnce(sharedFile, [oursLine()], { uid: OTHER_UID });
      expect(open.report?.results).toEqual([false]);
      expect(open.report?.messages[0]).toMatch(/trace directory .*shared belongs to uid 0, not to this process/);
      expect(existsSync(sharedFile)).toBe(false);

      // The same writer, in a directory of its own, writes.
      const own = path.join(root, 'own');
      mkdirSync(own);
      chownSync(own, OTHER_UID, OTHER_UID);
      const ok = await runAppendOnce(path.join(own, 's.jsonl'), [oursLine()], { uid: OTHER_UID });
      expect(ok.report?.results).toEqual([true]);
      expect(statSync(path.join(own, 's.jsonl')).uid).toBe(OTHER_UID);
    });
  });

  describe('makes existing files and directories private', () => {
    it('a 0644 file becomes 0600 and is written', () => {
      writeFileSync(file, `${oursLine()}\n`, { mode: 0o644 });
      chmodSync(file, 0o644);
      expect(writer.appendLine(file, oursLine({ iteration: 1 }))).toBe(true);
      expect(modeOf(file)).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toBe(`${oursLine()}\n${oursLine({ iteration: 1 })}\n`);
      expect(writer.stats.permissionsTightened).toBe(1);
    });

  });

  describe('never changes the permissions of a directory it did not create', () => {
    it('a 0755 directory someone chose stays 0755; the file in it is 0600', () => {
      chmodSync(dir, 0o755);
      expect(writer.appendLine(file, oursLine())).toBe(true);
      expect(modeOf(dir)).toBe(0o755);
      expect(modeOf(file)).toBe(0o600);
      expect(writer.stats.permissionsTightened).toBe(0);
    });

    it('a shared 1777 directory (a stand-in for /tmp, ours as /tmp is root\'s) is refused with one line and left as it is', () => {
      chmodSync(dir, 0o1777);
      // Another user keeps a file there; they must keep access to it.
      const theirs = path.join(dir, 'theirs.txt');
      writeFileSync(theirs, 'mine\n');
      chownSync(theirs, OTHER_UID, OTHER_UID);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(statSync(dir).mode & 0o7777).toBe(0o1777);
      expect(existsSync(file)).toBe(false);
      expect(writer.stats).toMatchObject({ linesRefused: 2, linesWritten: 0, permissionsTightened: 0 });
      expect(messages).toEqual([expect.stringMatching(/trace directory .*traces is writable by other users \(mode 01777\): moa-otel never changes the permissions of a directory it did not create/)]);
      expect(execFileSync('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', 'cat', theirs], { encoding: 'utf8' })).toBe('mine\n');
    });

    it('a group-writable directory of ours is refused too', () => {
      chmodSync(dir, 0o770);
      expect(writer.appendLine(file, oursLine())).toBe(false);
      expect(modeOf(dir)).toBe(0o770);
      expect(messages[0]).toMatch(/writable by other users \(mode 0770\)/);
    });

    it('trace_dir "~" (the home directory) is refused, its mode untouched', () => {
      const home = path.join(root, 'home');
      mkdirSync(home, { mode: 0o755 });
      chmodSync(home, 0o755);
      const saved = process.env.HOME;
      process.env.HOME = home;
      try {
        expect(writer.appendLine(path.join(home, 's.jsonl'), oursLine())).toBe(false);
      } finally {
        process.env.HOME = saved;
      }
      expect(modeOf(home)).toBe(0o755);
      expect(existsSync(path.join(home, 's.jsonl'))).toBe(false);
      expect(messages[0]).toMatch(/trace directory .*home is the home directory: set trace_dir to a directory of its own inside it/);
    });

    it('a symbolic link as the trace directory is refused; its target is neither written nor chmodded', () => {
      const target = path.join(root, 'elsewhere');
      mkdirSync(target, { mode: 0o755 });
      chmodSync(target, 0o755);
      const linked = path.join(root, 'linked');
      symlinkSync(target, linked);
      expect(writer.appendLine(path.join(linked, 's.jsonl'), oursLine())).toBe(false);
      expect(modeOf(target)).toBe(0o755);
      expect(existsSync(path.join(target, 's.jsonl'))).toBe(false);
      expect(messages[0]).toMatch(/trace directory .*linked is a symbolic link: traces are written only into a real directory/);
    });

    it('a directory it creates is 0700 whatever the umask', () => {
      const previous = process.umask(0o000);
      try {
        expect(writer.appendLine(path.join(root, 'fresh', 's.jsonl'), oursLine())).toBe(true);
      } finally {
        process.umask(previous);
      }
      expect(modeOf(path.join(root, 'fresh'))).toBe(0o700);
    });
  });

  describe('torn tails', () => {
    it('a torn tail then an append: both are readable, the fragment is reported as torn with its line number', async () => {
      writeFileSync(file, `${oursLine()}\n${oursLine({ iteration: 1 }).slice(0, 150)}`, { mode: 0o600 });
      expect(writer.appendLine(file, oursLine({ iteration: 2 }))).toBe(true);
      expect(writer.stats.tornTailsClosed).toBe(1);
      const { iterations, lines, problems } = await readBack(file);
      expect(iterations).toEqual([0, 2]);
      expect(lines).toEqual([1, 3]);
      expect(problems).toEqual([expect.objectContaining({ line: 2, kind: 'torn' })]);
    });

    it('checks again when another process wrote since: a fragment it left is closed before our next record', async () => {
      expect(writer.appendLine(file, oursLine())).toBe(true);
      appendFileSync(file, oursLine({ iteration: 1 }).slice(0, 99)); // another writer, killed mid-write
      expect(writer.appendLine(file, oursLine({ iteration: 2 }))).toBe(true);
      expect(writer.appendLine(file, oursLine({ iteration: 3 }))).toBe(true);
      const { iterations, problems } = await readBack(file);
      expect(iterations).toEqual([0, 2, 3]);
      expect(problems).toEqual([expect.objectContaining({ line: 2, kind: 'torn' })]);
      expect(writer.stats.tornTailsClosed).toBe(1);
    });

    it('does not add a newline to a file that ends in one', () => {
      writeFileSync(file, `${oursLine()}\n`, { mode: 0o600 });
      expect(writer.appendLine(file, oursLine({ iteration: 1 }))).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(`${oursLine()}\n${oursLine({ iteration: 1 })}\n`);
      expect(writer.stats.tornTailsClosed).toBe(0);
    });

    it('a write that stops part-way (file size limit) leaves the file so that the next record survives', async () => {
      writeFileSync(file, `${oursLine()}\n`, { mode: 0o600 });
      const limit = statSync(file).size + 500;
      const big = oursLine({ iteration: 1 }).replace('What is 2+2?', 'x'.repeat(5_000));
      const outcome = await runAppendOnce(file, [big, '@raise-file-size-limit', oursLine({ iteration: 2 })], { fileSizeLimit: limit });
      expect(outcome.stderr).toBe('');
      expect(outcome.report?.results).toEqual([false, true]);
      expect(outcome.report?.stats).toMatchObject({ partialWrites: 1, writeErrors: 1, linesWritten: 1, tornTailsClosed: 1 });
      expect(outcome.report?.messages[0]).toMatch(/only 500 of \d+ bytes were written/);
      expect(outcome.report?.messages[1]).toMatch(/writing to .*traces works again after 1 failed line\./);
      const { iterations, problems } = await readBack(file);
      expect(iterations).toEqual([0, 2]);
      expect(problems).toEqual([expect.objectContaining({ line: 2, kind: 'torn' })]);
    });
  });

  describe('keeps the descriptor open between lines', () => {
    /** Descriptors of this process that lead into `where`. */
    function descriptorsInto(where: string): string[] {
      const found: string[] = [];
      for (const fd of readdirSync('/proc/self/fd')) {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          if (target === where || target.startsWith(`${where}/`)) found.push(target);
        } catch {
          // closed while we looked (the listing's own descriptor)
        }
      }
      return found;
    }

    it('one descriptor for the file and one for its directory stay open after a line, and close() closes them', () => {
      expect(writer.appendLine(file, oursLine())).toBe(true);
      expect(writer.appendLine(file, oursLine({ iteration: 1 }))).toBe(true);
      expect(descriptorsInto(dir).sort()).toEqual([dir, file]);
      writer.close();
      expect(descriptorsInto(dir)).toEqual([]);
      expect(writer.appendLine(file, oursLine({ iteration: 2 }))).toBe(true);
      expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(4);
    });

    it('rotation (the file renamed away) and prune (the file deleted): the next line starts a new file', () => {
      expect(writer.appendLine(file, oursLine())).toBe(true);
      renameSync(file, `${file}.1`);
      expect(writer.appendLine(file, oursLine({ iteration: 1 }))).toBe(true);
      expect(readFileSync(`${file}.1`, 'utf8')).toBe(`${oursLine()}\n`);
      expect(readFileSync(file, 'utf8')).toBe(`${oursLine({ iteration: 1 })}\n`);
      rmSync(file);
      expect(writer.appendLine(file, oursLine({ iteration: 2 }))).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(`${oursLine({ iteration: 2 })}\n`);
      expect(descriptorsInto(root).filter((p) => p.endsWith('(deleted)'))).toEqual([]);
    });

    it('the directory deleted (prune of everything): made again and written', () => {
      expect(writer.appendLine(file, oursLine())).toBe(true);
      rmSync(dir, { recursive: true });
      expect(writer.appendLine(file, oursLine({ iteration: 1 }))).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(`${oursLine({ iteration: 1 })}\n`);
      expect(modeOf(dir)).toBe(0o700);
    });

    it('a kept file made readable by others or given a second link is checked again before the next line', () => {
      expect(writer.appendLine(file, oursLine())).toBe(true);
      chmodSync(file, 0o644);
      expect(writer.appendLine(file, oursLine({ iteration: 1 }))).toBe(true);
      expect(modeOf(file)).toBe(0o600);
      linkSync(file, path.join(root, 'second-name'));
      expect(writer.appendLine(file, oursLine({ iteration: 2 }))).toBe(false);
      expect(messages[0]).toMatch(/2 hard links/);
      expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    });

    it('closes the least recently used file whether the file written last was written again or another one', () => {
      const bounded = new AppendWriter({ log: (m) => messages.push(m), maxOpenFiles: 2 });
      const at = (name: string) => path.join(dir, `${name}.jsonl`);
      const write = (...names: string[]) => { for (const name of names) expect(bounded.appendLine(at(name), oursLine())).toBe(true); };
      write('a', 'b', 'a', 'c');
      expect(descriptorsInto(dir).sort()).toEqual([dir, at('a'), at('c')]);
      write('c', 'c', 'a', 'd');
      expect(descriptorsInto(dir).sort()).toEqual([dir, at('a'), at('d')]);
      write('d', 'e');
      expect(descriptorsInto(dir).sort()).toEqual([dir, at('d'), at('e')]);
      bounded.close();
      expect(readFileSync(at('a'), 'utf8').split('\n')).toHaveLength(4);
    });

    it('at most maxOpenFiles files stay open (least recently used closed first), and idle ones are closed', async () => {
      const bounded = new AppendWriter({ log: (m) => messages.push(m), maxOpenFiles: 2, idleCloseMs: 40 });
      for (let i = 0; i < 5; i++) expect(bounded.appendLine(path.join(dir, `s${i}.jsonl`), oursLine())).toBe(true);
      expect(descriptorsInto(dir).sort()).toEqual([dir, path.join(dir, 's3.jsonl'), path.join(dir, 's4.jsonl')]);
      expect(bounded.appendLine(path.join(dir, 's0.jsonl'), oursLine({ iteration: 1 }))).toBe(true);
      expect(descriptorsInto(dir).sort()).toEqual([dir, path.join(dir, 's0.jsonl'), path.join(dir, 's4.jsonl')]);
      // Idle files close on a timer: wait for it (a fixed sleep was too short on a loaded machine).
      await waitUntil(() => descriptorsInto(dir).length === 0, 'the idle files to be closed', { context: () => descriptorsInto(dir).join(', ') });
      expect(descriptorsInto(dir)).toEqual([]);
      expect(bounded.openDescriptors).toBe(0);
    });
  });

  it('says once when a refused file works again, with the number of lines it lost', () => {
    const target = path.join(root, 'elsewhere');
    writeFileSync(target, '');
    symlinkSync(target, file);
    for (let i = 0; i < 3; i++) expect(writer.appendLine(file, oursLine())).toBe(false);
    rmSync(file);
    expect(writer.appendLine(file, oursLine())).toBe(true);
    expect(writer.appendLine(file, oursLine())).toBe(true);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toBe(`moa-otel: writing to ${file} works again after 3 failed lines.`);
  });
});

describe('AppendWriter: the trace directory swapped for a symbolic link while lines are written', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Another user, who owns the directory above the traces, swaps them for a link in a loop until killed. */
  function startSwapper(parent: string, targets: string[]) {
    const script = `
      const fs = require('node:fs');
      const [parent, ...targets] = process.argv.slice(1);
      const traces = parent + '/traces', real = parent + '/real';
      let i = 0;
      process.stdout.write('swapping\\n');
      for (;;) {
        fs.renameSync(traces, real);
        fs.symlinkSync(targets[i++ % targets.length], traces);
        fs.unlinkSync(traces);
        fs.renameSync(real, traces);
      }`;
    const child = spawn('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', process.execPath, '-e', script, parent, ...targets],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const closed = once(child, 'close');
    const started = new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`swapper exited (${code}): ${stderr}`)));
    });
    return { child, started, closed, stderr: () => stderr };
  }

  it('no line leaves the real directory, and the refusals are reported', async () => {
    root = mkdtempSync(path.join(tmpdir(), 'moa-swap-'));
    chmodSync(root, 0o755);
    const parent = path.join(root, 'parent');
    mkdirSync(parent, { mode: 0o755 });
    chownSync(parent, OTHER_UID, OTHER_UID);
    const traces = path.join(parent, 'traces');
    mkdirSync(traces, { mode: 0o700 });
    // Where the link leads: the victim's own private home (a stand-in), and a directory of the attacker.
    const victimHome = path.join(root, 'victim-home');
    mkdirSync(victimHome, { mode: 0o700 });
    const attackers = path.join(parent, 'evil');
    mkdirSync(attackers, { mode: 0o777 });
    chownSync(attackers, OTHER_UID, OTHER_UID);
    const file = path.join(traces, 's.jsonl');
    const realDir = statSync(traces);

    const messages: string[] = [];
    const writer = new AppendWriter({ log: (m) => messages.push(m) });
    // A running agent: its directory is open before the swapping starts.
    expect(writer.appendLine(file, oursLine())).toBe(true);
    const swapper = startSwapper(parent, [victimHome, attackers]);
    const LINES = 1500;
    const results: boolean[] = [true];
    try {
      await swapper.started;
      // Lines spread over some time, so that the swaps land between and inside them.
      // At least LINES lines, and on until a swap has landed inside one (a busy
      // machine may schedule the swapper late), within a bound.
      const deadline = Date.now() + 20_000;
      for (let i = 1; i < LINES || (writer.stats.linesRefused === 0 && Date.now() < deadline); i++) {
        results.push(writer.appendLine(file, oursLine({ iteration: i })));
        if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 2));
      }
    } finally {
      swapper.child.kill('SIGKILL');
      await swapper.closed;
      writer.close();
    }
    // It was still swapping at the end: none of its steps failed on something the writer did.
    expect(swapper.stderr()).toBe('');
    const written = results.filter(Boolean).length;
    expect(writer.stats.linesWritten).toBe(written);
    expect(writer.stats.linesRefused + writer.stats.writeErrors).toBe(results.length - written);
    expect(writer.stats.linesRefused).toBeGreaterThan(0);
    // Each refusal names what stood in the directory's place when the line came: the link, or nothing (mid-swap: the real one renamed away).
    const refusals = messages.filter((m) => m.startsWith('moa-otel: refusing to write trace file '));
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) expect(refusal).toMatch(/: trace directory .*traces (is a symbolic link|was replaced|was moved away)/);
    // Nothing where the link led.
    expect(readdirSync(victimHome)).toEqual([]);
    expect(readdirSync(attackers)).toEqual([]);
    // Every line written is in the real directory, wherever the kill left it.
    const realPath = [traces, path.join(parent, 'real')].find((p) => {
      const st = lstatSync(p, { throwIfNoEntry: false });
      return st !== undefined && st.ino === realDir.ino;
    }) as string;
    const lines = readFileSync(path.join(realPath, 's.jsonl'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(written);
  }, 60_000);
});
