/** `moa-otel export`: replay a session's records as OTLP spans, to a collector or a file. */
import path from 'node:path';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { resolveConfig } from '../../config/load.js';
import {
  COMMON_OPTIONS, fileSize, otlpProtocolOption, parseCommandArgs, resolveTarget, singleArgument, withFileErrors,
} from '../args.js';
import { exportSession } from '../../offline/export-session.js';
import { inputName } from '../../offline/inputs.js';
import { problemsToStderr } from '../problems.js';
import { createProgress } from '../progress.js';
import { otlpHttpSink, otlpJsonFileSink, SpanExportError, tracesUrl, type SpanSink } from '../../offline/span-sink.js';
import { plural, terminalSafe } from '../../offline/format.js';
import { buildResource } from '../../setup/resource.js';
import { INSTRUMENTATION_SCOPE } from '../../trace/attributes.js';
import { PACKAGE_VERSION } from '../../base/version.js';
import { errorLine } from '../../base/errors.js';

const USAGE = `usage: moa-otel export <session|file|-> (--otlp URL | --out FILE) [--service-name NAME] [--dir DIR] [--json]

Replays each record as the span tree of a live turn (root, references,
aggregator), with the record's own times and ids. Records without ids get
ids derived from their content, so exporting twice gives the same trace.

  --otlp URL          OTLP/HTTP base URL; spans are POSTed to URL/v1/traces as
                      http/protobuf, or http/json when OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says so
  --out FILE          write OTLP JSON export requests to FILE, one per line
  --service-name NAME service.name of the replayed spans (default: as a live run's:
                      configured, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, else moa-otel)
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
    options: { ...COMMON_OPTIONS, otlp: { type: 'string' }, out: { type: 'string' }, 'service-name': { type: 'string' } },
    allowPositionals: true,
  });
  const arg = singleArgument(positionals);
  if ((values.otlp === undefined) === (values.out === undefined)) throw new CliError('give exactly one of --otlp URL or --out FILE');
  const destination = values.otlp !== undefined ? safeUrl(values.otlp) : path.resolve(io.cwd, values.out as string);
  const target = resolveTarget(arg, values.dir, io);
  const serviceName = values['service-name'] ?? configuredServiceName(io);

  const sink: SpanSink = values.otlp !== undefined ? otlpHttpSink(destination, { protocol: otlpProtocolOption(io) }) : await otlpJsonFileSink(destination);
  const bar = createProgress(io, 'export', fileSize(target.file));
  try {
    const summary = await exportSession(target, {
      sink,
      context: {
        resource: buildResource(serviceName, io.env),
        scope: { name: INSTRUMENTATION_SCOPE, version: PACKAGE_VERSION },
      },
      onProblem: problemsToStderr(io),
      onProgress: (done) => bar.update(done),
      stdin: io.stdin,
    });
    bar.done();
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ file: inputName(target.file), destination, turns: summary.turns, spans: summary.spans, requests: summary.batches })}\n`);
    } else {
      io.stdout.write(`exported ${plural(summary.turns, 'turn')} (${summary.spans} spans) from ${terminalSafe(inputName(target.file))} to ${terminalSafe(destination)}\n`);
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

function safeUrl(base: string): string {
  try {
    return tracesUrl(base);
  } catch (err) {
    throw new CliError(`--otlp: ${errorLine(err)}`);
  }
}

/** MOA_SERVICE_NAME, OTEL_SERVICE_NAME or the config file; a broken config only costs the name. */
function configuredServiceName(io: CliIo): string | undefined {
  try {
    return resolveConfig({}, { env: io.env }).service_name;
  } catch {
    return io.env.OTEL_SERVICE_NAME || undefined;
  }
}
