// Built-in defaults: the bottom layer of every merge. Anything a user leaves out comes from here.

import type {
  AgentConfig,
  AgentFile,
  ProjectSettings,
  SchedulerConfig,
  ServerConfig,
} from './schema.js';
import type { TaskState } from '../core/types.js';
import { DEFAULT_APPROVAL_SETTINGS } from '../core/approvals.js';

/**
 * The kinds of agent Orch knows how to drive (`command` runs any program). Here, not in schema.ts, so
 * that resolving a config does not load zod.
 */
export const AGENT_KINDS = ['claude', 'codex', 'opencode', 'gemini', 'command'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

export const DEFAULT_SCHEDULER: SchedulerConfig = { maxAgents: 4, tickIntervalS: 10, leaseS: 120, maxRouters: 2, hostName: null };

/** Loopback only: the API can start agents, so exposing it is a deliberate act. */
export const DEFAULT_SERVER: ServerConfig = { host: '127.0.0.1', port: 7878 };

/** Seconds between a tracker's syncs when nothing (a webhook, a file moved in a markdown queue) asks sooner. */
export const DEFAULT_TRACKER_POLL_S = 30;

/** Where the GitHub tracker finds its token, and which API it talks to, unless the config says otherwise. */
export const DEFAULT_GITHUB_TOKEN_ENV = 'GITHUB_TOKEN';
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** The Linear tracker's defaults: where its key is, which API, which states mean ready, where tasks move issues. */
export const DEFAULT_LINEAR_TOKEN_ENV = 'LINEAR_API_KEY';
export const DEFAULT_LINEAR_API_URL = 'https://api.linear.app/graphql';
export const DEFAULT_LINEAR_READY_STATES: readonly string[] = ['Todo'];
export const DEFAULT_LINEAR_STATE_MAP: Readonly<Partial<Record<TaskState, string>>> = {
  running: 'In Progress',
  in_review: 'In Review',
  needs_review: 'In Review',
  done: 'Done',
  cancelled: 'Canceled',
};

export const DEFAULT_PROJECT_SETTINGS: ProjectSettings = {
  priority: 0,
  maxAgents: 2,
  agents: ['claude'],
  tracker: { kind: 'local', pollIntervalS: DEFAULT_TRACKER_POLL_S },
  mergeStrategy: 'direct',
  maxAttempts: 3,
  backoff: { baseS: 30, capS: 3600, jitter: 0.2 },
  budget: { dailyUsd: null, taskUsd: null, runUsd: null },
  backpressure: { maxQueued: null, maxOpenPrs: null, maxNeedsReview: null },
  pullRequests: { autoMerge: null, rerunFailedJobs: true, ciRounds: 3, reviewRounds: 3, reviewers: [], github: { repo: null, apiUrl: null, tokenEnv: null } },
  ports: { base: 41000, stride: 10, count: 10 },
  judge: { test: null, lint: null, timeoutS: 900, scope: { maxFiles: null, allowedPaths: null, forbiddenPaths: [] }, review: { agent: null, rounds: 2 } },
  hooks: { afterCreate: null, beforeRun: null, afterRun: null, beforeRemove: null, timeoutS: 120 },
  run: { timeoutS: 3600, stallS: 600, maxTurns: null, cooldownS: 60, maxOutputMb: 200 },
  sandbox: 'on',
  network: 'model-only',
  sandboxPaths: [],
  copyFiles: [],
  mode: 'push',
  routing: { router: null, weights: {}, useScoreboard: false, modelMap: {} },
  prompts: {},
  approvals: DEFAULT_APPROVAL_SETTINGS,
};

/** What one agent run may print (stdout and stderr together) before it is stopped as `output_limit`. */
export const DEFAULT_MAX_OUTPUT_BYTES = 200 * 1024 * 1024;

/** A router's limits when the config names only its agent. */
export const DEFAULT_ROUTER = { timeoutS: 120, attempts: 2 };

/** The executable each known CLI installs. `command` agents have none: they must name their own. */
export const AGENT_EXECUTABLES: Record<Exclude<AgentKind, 'command'>, string> = {
  claude: 'claude',
  codex: 'codex',
  opencode: 'opencode',
  gemini: 'gemini',
};

/** Agents that exist without any config, in file form so a config's `agents:` entries merge over them. */
export const BUILT_IN_AGENTS: Record<string, AgentFile> = {
  claude: { kind: 'claude' },
  codex: { kind: 'codex' },
  opencode: { kind: 'opencode' },
  gemini: { kind: 'gemini' },
};

export const DEFAULT_AGENT_SETTINGS: Required<Pick<AgentConfig, 'model' | 'maxConcurrent' | 'nice' | 'env' | 'args'>> = {
  model: null,
  maxConcurrent: 4,
  nice: 10,
  env: [],
  args: [],
};
