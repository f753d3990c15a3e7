import { errorLine } from '../base/errors.js';

/** A trace file or directory that cannot be used: shown to the user as one line. */
export class TraceFileError extends Error {
  override readonly name = 'TraceFileError';
}

/** One line for a Node file-system error: "no such file", "permission denied"... */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    default: return errorLine(err);
  }
}
