// From parsed files to the resolved config the rest of Orch reads. Merge order, later wins:
// built-in defaults < config.yaml `defaults:` < config.yaml `projects.<name>:` < the repo's orch.yaml.
// No file access here: the loader reads, this decides.

import type { TaskState } from '../core/types.js';
import {
  AGENT_EXECUTABLES,
  BUILT_IN_AGENTS,
  DEFAULT_AGENT_SETTINGS,
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITHUB_TOKEN_ENV,
  DEFAULT_TRACKER_POLL_S,
  DEFAULT_LINEAR_API_URL,
  DEFAULT_LINEAR_READY_STATES,
  DEFAULT_LINEAR_STATE_MAP,
  DEFAULT_LINEAR_TOKEN_ENV,
  DEFAULT_PROJECT_SETTINGS,
  DEFAULT_ROUTER,
  DEFAULT_SCHEDULER,
  DEFAULT_SERVER,
} from './defaults.js';
import { ConfigError, formatKeyPath } from './errors.js';
import { expandHome } from './home.js';
import { deepMerge } from './merge.js';
import type {
  AgentConfig,
  AgentFile,
  GlobalConfigFile,
  OrchConfig,
  ProjectConfig,
  ProjectFile,
  ProjectSettings,
  ProjectSettingsFile,
  RoutingSettings,
  TrackerConfig,
  WebhooksConfig,
} from './schema.js';
import { AGENT_KINDS } from './defaults.js';
import { resolveNotifications } from './notification-settings.js';
import type { Complexity } from '../core/types.js';

/** A parsed config.yaml and where it came from (errors name the file). */
export interface LoadedGlobalConfig {
  home: string;
  path: string;
  data: GlobalConfigFile;
}

/** A parsed orch.yaml and where it came from. */
export interface LoadedProjectFile {
  path: string;
  data: ProjectFile;
}

/** One source of project settings, with the file and key path its errors should point at. */
interface SettingsLayer {
  file: string;
  keyPath: (string | number)[];
  settings: ProjectSettingsFile | undefined;
}

/**
 * One project's settings. A name not registered under `projects:` still resolves (built-ins,
 * `defaults:` and the given orch.yaml), e.g. to check an orch.yaml before `orch add`.
 */
export function resolveProjectSettings(
  global: LoadedGlobalConfig,
  projectName: string,
  projectFile?: LoadedProjectFile,
): ProjectSettings {
  const entry = global.data.projects?.[projectName];
  const layers: SettingsLayer[] = baseLayers(global);
  if (entry) {
    // path, remote and default_branch say where the project is; everything else is a setting.
    const { path: _path, remote: _remote, default_branch: _branch, ...settings } = entry;
    layers.push({ file: global.path, keyPath: ['projects', projectName], settings });
  }
  if (projectFile) layers.push({ file: projectFile.path, keyPath: [], settings: projectFile.data });
  return resolveLayers(layers, agentNames(global));
}

/** Everything resolved. `projectFiles` holds each project's orch.yaml, when it has one. */
export function resolveConfig(
  global: LoadedGlobalConfig,
  projectFiles: Readonly<Record<string, LoadedProjectFile | undefined>> = {},
): OrchConfig {
  const scheduler = global.data.scheduler ?? {};
  const server = global.data.server ?? {};
  const projects: Record<string, ProjectConfig> = {};
  for (const [name, entry] of Object.entries(global.data.projects ?? {})) {
    const projectFile = projectFiles[name];
    projects[name] = {
      name,
      path: entry.path === undefined ? null : expandHome(entry.path),
      remote: entry.remote ?? null,
      defaultBranch: entry.default_branch ?? null,
      projectFile: projectFile?.path ?? null,
      ...resolveProjectSettings(global, name, projectFile),
    };
  }
  return {
    home: global.home,
    configPath: global.path,
    databaseUrl: global.data.database_url ?? null,
    scheduler: {
      maxAgents: scheduler.max_agents ?? DEFAULT_SCHEDULER.maxAgents,
      tickIntervalS: scheduler.tick_interval_s ?? DEFAULT_SCHEDULER.tickIntervalS,
      leaseS: scheduler.lease_s ?? DEFAULT_SCHEDULER.leaseS,
      maxRouters: scheduler.max_routers ?? DEFAULT_SCHEDULER.maxRouters,
      hostName: scheduler.host_name ?? DEFAULT_SCHEDULER.hostName,
    },
    server: { host: server.host ?? DEFAULT_SERVER.host, port: server.port ?? DEFAULT_SERVER.port },
    webhooks: resolveWebhooks(global.data.webhooks),
    notifications: resolveNotifications(global.data.notifications, { host: server.host ?? DEFAULT_SERVER.host, port: server.port ?? DEFAULT_SERVER.port }),
    agents: resolveAgents(global),
    prices: structuredClone(global.data.prices ?? {}),
    defaults: resolveLayers(baseLayers(global), agentNames(global)),
    projects,
  };
}

