/** How a skipped line is reported by the reading commands: `file:line: message` on stderr. */
import type { CliIo } from './command.js';
import { terminalSafe } from '../offline/format.js';
import type { RecordProblem } from '../offline/reader.js';

export function formatProblem(p: RecordProblem): string {
  const where = p.line > 0 ? `${terminalSafe(p.file)}:${p.line}` : terminalSafe(p.file);
  return `${where}: ${p.kind === 'torn' || p.kind === 'partial' ? 'warning' : 'error'}: ${terminalSafe(p.message)}`;
}

export function problemsToStderr(io: CliIo): (p: RecordProblem) => void {
  return (p) => {
    io.stderr.write(`${formatProblem(p)}\n`);
  };
}
