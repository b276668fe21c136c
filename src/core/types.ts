// The domain vocabulary of Orch. Every other layer speaks in these types; nothing here does I/O.

import type { RunEndReason } from './end-reasons.js';

export const TASK_STATES = [
  'new',
  'routed',
  'running',
  'judging',
  'merging',
  /** Its change is in an open pull request: CI, reviewers and the merge are watched from there. */
  'in_review',
  'done',
  'blocked',
  'needs_review',
  'cancelled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const ROLES = ['implement', 'test', 'review', 'plan', 'fix'] as const;
export type Role = (typeof ROLES)[number];

export const COMPLEXITIES = ['simple', 'medium', 'complex'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

/**
 * Why a task sits in `blocked`. `dependencies` and `children` clear by themselves; `tracker` (its issue is
 * on hold) clears when the tracker says it is ready again; `agent` and `manual` wait for a person.
 */
export const BLOCK_KINDS = ['dependencies', 'children', 'agent', 'manual', 'tracker'] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

export const RUN_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
  'stalled',
  'budget_exceeded',
  'rate_limited',
  'cancelled',
  'crashed',
  /** Orch stopped the run because it printed more than a run may keep. */
  'output_limit',
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export const MERGE_STRATEGIES = ['direct', 'pr'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** push: Orch assigns each ready task to an agent run; pull: Orch starts workers that claim their own task. */
export const PROJECT_MODES = ['push', 'pull'] as const;
export type ProjectMode = (typeof PROJECT_MODES)[number];

/** How a pull worker ended. */
export const WORKER_OUTCOMES = [
  /** It claimed a task; that task's run says how the work went. */
  'claimed',
  /** It claimed nothing, and no ready task was left for it: a normal end. */
  'no_work',
  /** It claimed nothing although ready tasks were left: the agent did not do what it was asked. */
  'unclaimed',
  /** Its worktree or hooks could not be prepared; the agent never ran. */
  'failed',
  /** Orch stopped while it ran (found by recovery). */
  'crashed',
] as const;
export type WorkerOutcome = (typeof WORKER_OUTCOMES)[number];

/** Milliseconds since the Unix epoch. The core never reads a clock: callers pass `now` in. */
export type EpochMs = number;

export interface Project {
  name: string;
  /** Absolute path of the user's repository, or null when Orch works from a remote only. */
  repoPath: string | null;
  remoteUrl: string | null;
  defaultBranch: string;
  paused: boolean;
  pausedReason: string | null;
  createdAt: EpochMs;
  version: number;
}

export interface Task {
  id: number;
  project: string;
  /** Identity in the tracker the task came from (`local` tasks have none). */
  externalRef: string | null;
  title: string;
  body: string;
  labels: string[];
  /** Higher runs first. */
  priority: number;
  role: Role;
  parentId: number | null;
  dependsOn: number[];
  state: TaskState;
  blockKind: BlockKind | null;
  blockedReason: string | null;
  /** Routing decision; null until routed. */
  agent: string | null;
  model: string | null;
  complexity: Complexity | null;
  attempts: number;
  nextAttemptAt: EpochMs | null;
  costUsd: number;
  createdAt: EpochMs;
  updatedAt: EpochMs;
  /** The pull request that carries the task's change; null until one is opened. */
  pullRequest: TaskPullRequest | null;
  /** Compare-and-set counter: every write names the version it read. */
  version: number;
}

/** What the required checks of a pull request's head say, as last seen. */
export const PULL_REQUEST_CHECKS = ['pending', 'passing', 'failing'] as const;
export type PullRequestChecks = (typeof PULL_REQUEST_CHECKS)[number];

/** A task's pull request, kept on the task so nothing has to scan events to find it. */
export interface TaskPullRequest {
  number: number;
  url: string;
  branch: string;
  /** The commit the pull request's head was at when Orch last pushed or looked. */
  headSha: string | null;
  checks: PullRequestChecks | null;
  /** Fix rounds Orch ran for failing checks, and for reviews asking for changes. */
  ciRounds: number;
  reviewRounds: number;
}

export interface Run {
  id: number;
  taskId: number;
  project: string;
  attempt: number;
  agent: string;
  model: string | null;
  worktree: string | null;
  branch: string | null;
  pid: number | null;
  host: string | null;
  sessionId: string | null;
  startedAt: EpochMs;
  endedAt: EpochMs | null;
  /** How the agent's process ended. */
  outcome: RunOutcome | null;
  /** Why the whole run ended (agent, judge, merge or pull request): null while it goes on. */
  endReason: RunEndReason | null;
  exitCode: number | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  logPath: string | null;
  result: unknown;
}

/**
 * A pull worker: an agent run Orch started in a fresh worktree without a task, which picks and claims
 * one itself. Until it claims, it holds a slot and nothing else; its claim opens an ordinary Run of
 * the task (`runId`), and from then on the task moves exactly as in push mode.
 */
export interface Worker {
  id: number;
  project: string;
  agent: string;
  /** The Orch process supervising it (`host:pid`); the claim it takes carries this owner. */
  owner: string;
  host: string | null;
  pid: number | null;
  worktree: string | null;
  branch: string | null;
  logPath: string | null;
  taskId: number | null;
  runId: number | null;
  startedAt: EpochMs;
  claimedAt: EpochMs | null;
  /** When the agent ran `orch agent done`, and the summary it gave. */
  doneAt: EpochMs | null;
  summary: string | null;
  endedAt: EpochMs | null;
  outcome: WorkerOutcome | null;
  reason: string | null;
  /** What its agent cost when it claimed nothing; a claimed task's run carries the cost otherwise. */
  costUsd: number;
}

/**
 * One `orch serve` among those sharing a store: registered when it starts, its heartbeat renewed on
 * each tick, marked stopped when it stops cleanly. Its claims carry the owner `machine:pid`.
 */
export interface Host {
  /** Unique among the hosts of a store: the machine's name, with a suffix when another live daemon has it. */
  name: string;
  /** The machine it runs on (os.hostname()). */
  machine: string;
  pid: number;
  /** The Orch version it runs. */
  version: string;
  /** Its `scheduler.max_agents`: how many agents it runs at once. */
  slots: number;
  startedAt: EpochMs;
  heartbeatAt: EpochMs;
  /** When it stopped cleanly; null while it runs (or since it died without a word). */
  stoppedAt: EpochMs | null;
}

export interface Claim {
  taskId: number;
  runId: number | null;
  owner: string;
  /** Fencing token: strictly increasing across all claims ever made. */
  token: number;
  leaseUntil: EpochMs;
  claimedAt: EpochMs;
}

export interface OrchEvent {
  id: number;
  at: EpochMs;
  type: string;
  project: string | null;
  taskId: number | null;
  runId: number | null;
  data: Record<string, unknown>;
}

export interface Job {
  id: number;
  name: string;
  project: string;
  schedule: string;
  kind: 'task' | 'command';
  spec: Record<string, unknown>;
  enabled: boolean;
  lastRunAt: EpochMs | null;
  createdAt: EpochMs;
}

/** An agent (`claude`) or one of its models (`claude/opus`) resting after a rate limit. */
export interface Cooldown {
  key: string;
  until: EpochMs;
  reason: string;
  setAt: EpochMs;
}

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['done', 'cancelled']);
/** States from which a task may be dispatched by the next tick. */
export const DISPATCHABLE_STATES: ReadonlySet<TaskState> = new Set(['new', 'routed']);
/** States in which a run holds (or should hold) a claim. */
export const ACTIVE_STATES: ReadonlySet<TaskState> = new Set(['running', 'judging', 'merging']);
