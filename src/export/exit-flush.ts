/**
 * Writes what JSONL sinks still hold when the process exits without
 * `shutdown()` (a short CLI, an uncaught error): one `exit` listener for the
 * whole process, however many sinks and however many loaded copies of
 * moa-otel there are — hence a registry on `globalThis` under a `Symbol.for`
 * name. A sink is registered only while it holds something to write (held
 * strongly then: the app's last reference to it may be gone by exit time).
 */

export interface ExitFlushable {
  /** Writes what is pending, synchronously (an `exit` listener cannot wait). Never throws. */
  flushAtExit(): void;
}

interface Registry {
  sinks: Set<ExitFlushable>;
}

const REGISTRY = Symbol.for('moa-otel.exit-flush.v1');

function registry(): Registry {
  const holder = globalThis as { [REGISTRY]?: Registry };
  let found = holder[REGISTRY];
  if (!found) {
    const created: Registry = { sinks: new Set() };
    found = created;
    holder[REGISTRY] = created;
    process.once('exit', () => {
      for (const sink of created.sinks) {
        try {
          sink.flushAtExit();
        } catch {
          // Exiting anyway: one sink's failure must not stop the others.
        }
      }
    });
  }
  return found;
}

/** Has `sink` flushed at exit (`true`, while it holds something) or not (`false`, once it holds nothing). */
export function flushAtExit(sink: ExitFlushable, pending: boolean): void {
  if (pending) registry().sinks.add(sink);
  else (globalThis as { [REGISTRY]?: Registry })[REGISTRY]?.sinks.delete(sink);
}
