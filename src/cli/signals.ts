/**
 * What the applications (`ask`, `demo`) do on SIGINT, SIGTERM and SIGHUP:
 * a turn already paid for is written as a partial record (through the
 * pipeline's `shutdown()`), then the process exits with the conventional
 * code, 128 + the signal's number. The library never installs handlers in
 * its host; these are the CLI's own (docs/shutdown.md shows a host how).
 */
import { constants } from 'node:os';
import type { CliIo } from './command.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Until the returned function is called: on a stop signal, say so on
 * stderr, run `stop` and exit with the signal's code. A second signal while
 * `stop` runs exits at once (the user asked twice).
 */
export function stopOnSignals(command: string, io: CliIo, stop: () => Promise<void>): () => void {
  let stopping = false;
  const onSignal = (signal: StopSignal) => {
    const code = signalExitCode(signal);
    if (stopping) {
      io.stderr.write(`moa-otel ${command}: ${signal} again: exiting now\n`);
      process.exit(code);
    }
    stopping = true;
    io.stderr.write(`moa-otel ${command}: ${signal}: writing open turns as partial records, then exiting\n`);
    void stop().catch(() => undefined).finally(() => process.exit(code));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
}
