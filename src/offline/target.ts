/** A trace file to read, and the session of it a command was asked about. */
export interface TraceTarget {
  file: string;
  /** Set when the argument was a raw session id that maps to a shared file name: only its records. */
  sessionId?: string;
  /**
   * Found by walking a directory rather than named: when it holds no trace
   * format it is reported and skipped instead of failing the command.
   */
  found?: boolean;
}

/** Whether a record belongs to the session the user named. */
export function matchesSession(recordSessionId: string | null, target: TraceTarget): boolean {
  return target.sessionId === undefined || recordSessionId === target.sessionId;
}
