/**
 * One measured process of the readers bench (`offline-formats.ts`). Plain
 * JavaScript on purpose: the commands run from the built `dist/` exactly as
 * `moa-otel` runs them, without a TypeScript loader in the process whose
 * transpiling would be counted as the command's CPU.
 *
 *   node bench/reader-child.mjs floor-plain <file|dir>   split + JSON.parse of every line
 *   node bench/reader-child.mjs floor-gzip <dir>          gunzip + split + JSON.parse
 *   node bench/reader-child.mjs floor-line <file> <n>     find line n by newlines, JSON.parse it
 *   node bench/reader-child.mjs cli <command> [args...]   the command, output discarded
 *
 * Prints one JSON line: `cpuMs` (CPU from just before the measured work,
 * which for `cli` includes loading the command's modules), `bootCpuMs` (CPU
 * the process had used before that: Node itself and the static imports),
 * `mainCpuMs` (the part of `cpuMs` on the main thread, 10 ms ticks, Linux
 * only, else null: the rest is V8's background threads, mostly its
 * optimizing compiler, which on a short run costs as much as the work),
 * `ms` (wall) and `maxRssMb`.
 */
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { runCli } from '../dist/cli/main.js';
import { LineSplitter } from '../dist/offline/line-splitter.js';
import { peakRssMb } from './peak-rss.mjs';

const CHUNK = 1 << 20;
/** zlib hands out 16 KiB pieces by default: larger ones cost far less per byte (the reader uses the same size). */
const GUNZIP_CHUNK = 1 << 18;

function filesOf(target) {
  return /\.(jsonl|json|gz)$/.test(target) ? [target] : readdirSync(target).sort().map((name) => path.join(target, name));
}

function parseLine(line) {
  if (line.bytes.length > 0) JSON.parse(line.bytes.toString('utf8'));
}

async function floorPlain(target) {
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (const file of filesOf(target)) {
    const handle = await open(file, 'r');
    const splitter = new LineSplitter();
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      splitter.push(buffer.subarray(0, bytesRead), parseLine);
    }
    const tail = splitter.finish();
    if (tail) parseLine(tail);
    await handle.close();
  }
}

async function floorGzip(target) {
  for (const file of filesOf(target)) {
    const splitter = new LineSplitter();
    const gunzip = createReadStream(file, { highWaterMark: CHUNK }).pipe(createGunzip({ chunkSize: GUNZIP_CHUNK }));
    for await (const chunk of gunzip) splitter.push(chunk, parseLine);
    const tail = splitter.finish();
    if (tail) parseLine(tail);
  }
}

/** The least any reader of line n can do: find it by its newlines, parse it. */
async function floorLine(file, n) {
  const handle = await open(file, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let position = 0;
  let lines = 0;
  let start = 0;
  let found = null;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) {
      lines += 1;
      if (lines === n) {
        found = { start, end: position + at };
        break;
      }
      start = position + at + 1;
    }
    if (found) break;
    position += bytesRead;
  }
  if (found) {
    const bytes = Buffer.allocUnsafe(found.end - found.start);
    await handle.read(bytes, 0, bytes.length, found.start);
    JSON.parse(bytes.toString('utf8'));
  }
  await handle.close();
}

async function cli(args) {
  const sink = { write: () => true };
  await runCli(args, { stdout: sink, stderr: sink, env: { MOA_HOME: '/nonexistent' }, cwd: process.cwd() });
}

/** CPU of the main thread so far (ms, in clock ticks of 10 ms), or null where /proc is not there. */
function mainThreadCpuMs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

const [kind, ...args] = process.argv.slice(2);
const mainBoot = mainThreadCpuMs();
const boot = process.cpuUsage();
const start = performance.now();
if (kind === 'floor-plain') await floorPlain(args[0]);
else if (kind === 'floor-gzip') await floorGzip(args[0]);
else if (kind === 'floor-line') await floorLine(args[0], Number(args[1]));
else if (kind === 'cli') await cli(args);
else throw new Error(`unknown kind ${kind}`);
const used = process.cpuUsage(boot);
const mainNow = mainThreadCpuMs();
process.stdout.write(`${JSON.stringify({
  ms: performance.now() - start,
  cpuMs: (used.user + used.system) / 1000,
  mainCpuMs: mainNow === null || mainBoot === null ? null : mainNow - mainBoot,
  bootCpuMs: (boot.user + boot.system) / 1000,
  maxRssMb: peakRssMb(),
})}\n`);
