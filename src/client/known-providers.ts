/**
 * Providers the original agent knows by name, so a preset written for it
 * (`provider: openrouter`) works without a `providers:` section: the real
 * OpenAI-compatible base URL, the key from the environment variables the
 * original reads (first one set wins), and the variable that overrides the
 * base URL (names and URLs from the original's provider registry). The ones
 * it reaches only by signing in (OAuth: `openai-codex`, `xai-oauth`, ...)
 * are listed with `signIn`: moa-otel cannot use such a session, so a slot
 * naming one fails with that reason unless a `providers:` entry of the same
 * name gives a base URL and key.
 */
export interface KnownProvider {
  /** Empty when the user must give the endpoint (`baseURLEnv`). */
  baseURL: string;
  /** Variables holding the key, in the order the original reads them. */
  keyEnv: readonly string[];
  /** Variable that overrides the base URL. */
  baseURLEnv?: string;
  /** GenAI `gen_ai.provider.name`. */
  genAiProvider: string;
  /** A local server may run without a key. */
  keyOptional?: boolean;
  /** The Responses API instead of chat completions (the original's `codex_responses` transport). */
  api?: 'responses';
  /** Reached only by signing in (OAuth, an external process, cloud SDK credentials): how the original does it. */
  signIn?: string;
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
  copilot: { baseURL: 'https://api.githubcopilot.com', keyEnv: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'], baseURLEnv: 'COPILOT_API_BASE_URL', genAiProvider: 'github_copilot' },
  // The endpoint is the user's own resource: no default.
  'azure-foundry': { baseURL: '', keyEnv: ['AZURE_FOUNDRY_API_KEY'], baseURLEnv: 'AZURE_FOUNDRY_BASE_URL', genAiProvider: 'azure.ai.openai' },
  // MiniMax's OpenAI-compatible endpoint (the original speaks its Anthropic-style one).
  minimax: { baseURL: 'https://api.minimax.io/v1', keyEnv: ['MINIMAX_API_KEY'], baseURLEnv: 'MINIMAX_BASE_URL', genAiProvider: 'minimax' },
  'minimax-cn': { baseURL: 'https://api.minimaxi.com/v1', keyEnv: ['MINIMAX_CN_API_KEY'], baseURLEnv: 'MINIMAX_CN_BASE_URL', genAiProvider: 'minimax' },
  'ollama-cloud': { baseURL: 'https://ollama.com/v1', keyEnv: ['OLLAMA_API_KEY'], baseURLEnv: 'OLLAMA_BASE_URL', genAiProvider: 'ollama' },
  deepinfra: { baseURL: 'https://api.deepinfra.com/v1/openai', keyEnv: ['DEEPINFRA_API_KEY'], baseURLEnv: 'DEEPINFRA_BASE_URL', genAiProvider: 'deepinfra' },
  arcee: { baseURL: 'https://api.arcee.ai/api/v1', keyEnv: ['ARCEEAI_API_KEY'], baseURLEnv: 'ARCEE_BASE_URL', genAiProvider: 'arcee' },
  stepfun: { baseURL: 'https://api.stepfun.ai/step_plan/v1', keyEnv: ['STEPFUN_API_KEY'], baseURLEnv: 'STEPFUN_BASE_URL', genAiProvider: 'stepfun' },
  gmi: { baseURL: 'https://api.gmi-serving.com/v1', keyEnv: ['GMI_API_KEY'], baseURLEnv: 'GMI_BASE_URL', genAiProvider: 'gmi' },
  'alibaba-coding-plan': { baseURL: 'https://coding-intl.dashscope.aliyuncs.com/v1', keyEnv: ['ALIBABA_CODING_PLAN_API_KEY', 'DASHSCOPE_API_KEY'], baseURLEnv: 'ALIBABA_CODING_PLAN_BASE_URL', genAiProvider: 'alibaba' },
  'opencode-zen': { baseURL: 'https://opencode.ai/zen/v1', keyEnv: ['OPENCODE_ZEN_API_KEY'], baseURLEnv: 'OPENCODE_ZEN_BASE_URL', genAiProvider: 'opencode' },
  'opencode-go': { baseURL: 'https://opencode.ai/zen/go/v1', keyEnv: ['OPENCODE_GO_API_KEY'], baseURLEnv: 'OPENCODE_GO_BASE_URL', genAiProvider: 'opencode' },
  kilocode: { baseURL: 'https://api.kilo.ai/api/gateway', keyEnv: ['KILOCODE_API_KEY'], baseURLEnv: 'KILOCODE_BASE_URL', genAiProvider: 'kilocode' },
  'tencent-tokenhub': { baseURL: 'https://tokenhub.tencentmaas.com/v1', keyEnv: ['TOKENHUB_API_KEY'], baseURLEnv: 'TOKENHUB_BASE_URL', genAiProvider: 'tencent' },
  // Reached only by signing in to the original agent.
  'openai-codex': { baseURL: 'https://chatgpt.com/backend-api/codex', keyEnv: [], genAiProvider: 'openai', api: 'responses', signIn: 'a ChatGPT sign-in (OAuth)' },
  'xai-oauth': { baseURL: 'https://api.x.ai/v1', keyEnv: [], baseURLEnv: 'XAI_BASE_URL', genAiProvider: 'x_ai', api: 'responses', signIn: 'an xAI Grok sign-in (OAuth)' },
  'qwen-oauth': { baseURL: 'https://portal.qwen.ai/v1', keyEnv: [], baseURLEnv: 'HERMES_QWEN_BASE_URL', genAiProvider: 'alibaba', signIn: 'a Qwen sign-in (OAuth)' },
  'google-gemini-cli': { baseURL: '', keyEnv: [], genAiProvider: 'gcp.gemini', signIn: 'a Google sign-in (OAuth, Cloud Code Assist)' },
  'minimax-oauth': { baseURL: 'https://api.minimax.io/anthropic', keyEnv: [], genAiProvider: 'minimax', signIn: 'a MiniMax sign-in (OAuth)' },
  'copilot-acp': { baseURL: '', keyEnv: [], genAiProvider: 'github_copilot', signIn: 'the Copilot CLI as an external process' },
  bedrock: { baseURL: '', keyEnv: [], genAiProvider: 'aws.bedrock', signIn: 'AWS SDK credentials (Bedrock Converse)' },
};

/**
 * Other names the original accepts for the providers above (its alias table),
 * matched case-insensitively. Its bare `openai` → OpenRouter alias is not
 * taken: here `openai` is OpenAI's own API, as the table above says.
 */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  glm: 'zai', 'z-ai': 'zai', 'z.ai': 'zai', zhipu: 'zai',
  'x-ai': 'xai', 'x.ai': 'xai', grok: 'xai',
  'grok-oauth': 'xai-oauth', 'x-ai-oauth': 'xai-oauth', 'xai-grok-oauth': 'xai-oauth',
  nim: 'nvidia', 'nvidia-nim': 'nvidia', 'build-nvidia': 'nvidia', nemotron: 'nvidia',
  kimi: 'kimi-coding', moonshot: 'kimi-coding', 'kimi-for-coding': 'kimi-coding',
  claude: 'anthropic', 'claude-code': 'anthropic',
  'github-copilot': 'copilot', github: 'copilot', 'github-copilot-acp': 'copilot-acp',
  'deep-seek': 'deepseek',
  dashscope: 'alibaba', aliyun: 'alibaba', qwen: 'alibaba', 'alibaba-cloud': 'alibaba',
  alibaba_coding: 'alibaba-coding-plan', 'alibaba-coding': 'alibaba-coding-plan', alibaba_coding_plan: 'alibaba-coding-plan',
  'gemini-cli': 'google-gemini-cli', 'gemini-oauth': 'google-gemini-cli',
  hf: 'huggingface', 'hugging-face': 'huggingface', 'huggingface-hub': 'huggingface',
  mimo: 'xiaomi', 'xiaomi-mimo': 'xiaomi',
  tencent: 'tencent-tokenhub', tokenhub: 'tencent-tokenhub', 'tencent-cloud': 'tencent-tokenhub', tencentmaas: 'tencent-tokenhub',
  aws: 'bedrock', 'aws-bedrock': 'bedrock', 'amazon-bedrock': 'bedrock', amazon: 'bedrock',
  'arcee-ai': 'arcee', arceeai: 'arcee',
  'gmi-cloud': 'gmi', gmicloud: 'gmi',
  'lm-studio': 'lmstudio', lm_studio: 'lmstudio',
  kilo: 'kilocode', 'kilo-code': 'kilocode', 'kilo-gateway': 'kilocode',
  opencode: 'opencode-zen', zen: 'opencode-zen', go: 'opencode-go', 'opencode-go-sub': 'opencode-go',
  'deep-infra': 'deepinfra', 'deepinfra-ai': 'deepinfra',
  'minimax-china': 'minimax-cn', minimax_cn: 'minimax-cn',
  step: 'stepfun', 'stepfun-coding-plan': 'stepfun',
};

/** The known provider a slot's name means: its own entry, else through an alias, case-insensitively. */
export function knownProvider(name: string): KnownProvider | undefined {
  if (Object.hasOwn(KNOWN_PROVIDERS, name)) return KNOWN_PROVIDERS[name];
  const key = name.trim().toLowerCase();
  const canonical = Object.hasOwn(PROVIDER_ALIASES, key) ? PROVIDER_ALIASES[key]! : key;
  return Object.hasOwn(KNOWN_PROVIDERS, canonical) ? KNOWN_PROVIDERS[canonical] : undefined;
}