function resolveWebhooks(webhooks: GlobalConfigFile['webhooks']): WebhooksConfig {
  const source = (entry: { secret_env: string } | undefined) => (entry ? { secretEnv: entry.secret_env } : null);
  return { github: source(webhooks?.github), linear: source(webhooks?.linear) };
}

/** What every project starts from: the top-level `routing:`, then `defaults:`. */
function baseLayers(global: LoadedGlobalConfig): SettingsLayer[] {
  return [
    { file: global.path, keyPath: [], settings: global.data.routing ? { routing: global.data.routing } : undefined },
    { file: global.path, keyPath: ['defaults'], settings: global.data.defaults },
  ];
}

function resolveLayers(layers: readonly SettingsLayer[], knownAgents: ReadonlySet<string>): ProjectSettings {
  for (const layer of layers) checkAgentReferences(layer, knownAgents);
  const merged = layers.reduce<ProjectSettingsFile>((acc, layer) => deepMerge(acc, layer.settings), {});
  return toProjectSettings(merged);
}

function checkAgentReferences(layer: SettingsLayer, knownAgents: ReadonlySet<string>): void {
  const check = (agent: string, path: (string | number)[]) => {
    if (knownAgents.has(agent)) return;
    const known = [...knownAgents].join(', ');
    throw new ConfigError(layer.file, `${formatKeyPath([...layer.keyPath, ...path])}: unknown agent "${agent}" (defined: ${known})`);
  };
  layer.settings?.agents?.forEach((agent, index) => check(agent, ['agents', index]));
  const reviewer = layer.settings?.judge?.review?.agent;
  if (reviewer) check(reviewer, ['judge', 'review', 'agent']);
  const routing = layer.settings?.routing;
  if (routing?.router) check(routing.router.agent, ['routing', 'router', 'agent']);
  const approver = layer.settings?.approvals?.approver;
  if (approver) check(approver.agent, ['approvals', 'approver', 'agent']);
  for (const agent of Object.keys(routing?.weights ?? {})) check(agent, ['routing', 'weights', agent]);
  for (const [complexity, models] of Object.entries(routing?.model_map ?? {})) {
    for (const agent of Object.keys(models ?? {})) check(agent, ['routing', 'model_map', complexity, agent]);
  }
}

function agentNames(global: LoadedGlobalConfig): Set<string> {
  return new Set([...Object.keys(BUILT_IN_AGENTS), ...Object.keys(global.data.agents ?? {})]);
}

