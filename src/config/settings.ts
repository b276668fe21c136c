// The resolved configuration: what the code reads once config.yaml, orch.yaml and the defaults are
// merged (config/resolve.ts). The file formats they come from are config/schema.ts.

import type { ApprovalSettings } from '../core/approvals.js';
import type { RoleTemplateName } from '../core/roles.js';
import type { ScopeRules } from '../core/scope.js';
import type { NetworkMode, SandboxSwitch } from '../core/sandbox-policy.js';
import type { Complexity, MergeStrategy, ProjectMode, TaskState } from '../core/types.js';
import type { NotificationKind } from '../core/notifications.js';
import type { AgentKind } from './schema.js';
import type { NotificationChannelFile } from './notification-schema.js';

export type Command = string[] | { shell: string };

export type TrackerConfig =
  | { kind: 'local'; pollIntervalS: number }
  | { kind: 'markdown'; dir: string; pollIntervalS: number }
  | GitHubTrackerConfig
  | LinearTrackerConfig;

export interface GitHubTrackerConfig {
  kind: 'github';
  /** Seconds between syncs when nothing asks for one sooner. */
  pollIntervalS: number;
  /** owner/name */
  repo: string;
  labels: string[];
  /** null: any assignee. */
  assignee: string | null;
  /** Empty: issues by anyone, mentions by owners, members and collaborators. */
  authors: string[];
  /** The environment variable holding the token (the token itself never enters the config). */
  tokenEnv: string;
  apiUrl: string;
}

export interface LinearTrackerConfig {
  kind: 'linear';
  /** Seconds between syncs when nothing asks for one sooner. */
  pollIntervalS: number;
  /** The team's key, e.g. ENG. */
  team: string;
  labels: string[];
  /** Workflow state names that mean "ready for Orch". */
  states: string[];
  /** The workflow state name each task state moves the issue to; a task state left out moves nothing. */
  stateMap: Partial<Record<TaskState, string>>;
  /** The environment variable holding the API key (the key itself never enters the config). */
  tokenEnv: string;
  apiUrl: string;
}

/** A project's settings with every default filled in. `null` means "none" / "no limit". */
export interface ProjectSettings {
  priority: number;
  maxAgents: number;
  agents: string[];
  tracker: TrackerConfig;
  mergeStrategy: MergeStrategy;
  maxAttempts: number;
  backoff: { baseS: number; capS: number; jitter: number };
  budget: { dailyUsd: number | null; taskUsd: number | null; runUsd: number | null };
  backpressure: { maxQueued: number | null; maxOpenPrs: number | null; maxNeedsReview: number | null };
  pullRequests: PullRequestSettings;
  ports: { base: number; stride: number; count: number };
  judge: { test: Command | null; lint: Command | null; timeoutS: number; scope: ScopeRules; review: { agent: string | null; rounds: number } };
  hooks: {
    afterCreate: Command | null;
    beforeRun: Command | null;
    afterRun: Command | null;
    beforeRemove: Command | null;
    timeoutS: number;
  };
  run: { timeoutS: number; stallS: number; maxTurns: number | null; cooldownS: number; maxOutputMb: number };
  /** Whether runs are sandboxed (docs/SANDBOX.md). */
  sandbox: SandboxSwitch;
  network: NetworkMode;
  /** Extra read-only paths inside the sandbox, absolute (`~` expanded). */
  sandboxPaths: string[];
  copyFiles: string[];
  mode: ProjectMode;
  routing: RoutingSettings;
  /** Role template files by template name (relative to the repository root, or absolute). */
  prompts: Partial<Record<RoleTemplateName, string>>;
  /** People in the loop: permission requests and questions (docs/APPROVALS.md). */
  approvals: ApprovalSettings;
}

export interface PullRequestSettings {
  autoMerge: 'squash' | 'merge' | 'rebase' | null;
  rerunFailedJobs: boolean;
  ciRounds: number;
  reviewRounds: number;
  /** Logins who may ask for changes; empty: the repository's owners, members and collaborators. */
  reviewers: string[];
  /** For a project whose tracker is not GitHub: where its pull requests go; nulls take the defaults. */
  github: { repo: string | null; apiUrl: string | null; tokenEnv: string | null };
}

export interface RouterSettings {
  agent: string;
  timeoutS: number;
  attempts: number;
}

export interface RoutingSettings {
  /** null: no LLM router; the round robin routes. */
  router: RouterSettings | null;
  /** Round-robin weight per agent; an agent not named weighs 1. */
  weights: Record<string, number>;
  useScoreboard: boolean;
  modelMap: Partial<Record<Complexity, Record<string, string>>>;
}

export interface ProjectConfig extends ProjectSettings {
  name: string;
  /** Absolute path of the user's repository (`~` expanded), or null for a remote-only project. */
  path: string | null;
  remote: string | null;
  /** null: use the repository's HEAD branch. */
  defaultBranch: string | null;
  /** The orch.yaml that was merged in, or null when the repository has none. */
  projectFile: string | null;
}

export interface AgentConfig {
  name: string;
  kind: AgentKind;
  command: string;
  /** null: the CLI's own default model. */
  model: string | null;
  maxConcurrent: number;
  /** Steps below Orch's own priority its runs get (`nice`); absent or 0: the same. */
  nice?: number;
  /** `NAME` (pass through from Orch's environment) or `NAME=value`. */
  env: string[];
  args: string[];
}

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

export interface SchedulerConfig {
  maxAgents: number;
  tickIntervalS: number;
  leaseS: number;
  /** Router runs at once across all projects. */
  maxRouters: number;
  /** The daemon's name among the hosts sharing the store; null: the machine's name, suffixed when taken. */
  hostName: string | null;
}

export interface ServerConfig {
  host: string;
  port: number;
}

/** Where a webhook source's secret is found; null: that source's endpoint is off. */
export interface WebhooksConfig {
  github: { secretEnv: string } | null;
  linear: { secretEnv: string } | null;
}

/** One channel of `notifications:`, its shared settings resolved. */
export interface NotificationChannelConfig {
  name: string;
  kind: NotificationChannelFile['kind'];
  /** Only these projects' notices; null: every project. */
  projects: string[] | null;
  events: NotificationKind[];
  quietS: number;
  /** Base of the links in its messages. */
  dashboardUrl: string;
  digestHourUtc: number;
  /** The channel as written: its notifier reads its own keys (URL, token variable, SMTP server) from it. */
  target: NotificationChannelFile;
}

export interface OrchConfig {
  home: string;
  configPath: string;
  /** config.yaml's database_url: PostgreSQL instead of SQLite (ORCH_DATABASE_URL wins over it). */
  databaseUrl: string | null;
  scheduler: SchedulerConfig;
  server: ServerConfig;
  webhooks: WebhooksConfig;
  notifications: NotificationChannelConfig[];
  agents: Record<string, AgentConfig>;
  prices: Record<string, ModelPrice>;
  /** Built-in defaults with the config's `defaults:` applied: what a project without overrides gets. */
  defaults: ProjectSettings;
  projects: Record<string, ProjectConfig>;
}
