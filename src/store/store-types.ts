// The shapes the store port takes and returns (store.ts): new rows, patches, filters, pages and totals.

import type { TaskCursor } from '../core/board-order.js';
import type { Approval, ApprovalState } from '../core/approvals.js';
import type { RunEndReason } from '../core/end-reasons.js';
import type {
  BlockKind,
  EpochMs,
  Host,
  Job,
  Role,
  Run,
  RunOutcome,
  Task,
  TaskState,
  Worker,
} from '../core/types.js';

/** An event to append and the time it happened. */
export interface TimedEvent {
  event: NewEvent & { project?: string | null; taskId?: number | null; runId?: number | null };
  at: EpochMs;
}

export interface NewEvent {
  type: string;
  data?: Record<string, unknown>;
}

export interface NewProject {
  name: string;
  repoPath: string | null;
  remoteUrl: string | null;
  defaultBranch: string;
}

export interface NewTask {
  project: string;
  externalRef?: string | null;
  title: string;
  body?: string;
  labels?: string[];
  priority?: number;
  role?: Role;
  parentId?: number | null;
  dependsOn?: number[];
  state?: TaskState;
  blockKind?: BlockKind | null;
  blockedReason?: string | null;
}

export type TaskPatch = Partial<
  Pick<
    Task,
    | 'title'
    | 'body'
    | 'labels'
    | 'priority'
    | 'role'
    | 'state'
    | 'blockKind'
    | 'blockedReason'
    | 'agent'
    | 'model'
    | 'complexity'
    | 'attempts'
    | 'nextAttemptAt'
    | 'costUsd'
    | 'dependsOn'
    | 'externalRef'
    | 'pullRequest'
  >
>;

export interface TaskFilter {
  project?: string;
  states?: TaskState[];
  ids?: number[];
  parentId?: number;
  /** Tasks that list this id among their dependencies. */
  dependsOn?: number;
  /** Tasks mirrored from these tracker refs. */
  externalRefs?: string[];
  /** Only tasks that came from a tracker (an external ref is set). */
  tracked?: boolean;
  /** Only tasks no one holds a claim on. */
  unclaimed?: boolean;
  /** Only tasks with this label. */
  label?: string;
  limit?: number;
}

/** One page of a state's tasks in its board order (core/board-order.ts), read by index. */
export interface TaskPageRequest {
  state: TaskState;
  project?: string;
  /** Only tasks routed to this agent. */
  agent?: string;
  /** Only tasks with this label (read by scanning the state's tasks, not by index). */
  label?: string;
  limit: number;
  /** Resume after this task (the last of the previous page). */
  after?: TaskCursor;
}

export interface TaskPage {
  tasks: Task[];
  /** Where the next page starts; null when this page is the last. */
  next: TaskCursor | null;
}

/** Tasks counted per project and state (only those of an agent, or with a label, when asked). */
export interface ProjectStateCount {
  project: string;
  state: TaskState;
  count: number;
}

export interface NewRun {
  taskId: number;
  project: string;
  attempt: number;
  agent: string;
  model?: string | null;
  worktree?: string | null;
  branch?: string | null;
  pid?: number | null;
  host?: string | null;
  sessionId?: string | null;
  startedAt: EpochMs;
  logPath?: string | null;
}

export type RunPatch = Partial<
  Pick<
    Run,
    | 'model'
    | 'worktree'
    | 'branch'
    | 'pid'
    | 'host'
    | 'sessionId'
    | 'endedAt'
    | 'outcome'
    | 'endReason'
    | 'exitCode'
    | 'tokensIn'
    | 'tokensOut'
    | 'costUsd'
    | 'logPath'
    | 'result'
  >
>;

export interface RunFilter {
  taskId?: number;
  project?: string;
  outcomes?: (RunOutcome | null)[];
  /** Only runs that have not ended. */
  open?: boolean;
  /** Only runs started at or after this time. */
  startedAfter?: EpochMs;
  /** Only runs that ended after this time. */
  endedAfter?: EpochMs;
  endReasons?: readonly RunEndReason[];
  /** The last to end first (with `limit`: the latest ones). Default: in the order they started. */
  latestEndedFirst?: boolean;
  limit?: number;
}

export interface RunStatsFilter {
  project?: string;
  /** Only runs started at or after this time. */
  startedAfter?: EpochMs;
}

/** How many of a project's tasks are routed to an agent (any state). */
export interface AgentTaskCount {
  project: string;
  agent: string;
  tasks: number;
}

