// Where each agent CLI's model API lives: what a `model-only` sandbox lets a run reach. A base URL the
// run's environment sets (a gateway, a test server) takes the place of the vendor's own.

type Kind = 'claude' | 'codex' | 'opencode' | 'gemini' | 'command';

/** The vendor's API, and the sign-in services its CLI uses when no API key is given. */
const VENDOR_ENDPOINTS: Readonly<Record<Kind, readonly string[]>> = {
  claude: ['https://api.anthropic.com'],
  codex: ['https://api.openai.com', 'https://chatgpt.com'],
  gemini: ['https://generativelanguage.googleapis.com', 'https://cloudcode-pa.googleapis.com', 'https://oauth2.googleapis.com'],
  opencode: [],
  command: [],
};

/** OpenCode talks to the provider its `provider/model` names (anthropic when none is named). */
const OPENCODE_PROVIDERS: Readonly<Record<string, string>> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com',
  google: 'https://generativelanguage.googleapis.com',
  openrouter: 'https://openrouter.ai',
};

/**
 * The variables each CLI's adapter (agents/) reads its model base URL from. Any other `…BASE_URL`
 * variable in the run's environment counts too: a person who points an agent at a gateway names it there.
 */
const BASE_URL_VARIABLES: Readonly<Record<Kind, readonly string[]>> = {
  claude: ['ANTHROPIC_BASE_URL'],
  codex: ['ORCH_CODEX_BASE_URL', 'OPENAI_BASE_URL'],
  opencode: ['ORCH_OPENCODE_BASE_URL'],
  gemini: ['GOOGLE_GEMINI_BASE_URL', 'GEMINI_BASE_URL'],
  command: [],
};

/**
 * The base URLs an agent of `kind` talks to, from the run's environment (the agent config's `env`
 * resolved) and its model: the kind's own variables and every other `…BASE_URL` holding an http(s) URL;
 * when none is set, the vendor's API. Unique, in that order.
 */
export function modelEndpointsOf(kind: Kind, env: Readonly<Record<string, string | undefined>>, model: string | null = null): string[] {
  const urls: string[] = [];
  const add = (value: string | undefined) => {
    const url = value?.trim();
    if (url && /^https?:\/\//i.test(url) && !urls.includes(url)) urls.push(url);
  };
  for (const name of BASE_URL_VARIABLES[kind]) add(env[name]);
  for (const [name, value] of Object.entries(env)) if (/BASE_URL$/.test(name)) add(value);
  if (urls.length > 0) return urls;
  if (kind !== 'opencode') return [...VENDOR_ENDPOINTS[kind]];
  const provider = model !== null && model.includes('/') ? model.slice(0, model.indexOf('/')) : 'anthropic';
  const fallback = OPENCODE_PROVIDERS[provider];
  return fallback === undefined ? [] : [fallback];
}
