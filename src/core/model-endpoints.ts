// Where each agent CLI's model API lives: what a `model-only` sandbox lets a run reach. A base URL the
// agent's environment sets (a gateway, a test server) takes the place of the vendor's own.

type Kind = 'claude' | 'codex' | 'opencode' | 'gemini' | 'command';

const VENDOR_ENDPOINTS: Readonly<Record<Kind, readonly string[]>> = {
  claude: ['https://api.anthropic.com'],
  codex: ['https://api.openai.com', 'https://chatgpt.com'],
  gemini: ['https://generativelanguage.googleapis.com', 'https://cloudcode-pa.googleapis.com', 'https://oauth2.googleapis.com'],
  opencode: ['https://api.anthropic.com', 'https://api.openai.com', 'https://generativelanguage.googleapis.com', 'https://openrouter.ai'],
  command: [],
};

/** Variables the CLIs read for a different API address. */
const BASE_URL_VARIABLES = ['ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL', 'GOOGLE_GEMINI_BASE_URL', 'GEMINI_BASE_URL', 'OPENROUTER_BASE_URL'];

/** The origins (scheme://host[:port]) the agent's model API is reached at. */
export function modelEndpointsOf(kind: Kind, env: Readonly<Record<string, string | undefined>>): string[] {
  const configured = BASE_URL_VARIABLES.map((name) => env[name]).filter((value): value is string => typeof value === 'string' && value !== '');
  const origins = configured.map(originOf).filter((origin): origin is string => origin !== null);
  return [...new Set([...origins, ...VENDOR_ENDPOINTS[kind]])];
}

function originOf(url: string): string | null {
  const match = /^(https?):\/\/([^/?#]+)/i.exec(url.trim());
  return match ? `${match[1]!.toLowerCase()}://${match[2]!.toLowerCase()}` : null;
}
