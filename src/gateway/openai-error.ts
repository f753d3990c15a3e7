/**
 * Errors as OpenAI's API sends them: an HTTP status and
 * `{ "error": { "message", "type", "param", "code" } }`. OpenAI client
 * libraries in every language turn that body into their own error classes
 * (`NotFoundError`, `AuthenticationError`, ...), so a caller of the gateway
 * handles a failure exactly as it would one from OpenAI.
 */
import { APIConnectionError, APIConnectionTimeoutError } from 'openai';
import { describeFailure, firstLine, httpStatusOf } from '../base/errors.js';
import { MoaSetupError } from '../client/providers.js';
import { UnsupportedByResponsesError } from '../client/responses-request.js';

export type OpenAiErrorType = 'invalid_request_error' | 'rate_limit_error' | 'server_error' | 'api_error';

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null };
}

export interface GatewayErrorDetails {
  /** Default `invalid_request_error`. */
  type?: OpenAiErrorType;
  code?: string;
  /** The request parameter at fault. */
  param?: string;
  /** Extra response headers (`WWW-Authenticate`, `Allow`, ...). */
  headers?: Readonly<Record<string, string>>;
}

/** A failure the gateway answers with; `message` is shown to the caller, so it never holds a secret or a stack. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly type: OpenAiErrorType;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(readonly status: number, message: string, details: GatewayErrorDetails = {}) {
    super(message);
    this.type = details.type ?? 'invalid_request_error';
    this.code = details.code ?? null;
    this.param = details.param ?? null;
    this.headers = details.headers ?? {};
  }

  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Hides secrets (provider keys, the gateway token) in a text bound for the caller. */
export type SecretMask = (text: string) => string;

/**
 * What the caller is told when a MoA turn could not produce an answer. The
 * references cannot fail a turn (a failed advisor is a note to the
 * aggregator), so this is about the preset or the aggregator call. An
 * upstream 401 or 404 is the gateway's own configuration, not the caller's
 * fault: it becomes a 502 so the caller's client does not blame its own key.
 */
export function errorForFailedTurn(error: unknown, mask: SecretMask): GatewayError {
  if (error instanceof GatewayError) return error;
  // The caller asked for what the aggregator's API cannot give (`n: 2` through the Responses API): its request, its 400.
  if (error instanceof UnsupportedByResponsesError) return new GatewayError(400, error.message, { param: error.param, code: 'unsupported_parameter' });
  if (error instanceof MoaSetupError) {
    return new GatewayError(500, `MoA configuration: ${mask(firstLine(error.message))}`, { type: 'server_error', code: 'moa_setup_error' });
  }
  const reason = mask(firstLine(describeFailure(error)));
  const status = httpStatusOf(error);
  if (status === 400 || status === 413 || status === 422) {
    return new GatewayError(status, `the aggregator rejected the request: ${reason}`, { type: 'invalid_request_error', code: 'upstream_invalid_request' });
  }
  if (status === 429) return new GatewayError(429, `the aggregator is rate limited: ${reason}`, { type: 'rate_limit_error', code: 'upstream_rate_limited' });
  if (status !== undefined) return new GatewayError(502, `the aggregator call failed: ${reason}`, { type: 'api_error', code: 'upstream_error' });
  // The timeout class extends the connection class: test it first.
  if (error instanceof APIConnectionTimeoutError) return new GatewayError(504, `the aggregator timed out: ${reason}`, { type: 'api_error', code: 'upstream_timeout' });
  if (error instanceof APIConnectionError) return new GatewayError(502, `the aggregator is unreachable: ${reason}`, { type: 'api_error', code: 'upstream_unreachable' });
  return new GatewayError(500, `the MoA turn failed: ${reason}`, { type: 'server_error', code: 'internal_error' });
}

/** The aggregator's stream broke off after the caller got the first events: an upstream failure, told in an error event. */
export function errorForBrokenStream(error: unknown, mask: SecretMask): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(502, `the aggregator stream broke off: ${mask(firstLine(describeFailure(error)))}`, { type: 'api_error', code: 'upstream_stream_error' });
}