/** What the tick weighs of a task: no title, body, dependencies or pull request (see `listTaskSummaries`). */
export type TaskSummary = Pick<
  Task,
  'id' | 'project' | 'state' | 'priority' | 'createdAt' | 'agent' | 'labels' | 'nextAttemptAt' | 'costUsd' | 'blockKind' | 'blockedReason' | 'parentId'
>;

/** What the tasks in some states wait on (see `listWaits`), each list ascending. */
export interface TaskWaits {
  /** Each dependency of a task in those states, with the dependency's state and parent. */
  dependencies: { taskId: number; id: number; state: TaskState; parentId: number | null }[];
  /** Every child of a task in those states (its parent being `parentId`), with its state. */
  children: { id: number; state: TaskState; parentId: number }[];
}

export interface ClaimRequest {
  taskId: number;
  owner: string;
  leaseMs: number;
  now: EpochMs;
  runId?: number | null;
}

/** A claim on whichever of `taskIds` comes first and has no claim yet. */
export type FirstFreeClaimRequest = Omit<ClaimRequest, 'taskId'> & { taskIds: readonly number[] };

export interface NewWorker {
  project: string;
  agent: string;
  owner: string;
  host?: string | null;
  startedAt: EpochMs;
}

export type WorkerPatch = Partial<
  Pick<Worker, 'pid' | 'worktree' | 'branch' | 'logPath' | 'doneAt' | 'summary' | 'endedAt' | 'outcome' | 'reason' | 'costUsd'>
>;

export interface WorkerFilter {
  project?: string;
  /** true: only workers still running; false: only those that ended. */
  open?: boolean;
  /** Only workers that ended after this time. */
  endedAfter?: EpochMs;
  limit?: number;
}

/**
 * Upper bounds (seconds) of the run duration histogram the store keeps (`MetricTotals.durations`):
 * agent attempts range from a quick fix to a long refactor. Part of the schema: the totals are kept
 * per bucket as runs are written, so new bounds take a migration that rebuilds them.
 */
export const RUN_DURATION_BOUNDS_S = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] as const;

/** A permission request or question of a run's agent, as it arrives. */
export type NewApproval = Pick<Approval, 'project' | 'taskId' | 'runId' | 'kind' | 'tool' | 'input' | 'question'>;

export interface ApprovalFilter {
  state?: ApprovalState;
  project?: string;
  runId?: number;
  limit?: number;
}

/** The store's totals behind /metrics (see `metricTotals`). */
export interface MetricTotals {
  /** Tasks per project and state. */
  tasks: { project: string; state: string; count: number }[];
  /** Runs per project, agent, outcome and end reason (null while running), with their spend. */
  runs: { project: string; agent: string; outcome: string | null; endReason: string | null; count: number; costUsd: number; tokensIn: number; tokensOut: number }[];
  /** Per agent, of its ended runs: how many lasted at most each of RUN_DURATION_BOUNDS_S, how many in all, and their total seconds. */
  durations: { agent: string; atMost: number[]; count: number; sumS: number }[];
  /** Per project, of the tasks with a pull request: how many are done (merged) and the fix rounds run. */
  pullRequests: { project: string; merged: number; ciRounds: number; reviewRounds: number }[];
  claims: { held: number; expired: number };
}

export interface EventFilter {
  /**
   * The events that came after this one, in the order they became visible (SSE `Last-Event-ID`
   * resume): resuming after the last one read never skips an event. Ids ascend on SQLite; on
   * PostgreSQL an id can become visible after a greater one, so they ascend within a transaction.
   */
  afterId?: number;
  project?: string;
  taskId?: number;
  types?: string[];
  limit?: number;
  /** Newest first (with `limit`: the latest ones). Default: oldest first. */
  newestFirst?: boolean;
}

export interface NewJob {
  name: string;
  project: string;
  schedule: string;
  kind: Job['kind'];
  spec: Record<string, unknown>;
  enabled?: boolean;
}

/** One delivery of a webhook, named by its sender's delivery id. */
export interface WebhookDelivery {
  /** Who sent it (`github`, `linear`): delivery ids are unique per sender only. */
  source: string;
  deliveryId: string;
}

/** A daemon starting on a store: its row in `hosts` (heartbeat = started, not stopped). */
export type NewHost = Pick<Host, 'name' | 'machine' | 'pid' | 'version' | 'slots' | 'startedAt'>;

/** One registration of a host: its name and when it started (a name is reused by later daemons). */
export interface HostRegistration {
  name: string;
  startedAt: EpochMs;
}