function toTrackerConfig(tracker: NonNullable<ProjectSettingsFile['tracker']>): TrackerConfig {
  const pollIntervalS = tracker.poll_interval_s ?? DEFAULT_TRACKER_POLL_S;
  switch (tracker.kind) {
    case 'github':
      return {
        kind: 'github',
        pollIntervalS,
        repo: tracker.repo,
        labels: tracker.labels ?? [],
        assignee: tracker.assignee ?? null,
        authors: tracker.authors ?? [],
        tokenEnv: tracker.token_env ?? DEFAULT_GITHUB_TOKEN_ENV,
        apiUrl: (tracker.api_url ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
      };
    case 'linear':
      return {
        kind: 'linear',
        pollIntervalS,
        team: tracker.team,
        labels: tracker.labels ?? [],
        states: tracker.states ?? [...DEFAULT_LINEAR_READY_STATES],
        stateMap: linearStateMap(tracker.state_map),
        tokenEnv: tracker.token_env ?? DEFAULT_LINEAR_TOKEN_ENV,
        apiUrl: tracker.api_url ?? DEFAULT_LINEAR_API_URL,
      };
    case 'markdown':
      return { kind: 'markdown', dir: tracker.dir, pollIntervalS };
    case 'local':
      return { kind: 'local', pollIntervalS };
  }
}

/** The default state_map with the config's entries over it; `null` takes a task state out. */
function linearStateMap(file: Partial<Record<TaskState, string | null>> | undefined): Partial<Record<TaskState, string>> {
  const merged: Partial<Record<TaskState, string | null>> = { ...DEFAULT_LINEAR_STATE_MAP, ...file };
  return Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Merged file settings → resolved settings; whatever no layer set comes from the built-in defaults. */
function toProjectSettings(file: ProjectSettingsFile): ProjectSettings {
  const d = DEFAULT_PROJECT_SETTINGS;
  const settings: ProjectSettings = {
    priority: file.priority ?? d.priority,
    maxAgents: file.max_agents ?? d.maxAgents,
    agents: file.agents ?? d.agents,
    tracker: file.tracker ? toTrackerConfig(file.tracker) : d.tracker,
    mergeStrategy: file.merge_strategy ?? d.mergeStrategy,
    maxAttempts: file.max_attempts ?? d.maxAttempts,
    backoff: {
      baseS: file.backoff?.base_s ?? d.backoff.baseS,
      capS: file.backoff?.cap_s ?? d.backoff.capS,
      jitter: file.backoff?.jitter ?? d.backoff.jitter,
    },
    budget: {
      dailyUsd: orDefault(file.budget?.daily_usd, d.budget.dailyUsd),
      taskUsd: orDefault(file.budget?.task_usd, d.budget.taskUsd),
      runUsd: orDefault(file.budget?.run_usd, d.budget.runUsd),
    },
    pullRequests: {
      autoMerge: orDefault(file.pull_requests?.auto_merge, d.pullRequests.autoMerge),
      rerunFailedJobs: file.pull_requests?.rerun_failed_jobs ?? d.pullRequests.rerunFailedJobs,
      ciRounds: file.pull_requests?.ci_rounds ?? d.pullRequests.ciRounds,
      reviewRounds: file.pull_requests?.review_rounds ?? d.pullRequests.reviewRounds,
      reviewers: file.pull_requests?.reviewers ?? d.pullRequests.reviewers,
      github: {
        repo: file.pull_requests?.github?.repo ?? d.pullRequests.github.repo,
        apiUrl: file.pull_requests?.github?.api_url ?? d.pullRequests.github.apiUrl,
        tokenEnv: file.pull_requests?.github?.token_env ?? d.pullRequests.github.tokenEnv,
      },
    },
    backpressure: {
      maxQueued: orDefault(file.backpressure?.max_queued, d.backpressure.maxQueued),
      maxOpenPrs: orDefault(file.backpressure?.max_open_prs, d.backpressure.maxOpenPrs),
      maxNeedsReview: orDefault(file.backpressure?.max_needs_review, d.backpressure.maxNeedsReview),
    },
    ports: {
      base: file.ports?.base ?? d.ports.base,
      stride: file.ports?.stride ?? d.ports.stride,
      count: file.ports?.count ?? d.ports.count,
    },
    judge: {
      test: orDefault(file.judge?.test, d.judge.test),
      lint: orDefault(file.judge?.lint, d.judge.lint),
      timeoutS: file.judge?.timeout_s ?? d.judge.timeoutS,
      scope: {
        maxFiles: orDefault(file.judge?.scope?.max_files, d.judge.scope.maxFiles),
        allowedPaths: orDefault(file.judge?.scope?.allowed_paths, d.judge.scope.allowedPaths),
        forbiddenPaths: file.judge?.scope?.forbidden_paths ?? d.judge.scope.forbiddenPaths,
      },
      review: {
        agent: orDefault(file.judge?.review?.agent, d.judge.review.agent),
        rounds: file.judge?.review?.rounds ?? d.judge.review.rounds,
      },
    },
    hooks: {
      afterCreate: orDefault(file.hooks?.after_create, d.hooks.afterCreate),
      beforeRun: orDefault(file.hooks?.before_run, d.hooks.beforeRun),
      afterRun: orDefault(file.hooks?.after_run, d.hooks.afterRun),
      beforeRemove: orDefault(file.hooks?.before_remove, d.hooks.beforeRemove),
      timeoutS: file.hooks?.timeout_s ?? d.hooks.timeoutS,
    },
    run: {
      timeoutS: file.run?.timeout_s ?? d.run.timeoutS,
      stallS: file.run?.stall_s ?? d.run.stallS,
      maxTurns: orDefault(file.run?.max_turns, d.run.maxTurns),
      cooldownS: file.run?.cooldown_s ?? d.run.cooldownS,
      maxOutputMb: file.run?.max_output_mb ?? d.run.maxOutputMb,
    },
    sandbox: file.sandbox ?? d.sandbox,
    network: file.network ?? d.network,
    sandboxPaths: (file.sandbox_paths ?? d.sandboxPaths).map((path) => (path.startsWith('~') ? expandHome(path) : path)),
    copyFiles: file.copy_files ?? d.copyFiles,
    mode: file.mode ?? d.mode,
    routing: toRoutingSettings(file.routing, d.routing),
    prompts: Object.fromEntries(Object.entries(file.prompts ?? d.prompts).map(([name, path]) => [name, path.startsWith('~') ? expandHome(path) : path])),
    approvals: {
      enabled: file.approvals?.enabled ?? d.approvals.enabled,
      timeoutS: file.approvals?.timeout_s ?? d.approvals.timeoutS,
      onTimeout: file.approvals?.on_timeout ?? d.approvals.onTimeout,
      allow: file.approvals?.allow ?? d.approvals.allow,
      deny: file.approvals?.deny ?? d.approvals.deny,
      roles: file.approvals?.roles ? Object.fromEntries(Object.entries(file.approvals.roles).map(([role, lists]) => [role, { allow: lists?.allow ?? [], deny: lists?.deny ?? [] }])) : d.approvals.roles,
      approver: file.approvals?.approver
        ? { agent: file.approvals.approver.agent, budgetUsd: file.approvals.approver.budget_usd ?? 0.05, timeoutS: file.approvals.approver.timeout_s ?? 60 }
        : file.approvals?.approver === null
          ? null
          : d.approvals.approver,
    },
  };
  // Callers own their copy: mutating it must not reach the defaults or the parsed files.
  return structuredClone(settings);
}

function toRoutingSettings(file: ProjectSettingsFile['routing'], d: RoutingSettings): RoutingSettings {
  const router = file?.router === undefined ? d.router : file.router === null ? null : {
    agent: file.router.agent,
    timeoutS: file.router.timeout_s ?? DEFAULT_ROUTER.timeoutS,
    attempts: file.router.attempts ?? DEFAULT_ROUTER.attempts,
  };
  const modelMap: RoutingSettings['modelMap'] = {};
  for (const [complexity, models] of Object.entries(file?.model_map ?? d.modelMap)) {
    if (models) modelMap[complexity as Complexity] = { ...models };
  }
  return { router, weights: { ...(file?.weights ?? d.weights) }, useScoreboard: file?.use_scoreboard ?? d.useScoreboard, modelMap };
}

/** Like `??`, but an explicit null is kept: null is how a layer switches an inherited setting off. */
function orDefault<T>(value: T | null | undefined, fallback: T | null): T | null {
  return value === undefined ? fallback : value;
}

function resolveAgents(global: LoadedGlobalConfig): Record<string, AgentConfig> {
  const merged = deepMerge<Record<string, AgentFile>>(BUILT_IN_AGENTS, global.data.agents ?? {});
  const agents: Record<string, AgentConfig> = {};
  for (const [name, agent] of Object.entries(merged)) {
    const keyPath = (key: string) => formatKeyPath(['agents', name, key]);
    if (!agent.kind) {
      throw new ConfigError(global.path, `${keyPath('kind')}: missing (expected one of ${AGENT_KINDS.join(', ')})`);
    }
    const command = agent.command ?? (agent.kind === 'command' ? undefined : AGENT_EXECUTABLES[agent.kind]);
    if (!command) {
      throw new ConfigError(global.path, `${keyPath('command')}: missing (a "command" agent must name its program)`);
    }
    agents[name] = {
      name,
      kind: agent.kind,
      command,
      model: agent.model ?? DEFAULT_AGENT_SETTINGS.model,
      maxConcurrent: agent.max_concurrent ?? DEFAULT_AGENT_SETTINGS.maxConcurrent,
      nice: agent.nice ?? DEFAULT_AGENT_SETTINGS.nice,
      env: [...(agent.env ?? DEFAULT_AGENT_SETTINGS.env)],
      args: [...(agent.args ?? DEFAULT_AGENT_SETTINGS.args)],
    };
  }
  return agents;
}
