/** The OpenAI-compatible MoA gateway behind `moa-otel serve`. */
export {
  createMoaGateway, DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, GatewayListenError,
  type MoaGateway, type MoaGatewayOptions,
} from './server.js';
export { conversationSessionId, requestSession, SESSION_HEADER, type RequestSession, type SessionSource } from './session-id.js';
export { GatewayError, type OpenAiErrorBody } from './openai-error.js';
export { PRESET_MODEL_PREFIX, presetProblems, type PresetProblem } from './models.js';
