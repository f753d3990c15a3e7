/**
 * Providers the original agent knows by name, so a preset written for it
 * (`provider: openrouter`) works without a `providers:` section: the real
 * OpenAI-compatible base URL, the key from the environment variables the
 * original reads (first one set wins), and the variable that overrides the
 * base URL. Only providers with an OpenAI-compatible chat-completions
 * endpoint and a plain API key are here; the original's OAuth-only ones
 * (`openai-codex`, `copilot`, ...) need a `providers:` entry of your own.
 */
export interface KnownProvider {
  baseURL: string;
  /** Variables holding the key, in the order the original reads them. */
  keyEnv: readonly string[];
  /** Variable that overrides the base URL. */
  baseURLEnv?: string;
  /** GenAI `gen_ai.provider.name`. */
  genAiProvider: string;
  /** A local server may run without a key. */
  keyOptional?: boolean;
}

const OPENAI: KnownProvider = { baseURL: 'https://api.openai.com/v1', keyEnv: ['OPENAI_API_KEY'], baseURLEnv: 'OPENAI_BASE_URL', genAiProvider: 'openai' };
const KIMI: KnownProvider = { baseURL: 'https://api.moonshot.ai/v1', keyEnv: ['KIMI_API_KEY', 'KIMI_CODING_API_KEY'], baseURLEnv: 'KIMI_BASE_URL', genAiProvider: 'moonshot' };
const ZAI: KnownProvider = { baseURL: 'https://api.z.ai/api/paas/v4', keyEnv: ['GLM_API_KEY', 'ZAI_API_KEY', 'Z_AI_API_KEY'], baseURLEnv: 'GLM_BASE_URL', genAiProvider: 'zai' };

export const KNOWN_PROVIDERS: Readonly<Record<string, KnownProvider>> = {
  openrouter: { baseURL: 'https://openrouter.ai/api/v1', keyEnv: ['OPENROUTER_API_KEY'], baseURLEnv: 'OPENROUTER_BASE_URL', genAiProvider: 'openrouter' },
  openai: OPENAI,
  'openai-api': OPENAI,
  // Anthropic's OpenAI SDK compatibility endpoint (the original speaks its native API instead).
  anthropic: { baseURL: 'https://api.anthropic.com/v1', keyEnv: ['ANTHROPIC_API_KEY', 'ANTHROPIC_TOKEN'], baseURLEnv: 'ANTHROPIC_BASE_URL', genAiProvider: 'anthropic' },
  nous: { baseURL: 'https://inference-api.nousresearch.com/v1', keyEnv: ['NOUS_API_KEY'], genAiProvider: 'nous' },
  deepseek: { baseURL: 'https://api.deepseek.com/v1', keyEnv: ['DEEPSEEK_API_KEY'], baseURLEnv: 'DEEPSEEK_BASE_URL', genAiProvider: 'deepseek' },
  xai: { baseURL: 'https://api.x.ai/v1', keyEnv: ['XAI_API_KEY'], baseURLEnv: 'XAI_BASE_URL', genAiProvider: 'x_ai' },
  // Gemini's OpenAI-compatible endpoint.
  gemini: { baseURL: 'https://generativelanguage.googleapis.com/v1beta/openai', keyEnv: ['GOOGLE_API_KEY', 'GEMINI_API_KEY'], baseURLEnv: 'GEMINI_BASE_URL', genAiProvider: 'gcp.gemini' },
  zai: ZAI,
  'kimi-coding': KIMI,
  'kimi-coding-cn': { baseURL: 'https://api.moonshot.cn/v1', keyEnv: ['KIMI_CN_API_KEY'], genAiProvider: KIMI.genAiProvider },
  alibaba: { baseURL: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1', keyEnv: ['DASHSCOPE_API_KEY'], baseURLEnv: 'DASHSCOPE_BASE_URL', genAiProvider: 'alibaba' },
  nvidia: { baseURL: 'https://integrate.api.nvidia.com/v1', keyEnv: ['NVIDIA_API_KEY'], baseURLEnv: 'NVIDIA_BASE_URL', genAiProvider: 'nvidia' },
  huggingface: { baseURL: 'https://router.huggingface.co/v1', keyEnv: ['HF_TOKEN'], baseURLEnv: 'HF_BASE_URL', genAiProvider: 'huggingface' },
  'ai-gateway': { baseURL: 'https://ai-gateway.vercel.sh/v1', keyEnv: ['AI_GATEWAY_API_KEY'], baseURLEnv: 'AI_GATEWAY_BASE_URL', genAiProvider: 'vercel' },
  xiaomi: { baseURL: 'https://api.xiaomimimo.com/v1', keyEnv: ['XIAOMI_API_KEY'], baseURLEnv: 'XIAOMI_BASE_URL', genAiProvider: 'xiaomi' },
  lmstudio: { baseURL: 'http://127.0.0.1:1234/v1', keyEnv: ['LM_API_KEY'], baseURLEnv: 'LM_BASE_URL', genAiProvider: 'lmstudio', keyOptional: true },
};
