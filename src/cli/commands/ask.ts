/**
 * `moa-otel ask "<question>"`: one real MoA turn against the providers and
 * presets of the configuration (options, environment, `<home>/config.yaml`).
 * Traces go wherever the configuration sends them (save_traces, otlp).
 */
import { randomUUID } from 'node:crypto';
import { MoaConfigError } from '../../config/load.js';
import { createMoaClient, DEFAULT_PRESET_MODEL } from '../../client/client.js';
import { MissingApiKeyError, MoaSetupError } from '../../client/providers.js';
import { describeFailure, firstLine } from '../../base/errors.js';
import { Redactor } from '../../content/redact.js';
import { parseCommandArgs } from '../args.js';
import { setupMoaTracing } from '../../setup/setup.js';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { stopOnSignals } from '../signals.js';

const USAGE = `usage: moa-otel ask "<question>" [--preset P] [--stream] [--session ID] [--json]

Sends one question through a Mixture-of-Agents preset of your configuration
(presets and providers from <home>/config.yaml, section moa:; MOA_PRESET picks
the default preset): the references advise, the aggregator answers. Traces
follow the configuration (save_traces, otlp, MOA_* and OTEL_* variables).

  --preset P     preset name (default: default_preset, or the only preset)
  --stream       stream the answer
  --session ID   session id for the trace file (default: a new id)
  --json         print one JSON object: {"answer","sessionId","sessionFile"}`;

const command: CliCommand = {
  name: 'ask',
  summary: 'ask one question through a configured MoA preset',
  usage: USAGE,
  run: runAsk,
};
export default command;

async function runAsk(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: { preset: { type: 'string' }, stream: { type: 'boolean' }, session: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  const question = positionals.join(' ').trim();
  if (question === '') throw new CliError('missing the question: moa-otel ask "<question>"');

  const sessionId = values.session ?? `ask-${randomUUID()}`;
  let tracing;
  let client;
  try {
    tracing = setupMoaTracing({}, { env: io.env });
    client = createMoaClient({ instrumentation: tracing.instrumentation, env: io.env, sessionId });
    if (values.preset !== undefined && !client.config.presets[values.preset]) {
      const names = Object.keys(client.config.presets);
      throw new MoaSetupError(`no preset named "${values.preset}"${names.length ? ` (presets: ${names.join(', ')})` : ''}`);
    }
    // A reference that cannot be called fails with its reason and the turn goes on, as in the original.
    for (const { label, reason } of client.preflight(values.preset).unusableReferences) {
      io.stderr.write(`moa-otel ask: reference ${label} will fail: ${reason}\n`);
    }
  } catch (err) {
    await tracing?.shutdown();
    if (err instanceof MissingApiKeyError) {
      throw new CliError(`set ${err.envVar} to the API key of provider "${err.provider}" (needed by the preset)`, 2);
    }
    if (err instanceof MoaSetupError || err instanceof MoaConfigError) throw new CliError(err.message, 2);
    throw err;
  }

  // Ctrl-C, a terminal closing or a kill: the turn under way is written as a partial record.
  const openTracing = tracing;
  const keepSignals = stopOnSignals('ask', io, () => openTracing.shutdown());
  const model = values.preset ?? DEFAULT_PRESET_MODEL;
  const messages = [{ role: 'user' as const, content: question }];
  const json = values.json === true;
  let answer = '';
  try {
    if (values.stream) {
      const stream = await client.chat.completions.create({ model, messages, stream: true });
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta.content;
        if (!piece) continue;
        answer += piece;
        if (!json) io.stdout.write(piece);
      }
      if (!json) io.stdout.write('\n');
    } else {
      const response = await client.chat.completions.create({ model, messages });
      answer = response.choices[0]?.message.content ?? '';
      if (!json) io.stdout.write(`${answer}\n`);
    }
  } catch (err) {
    // Already masked of every key the client knows; under `redact`, secret shapes are masked too
    // (a provider that quotes the prompt echoes whatever it held).
    const reason = firstLine(Redactor.from(client.config.redact).text(describeFailure(err)));
    throw new CliError(`the aggregator call failed: ${reason}`, 1);
  } finally {
    await tracing.shutdown();
    keepSignals();
  }
  const sessionFile = tracing.jsonl?.fileFor(sessionId) ?? null;
  if (json) io.stdout.write(`${JSON.stringify({ answer, sessionId, sessionFile })}\n`);
  else if (sessionFile) io.stderr.write(`trace: ${sessionFile}\n`);
  return 0;
}
