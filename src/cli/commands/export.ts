/** `moa-otel export`: replay a session's records as OTLP spans, to a collector or a file. */
import path from 'node:path';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { resolveSettings, resourceAttributes, type MoaSettings } from '../../config/settings.js';
import {
  COMMON_OPTIONS, fileSize, otlpProtocolOption, parseCommandArgs, resolveTarget, singleArgument, withFileErrors,
} from '../args.js';
import { exportSession } from '../../offline/export-session.js';
import { inputName } from '../../offline/inputs.js';
import { problemsToStderr } from '../problems.js';
import { createProgress } from '../progress.js';
import { otlpHttpSink, otlpJsonFileSink, SpanExportError, tracesUrl, type SpanSink } from '../../offline/span-sink.js';
import { plural, terminalSafe } from '../../offline/format.js';
import { INSTRUMENTATION_SCOPE } from '../../trace/attributes.js';
import { PACKAGE_VERSION } from '../../base/version.js';
import { errorLine } from '../../base/errors.js';
import { displayUrl } from '../../config/otlp-url.js';
import type { OtlpProtocol } from '../../config/otlp-protocol.js';

const USAGE = `usage: moa-otel export <session|file|-> (--otlp URL | --out FILE) [--service-name NAME] [--dir DIR] [--json]
       moa-otel export --format calls [<session|file|dir|->...] --out FILE|- [--table csv|jsonl|parquet] [--dir DIR] [--json]

Replays each record as the span tree of a live turn (root, references,
aggregator), with the record's own times and ids. Records without ids get
ids derived from their content, so exporting twice gives the same trace.

  --otlp URL          OTLP base URL; spans go to URL/v1/traces as http/protobuf, or as
                      OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says (http/json; grpc to URL);
                      needs the application's @opentelemetry/exporter-trace-otlp-proto
                      (-http, -grpc). Prints what was delivered; exit 1 when anything was not
  --out FILE          write OTLP JSON export requests to FILE, one per line
                      (needs @opentelemetry/otlp-transformer, which every OTLP exporter brings)
  --service-name NAME service.name of the replayed spans (default: as a live run's:
                      configured, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, else unknown_service:node)
  --format calls      instead: one row per model call (docs/calls-table.md), as CSV,
                      JSON Lines or Parquet (by --out's extension, or --table), of
                      every input given (default: every session of the trace directory)
  --dir DIR           trace directory (default: the configured trace_dir)
  --json              print the summary as JSON`;

const command: CliCommand = {
  name: 'export',
  summary: 'replay records as OTLP spans to a collector or a file',
  usage: USAGE,
  run: (argv, io) => withFileErrors(() => runExport(argv, io)),
};
export default command;

async function runExport(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: {
      ...COMMON_OPTIONS, otlp: { type: 'string' }, out: { type: 'string' }, 'service-name': { type: 'string' },
      format: { type: 'string', default: 'otlp' }, table: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.format === 'calls') {
    if (values.otlp !== undefined || values['service-name'] !== undefined) throw new CliError('--format calls writes a table to --out: --otlp and --service-name do not apply');
    const { runCallsExport } = await import('../calls-export.js');
    return runCallsExport(positionals, { out: values.out, table: values.table, dir: values.dir, json: values.json }, io);
  }
  if (values.format !== 'otlp') throw new CliError(`--format expects otlp or calls, got "${values.format}"`);
  if (values.table !== undefined) throw new CliError('--table applies to --format calls');
  const arg = singleArgument(positionals);
  if ((values.otlp === undefined) === (values.out === undefined)) throw new CliError('give exactly one of --otlp URL or --out FILE');
  const protocol = values.otlp !== undefined ? otlpProtocolOption(io) : undefined;
  const destination = values.otlp !== undefined ? safeUrl(values.otlp, protocol === 'grpc') : path.resolve(io.cwd, values.out as string);
  const target = resolveTarget(arg, values.dir, io);
  const settings = configuredSettings(io);
  const serviceName = values['service-name'] ?? settings?.config.service_name ?? (io.env.OTEL_SERVICE_NAME || undefined);

  const sink: SpanSink = await openSink(protocol, destination, io, settings?.otlp.timeoutConfigured ?? false);
  const bar = createProgress(io, 'export', fileSize(target.file));
  try {
    const summary = await exportSession(target, {
      sink,
      context: {
        resource: { attributes: resourceAttributes(serviceName, io.env) },
        scope: { name: INSTRUMENTATION_SCOPE, version: PACKAGE_VERSION },
      },
      onProblem: problemsToStderr(io),
      onProgress: (done) => bar.update(done),
      stdin: io.stdin,
    });
    bar.done();
    const delivery = sink.delivery?.();
    const shown = values.otlp !== undefined ? displayUrl(destination) : destination;
    if (values.json) {
      io.stdout.write(`${JSON.stringify({
        file: inputName(target.file), destination: shown, turns: summary.turns, spans: summary.spans, requests: summary.batches,
        ...(delivery ? { delivered: delivery.delivered, failed: delivery.failed, ...(delivery.reason ? { error: delivery.reason } : {}) } : {}),
      })}\n`);
    } else if (!delivery || delivery.failed === 0) {
      io.stdout.write(`exported ${plural(summary.turns, 'turn')} (${summary.spans} spans) from ${terminalSafe(inputName(target.file))} to ${terminalSafe(shown)}\n`);
    }
    if (delivery && delivery.failed > 0) {
      io.stderr.write(`moa-otel export: ${terminalSafe(delivery.reason ?? 'export failed')}; delivered ${delivery.delivered} of ${delivery.delivered + delivery.failed} spans (${plural(summary.turns, 'turn')}), ${delivery.failed} not delivered\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    bar.done();
    if (err instanceof SpanExportError) throw new CliError(err.message, 1);
    throw err;
  } finally {
    await sink.close().catch(() => undefined);
  }
}

/** The traces URL of `--otlp` (gRPC takes the base URL itself). */
function safeUrl(base: string, grpc: boolean): string {
  try {
    const traces = tracesUrl(base);
    return grpc ? base : traces;
  } catch (err) {
    throw new CliError(`--otlp: ${errorLine(err)}`);
  }
}

/** A configured timeout (`otlp.timeout_ms` or the standard variables) is the exporter's; else a replay gets 30 s per request. */
async function openSink(protocol: OtlpProtocol | undefined, destination: string, io: CliIo, timeoutConfigured: boolean): Promise<SpanSink> {
  try {
    return protocol !== undefined
      ? otlpHttpSink(destination, { protocol, env: io.env, cwd: io.cwd, ...(timeoutConfigured ? {} : { timeoutMillis: 30_000 }) })
      : await otlpJsonFileSink(destination, io.cwd);
  } catch (err) {
    if (err instanceof SpanExportError) throw new CliError(err.message, 1);
    throw err;
  }
}


/** The settings (service name, OTLP timeout); a broken config only costs them. */
function configuredSettings(io: CliIo): MoaSettings | undefined {
  try {
    return resolveSettings({}, { env: io.env });
  } catch {
    return undefined;
  }
}
