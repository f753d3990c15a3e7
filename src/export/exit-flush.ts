/**
 * Writes what JSONL sinks still hold when the process exits without
 * `shutdown()` (a short CLI, an uncaught error): one `exit` listener for the
 * whole process, however many sinks and however many loaded copies of
 * moa-otel there are — hence a registry on `globalThis` under a `Symbol.for`
 * name. Sinks are held weakly: registering never keeps one alive.
 */

export interface ExitFlushable {
  /** Writes what is pending, synchronously (an `exit` listener cannot wait). Never throws. */
  flushAtExit(): void;
}

interface Registry {
  sinks: Set<WeakRef<ExitFlushable>>;
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
      for (const ref of created.sinks) {
        try {
          ref.deref()?.flushAtExit();
        } catch {
          // Exiting anyway: one sink's failure must not stop the others.
        }
      }
    });
  }
  return found;
}

/** Registers a sink; the returned function unregisters it (at shutdown). */
export function flushAtExit(sink: ExitFlushable): () => void {
  const sinks = registry().sinks;
  for (const ref of sinks) if (ref.deref() === undefined) sinks.delete(ref);
  const ref = new WeakRef(sink);
  sinks.add(ref);
  return () => { sinks.delete(ref); };
}
