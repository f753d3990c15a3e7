#!/usr/bin/env node
/**
 * `moa-otel` entry point: dispatches to one command module and turns every
 * failure into one line on stderr and a non-zero exit code.
 */
import { realpathSync } from 'node:fs';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { fileURLToPath } from 'node:url';
import { CauseReporter } from '../base/cause-reporter.js';
import { errorLine, errorText, firstLine } from '../base/errors.js';
import { PACKAGE_VERSION } from '../base/version.js';
import { CliError, type CliIo } from './command.js';
import { COMMANDS } from './registry.js';

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(await helpText());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    io.stdout.write(`moa-otel ${PACKAGE_VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`moa-otel: unknown command "${name}" (try moa-otel --help)\n`);
    return 2;
  }
  try {
    const command = await load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    io.stderr.write(`moa-otel ${name}: ${errorLine(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

async function helpText(): Promise<string> {
  const lines = ['usage: moa-otel <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    try {
      lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
    } catch {
      lines.push(`  ${name}`);
    }
  }
  lines.push('', 'moa-otel <command> --help shows the options of one command.', '');
  return lines.join('\n');
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * Tracing problems (an unreachable collector, an unwritable trace dir) are
 * reported through the OpenTelemetry diagnostic logger; a library leaves that
 * logger to the application, but the CLI is the application: show warnings.
 */
function showTracingWarnings(stderr: NodeJS.WritableStream): void {
  // A warning repeated for every turn is shown once: its text is its cause.
  const reporter = new CauseReporter((line) => stderr.write(line));
  const line = (level: string) => (message: string, ...args: unknown[]) => {
    const parts = [message, ...args.map((a) => (a instanceof Error ? errorText(a) : typeof a === 'string' ? a : ''))];
    const text = firstLine(parts.filter(Boolean).join(' ')).replace(/^moa-otel: /, '');
    reporter.fail(text, `moa-otel: ${level}: ${text}\n`);
  };
  const quiet = () => {};
  diag.setLogger({ error: line('error'), warn: line('warning'), info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
}

if (isMain()) {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), stdin: process.stdin };
  showTracingWarnings(process.stderr);
  // `moa-otel ls --json | head -1`: a reader that leaves early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  runCli(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.stderr.write(`moa-otel: ${errorLine(err)}\n`); process.exitCode = 1; },
  );
}
