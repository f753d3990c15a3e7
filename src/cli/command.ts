/** What every `moa-otel <command>` module exports. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** What an input argument `-` reads; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
}

export interface CliCommand {
  name: string;
  /** One line for `moa-otel --help`. */
  summary: string;
  /** Usage text for `moa-otel <name> --help`. */
  usage: string;
  /** Returns the exit code. Throw `CliError` for bad input: main prints its one line. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A user-facing failure: printed as one line, never with a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}
