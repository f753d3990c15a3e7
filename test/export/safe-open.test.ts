import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeQuietly, directoryState, openTraceDirectory, openTraceFileIn, UnsafeTraceTargetError } from '../../src/export/safe-open.js';

describe('safe-open: files opened relative to the held directory', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'moa-safe-open-'));
    dir = path.join(root, 'traces');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('Linux: through /proc/self/fd, a file lands in the held directory even after its path was swapped for a link', () => {
    const held = openTraceDirectory(dir);
    try {
      expect(held).toMatchObject({ viaProc: true, created: true });
      const elsewhere = path.join(root, 'elsewhere');
      mkdirSync(elsewhere, { mode: 0o700 });
      renameSync(dir, path.join(root, 'moved'));
      symlinkSync(elsewhere, dir);
      expect(directoryState(held)).toBe('other');
      const opened = openTraceFileIn(held, 's.jsonl');
      closeQuietly(opened.fd);
      expect(readdirSync(path.join(root, 'moved'))).toEqual(['s.jsonl']);
      expect(readdirSync(elsewhere)).toEqual([]);
    } finally {
      closeQuietly(held.fd);
    }
  });

  it('without /proc: opened by path, then refused when the path no longer leads to the held directory', () => {
    const held = { ...openTraceDirectory(dir), viaProc: false };
    try {
      const first = openTraceFileIn(held, 'a.jsonl');
      closeQuietly(first.fd);
      const elsewhere = path.join(root, 'elsewhere');
      mkdirSync(elsewhere, { mode: 0o700 });
      renameSync(dir, path.join(root, 'moved'));
      symlinkSync(elsewhere, dir);
      expect(() => openTraceFileIn(held, 'b.jsonl')).toThrow(UnsafeTraceTargetError);
      expect(() => openTraceFileIn(held, 'b.jsonl')).toThrow(/was replaced while the file was being opened/);
    } finally {
      closeQuietly(held.fd);
    }
  });

  it('what the path names: the same directory, moved away, deleted, or something else', () => {
    const held = openTraceDirectory(dir);
    try {
      expect(directoryState(held)).toBe('same');
      renameSync(dir, path.join(root, 'moved'));
      expect(directoryState(held)).toBe('moved');
      renameSync(path.join(root, 'moved'), dir);
      expect(directoryState(held)).toBe('same');
      rmSync(dir, { recursive: true });
      expect(directoryState(held)).toBe('deleted');
      mkdirSync(dir, { mode: 0o700 });
      expect(directoryState(held)).toBe('other');
    } finally {
      closeQuietly(held.fd);
    }
  });

  it('a directory it did not create keeps its mode; one it created is 0700', () => {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const existing = openTraceDirectory(dir);
    closeQuietly(existing.fd);
    expect(existing).toMatchObject({ created: false, tightened: false });
    const fresh = openTraceDirectory(path.join(root, 'fresh', 'deeper'));
    closeQuietly(fresh.fd);
    expect(fresh.created).toBe(true);
  });
});

describe('openTraceDirectory with create: false', () => {
  it('refuses a path that names nothing instead of making a directory there', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'moa-nocreate-'));
    const dir = path.join(root, 'traces');
    expect(() => openTraceDirectory(dir, undefined, { create: false })).toThrow(UnsafeTraceTargetError);
    expect(existsSync(dir)).toBe(false);
    const made = openTraceDirectory(dir);
    closeQuietly(made.fd);
    expect(made.created).toBe(true);
    rmSync(root, { recursive: true, force: true });
  });
});
