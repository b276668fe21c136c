// How the rig runs each real CLI headless against a fake model server: argv, environment and config files,
// as measured against the pinned CLIs. The rig's own reference invocations, independent of Orch's adapters,
// so a rig failure and an adapter failure can be told apart.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cliPath, type AgentCliKind } from './agent-clis.js';

export interface HeadlessRunOptions {
  prompt: string;
  /** The fake server's base URL, `http://127.0.0.1:PORT`. */
  serverUrl: string;
  /** The git worktree the agent works in. */
  cwd: string;
  /** A private directory for the run: HOME and every CLI config/state directory go inside it. */
  runHome: string;
  model?: string;
  /** How often the CLI retries a failed model request (Claude honours it; the others get it where they can). */
  maxRetries?: number;
}

export interface CliInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Config files to write before spawning, absolute paths. */
  files: { path: string; content: string }[];
}

const API_KEY_VARIABLE = 'FAKE_MODEL_API_KEY';
const FAKE_API_KEY = 'fake-key-not-secret';

export function headlessInvocation(kind: AgentCliKind, options: HeadlessRunOptions): CliInvocation {
  const base = baseEnvironment(options.runHome);
  switch (kind) {
    case 'claude':
      return claude(options, base);
    case 'codex':
      return codex(options, base);
    case 'opencode':
      return opencode(options, base);
    case 'gemini':
      return gemini(options, base);
  }
}

/** Writes the invocation's config files (creating their directories) and the run home. */
export function writeInvocationFiles(invocation: CliInvocation, runHome: string): void {
  mkdirSync(runHome, { recursive: true });
  for (const file of invocation.files) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content);
  }
}

/** Only what a CLI needs from the machine: nothing of the developer's own keys or config leaks into a run. */
function baseEnvironment(runHome: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: runHome,
    XDG_CONFIG_HOME: join(runHome, '.config'),
    XDG_DATA_HOME: join(runHome, '.local', 'share'),
    XDG_STATE_HOME: join(runHome, '.local', 'state'),
    XDG_CACHE_HOME: join(runHome, '.cache'),
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    CI: '1',
    GIT_AUTHOR_NAME: 'Orch Test',
    GIT_AUTHOR_EMAIL: 'test@orch.invalid',
    GIT_COMMITTER_NAME: 'Orch Test',
    GIT_COMMITTER_EMAIL: 'test@orch.invalid',
  };
}

function claude(options: HeadlessRunOptions, base: Record<string, string>): CliInvocation {
  return {
    command: cliPath('claude'),
    args: [
      '-p',
      options.prompt,
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      options.model ?? 'fake-model',
      // bypassPermissions refuses to start as root; dontAsk with an allow-list works everywhere.
      '--permission-mode',
      'dontAsk',
      '--allowedTools',
      'Write,Edit,Bash,Read',
    ],
    env: {
      ...base,
      CLAUDE_CONFIG_DIR: join(options.runHome, '.claude'),
      ANTHROPIC_BASE_URL: options.serverUrl,
      ANTHROPIC_API_KEY: FAKE_API_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      ...(options.maxRetries === undefined ? {} : { CLAUDE_CODE_MAX_RETRIES: String(options.maxRetries) }),
    },
    files: [],
  };
}

function codex(options: HeadlessRunOptions, base: Record<string, string>): CliInvocation {
  const retries = options.maxRetries ?? 0;
  const settings = [
    `model="${options.model ?? 'fake-model'}"`,
    'model_provider="fake"',
    'model_providers.fake.name="fake"',
    `model_providers.fake.base_url="${options.serverUrl}/v1"`,
    `model_providers.fake.env_key="${API_KEY_VARIABLE}"`,
    'model_providers.fake.wire_api="responses"',
    `model_providers.fake.request_max_retries=${retries}`,
    `model_providers.fake.stream_max_retries=${retries}`,
    'analytics.enabled=false',
  ];
  return {
    command: cliPath('codex'),
    // Codex's own sandbox off, as Orch runs it inside its bubblewrap sandbox: where bubblewrap is
    // installed Codex's workspace-write sandbox runs through it and cannot write under a CODEX_HOME in /tmp.
    args: ['exec', '--json', ...settings.flatMap((setting) => ['-c', setting]), '--disable', 'plugins', '-s', 'danger-full-access', options.prompt],
    env: { ...base, CODEX_HOME: join(options.runHome, 'codex'), [API_KEY_VARIABLE]: FAKE_API_KEY },
    // CODEX_HOME must exist; everything else is set with -c above.
    files: [{ path: join(options.runHome, 'codex', 'config.toml'), content: '# Settings are passed with -c.\n' }],
  };
}

function opencode(options: HeadlessRunOptions, base: Record<string, string>): CliInvocation {
  const model = options.model ?? 'fake-model';
  // Config through the environment keeps the worktree free of an opencode.json.
  const config = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: `anthropic/${model}`,
    provider: {
      anthropic: {
        options: { baseURL: `${options.serverUrl}/v1`, apiKey: FAKE_API_KEY, maxRetries: options.maxRetries ?? 0 },
        models: { [model]: { name: 'Fake model' } },
      },
    },
    permission: { edit: 'allow', bash: 'allow', webfetch: 'deny' },
  };
  return {
    command: cliPath('opencode'),
    args: ['run', '--format', 'json', options.prompt],
    env: {
      ...base,
      OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_SHARE: '1',
      // OpenCode always installs @opencode-ai/plugin into its config directory in the background, from
      // npm's configured registry: point that at the fake server, which answers 404, so it never leaves the host.
      npm_config_registry: `${options.serverUrl}/npm-registry/`,
    },
    files: [],
  };
}

function gemini(options: HeadlessRunOptions, base: Record<string, string>): CliInvocation {
  const settings = {
    // Without a selected auth type Gemini CLI exits 41 before calling any model.
    security: { auth: { selectedType: 'gemini-api-key' } },
    // Usage statistics go to play.googleapis.com and the update check to the npm registry.
    privacy: { usageStatisticsEnabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  };
  return {
    command: cliPath('gemini'),
    args: ['-p', options.prompt, '-o', 'stream-json', '--yolo', '--skip-trust', '-m', options.model ?? 'fake-gemini'],
    env: { ...base, GEMINI_API_KEY: FAKE_API_KEY, GOOGLE_GEMINI_BASE_URL: options.serverUrl },
    files: [{ path: join(options.runHome, '.gemini', 'settings.json'), content: JSON.stringify(settings) }],
  };
}
