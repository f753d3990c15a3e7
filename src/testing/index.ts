/**
 * `moa-otel/testing`: a scripted OpenAI-compatible model server on 127.0.0.1,
 * for testing MoA code without keys or network (the demo runs on it too).
 */
export {
  startScriptedServer,
  type ScriptedServer, type ScriptedModel, type ScriptedReply, type ScriptedToolCall, type RecordedRequest, type UsageVariant,
} from './scripted-server.js';
