/**
 * Every span attribute name moa-otel writes, in one place.
 *
 * GenAI names follow the current OpenTelemetry GenAI semantic conventions
 * (`gen_ai.provider.name`, never the deprecated `gen_ai.system`). They are
 * spelled out here instead of imported from the incubating entry point of
 * `@opentelemetry/semantic-conventions`, which also exports deprecated names
 * and changes between releases.
 */

// --- GenAI semantic conventions ---------------------------------------------
export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const GEN_AI_WORKFLOW_NAME = 'gen_ai.workflow.name';
export const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const GEN_AI_REQUEST_REASONING_LEVEL = 'gen_ai.request.reasoning.level';
export const GEN_AI_TOOL_DEFINITIONS = 'gen_ai.tool.definitions';
/** The span event that carries content when capture is EVENT_ONLY or SPAN_AND_EVENT. */
export const GEN_AI_INFERENCE_DETAILS_EVENT = 'gen_ai.client.inference.operation.details';
export const GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
/** Input tokens INCLUDING cached ones (GenAI meaning). */
export const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
/** Output tokens INCLUDING reasoning ones. */
export const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
/** Released name of the cache-write count (read by Jaeger UI's GenAI view and Phoenix). */
export const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
/** Newest, unreleased name of the same count (under OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental). */
export const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = 'gen_ai.usage.cache_write.input_tokens';
export const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';

/** A call's cost in USD where Langfuse reads it. */
export const GEN_AI_USAGE_COST = 'gen_ai.usage.cost';

// --- OpenInference (Arize Phoenix) -----------------------------------------------
export const OPENINFERENCE_SPAN_KIND = 'openinference.span.kind';
export const OPENINFERENCE_CHAIN = 'CHAIN';
export const INPUT_VALUE = 'input.value';
export const OUTPUT_VALUE = 'output.value';
/** Says the value is text: Phoenix otherwise guesses JSON from a call's response attributes. */
export const INPUT_MIME_TYPE = 'input.mime_type';
export const OUTPUT_MIME_TYPE = 'output.mime_type';
export const MIME_TEXT = 'text/plain';

export const SERVER_ADDRESS = 'server.address';
export const SERVER_PORT = 'server.port';
export const ERROR_TYPE = 'error.type';

export const OPERATION_CHAT = 'chat';
export const OPERATION_INVOKE_WORKFLOW = 'invoke_workflow';
export const WORKFLOW_MOA = 'moa';

// --- moa.* (ours) ------------------------------------------------------------
export const MOA_SESSION_ID = 'moa.session_id';
export const MOA_PRESET = 'moa.preset';
export const MOA_FANOUT = 'moa.fanout';
export const MOA_CACHE = 'moa.cache';
export const MOA_ITERATION = 'moa.iteration';
export const MOA_REFERENCE_COUNT = 'moa.reference.count';
export const MOA_REFERENCE_FAILED = 'moa.reference.failed';
export const MOA_REFERENCE_INDEX = 'moa.reference.index';
/** On a cache HIT's root: how many references' advice it reused; on the aggregator's links to them: `true`. */
export const MOA_REFERENCE_REUSED = 'moa.reference.reused';
/** On the aggregator's links: how the linked reference went when the aggregator started (`ok`, `failed`, `open`). */
export const MOA_REFERENCE_OUTCOME = 'moa.reference.outcome';
/**
 * On the aggregator: the same outcomes as one text in reference order
 * (`ok,failed,ok`). Neither Jaeger UI shows link attributes; both show this.
 */
export const MOA_REFERENCES_OUTCOMES = 'moa.references.outcomes';
/** The span event a failed reference leaves on the aggregator (Jaeger shows events as the span's logs). */
export const MOA_REFERENCE_FAILURE_EVENT = 'moa.reference.failure';
export const MOA_ROLE = 'moa.role';
export const MOA_LABEL = 'moa.label';
/** Live insights on the aggregator span: `moa.insights.reference.<index>.{label,agreement,unique_contribution}` (opt-in, insights_live). */
export const MOA_INSIGHTS_REFERENCE_PREFIX = 'moa.insights.reference.';
export const MOA_COST_USD = 'moa.cost.usd';
export const MOA_COST_STATUS = 'moa.cost.status';
export const MOA_COST_SOURCE = 'moa.cost.source';
/** On the root: false when a call that answered has no known cost, so `moa.cost.usd` is a partial sum. */
export const MOA_COST_COMPLETE = 'moa.cost.complete';
export const MOA_AGGREGATOR_STREAMED = 'moa.aggregator.streamed';
export const MOA_AGGREGATOR_OUTPUT_LOCATION = 'moa.aggregator.output_location';
/** Turn totals live under moa.usage.* so backends never double count gen_ai.usage.*. */
export const MOA_USAGE_INPUT_TOKENS = 'moa.usage.input_tokens';
export const MOA_USAGE_OUTPUT_TOKENS = 'moa.usage.output_tokens';
export const MOA_USAGE_CACHE_READ_INPUT_TOKENS = 'moa.usage.cache_read.input_tokens';
export const MOA_USAGE_CACHE_WRITE_INPUT_TOKENS = 'moa.usage.cache_write.input_tokens';
export const MOA_USAGE_REASONING_OUTPUT_TOKENS = 'moa.usage.reasoning.output_tokens';
/** Set when content on the span was shortened: the display cap (root, `max_content_bytes`) or the OTLP size guard. */
export const MOA_CONTENT_TRUNCATED = 'moa.content.truncated';
export const MOA_CONTENT_ORIGINAL_BYTES = 'moa.content.original_bytes';
/** On replayed spans whose record has no call timings: `synthetic` (the times are placeholders). */
export const MOA_TIMING = 'moa.timing';

/** Attributes that hold message content (masked or dropped by a sink's content policy). */
export const CONTENT_ATTRIBUTES: readonly string[] = [GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_TOOL_DEFINITIONS, INPUT_VALUE, OUTPUT_VALUE];

export const ROLE_REFERENCE = 'reference';
export const ROLE_AGGREGATOR = 'aggregator';

export const ROOT_SPAN_NAME = `${OPERATION_INVOKE_WORKFLOW} ${WORKFLOW_MOA}`;
export const INSTRUMENTATION_SCOPE = 'moa-otel';
