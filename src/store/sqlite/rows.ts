import type { Selectable, Updateable } from 'kysely';
import type { RunEndReason } from '../../core/end-reasons.js';
import type {
  BlockKind,
  Claim,
  Complexity,
  Job,
  OrchEvent,
  Project,
  PullRequestChecks,
  Role,
  Run,
  RunOutcome,
  Task,
  TaskPullRequest,
  TaskState,
  Worker,
  WorkerOutcome,
} from '../../core/types.js';
import type { RunPatch, TaskPatch, WorkerPatch } from '../store.js';
import type {
  ClaimsTable,
  EventsTable,
  JobsTable,
  ProjectsTable,
  RunsTable,
  TasksTable,
  WorkersTable,
} from './schema.js';

// Translation between database rows and domain values. Enum-typed columns are trusted as written:
// only this store writes them, always from typed domain values.

/** A task row joined with its dependency ids, aggregated into a JSON array. */
export type TaskRow = Selectable<TasksTable> & { depends_on: string };

export function toProject(row: Selectable<ProjectsTable>): Project {
  return {
    name: row.name,
    repoPath: row.repo_path,
    remoteUrl: row.remote_url,
    defaultBranch: row.default_branch,
    paused: row.paused === 1,
    pausedReason: row.paused_reason,
    createdAt: row.created_at,
    version: row.version,
  };
}

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    project: row.project,
    externalRef: row.external_ref,
    title: row.title,
    body: row.body,
    labels: JSON.parse(row.labels) as string[],
    priority: row.priority,
    role: row.role as Role,
    parentId: row.parent_id,
    dependsOn: JSON.parse(row.depends_on) as number[],
    state: row.state as TaskState,
    blockKind: row.block_kind as BlockKind | null,
    blockedReason: row.blocked_reason,
    agent: row.agent,
    model: row.model,
    complexity: row.complexity as Complexity | null,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    costUsd: row.cost_usd,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    pullRequest: toPullRequest(row),
    version: row.version,
  };
}

function toPullRequest(row: TaskRow): TaskPullRequest | null {
  if (row.pr_number === null || row.pr_url === null || row.pr_branch === null) return null;
  return {
    number: row.pr_number,
    url: row.pr_url,
    branch: row.pr_branch,
    headSha: row.pr_head_sha,
    checks: row.pr_checks as PullRequestChecks | null,
    ciRounds: row.pr_ci_rounds,
    reviewRounds: row.pr_review_rounds,
  };
}

function pullRequestColumns(pr: TaskPullRequest | null): Updateable<TasksTable> {
  return {
    pr_number: pr?.number ?? null,
    pr_url: pr?.url ?? null,
    pr_branch: pr?.branch ?? null,
    pr_head_sha: pr?.headSha ?? null,
    pr_checks: pr?.checks ?? null,
    pr_ci_rounds: pr?.ciRounds ?? 0,
    pr_review_rounds: pr?.reviewRounds ?? 0,
  };
}

/** Columns for a task patch; `dependsOn` lives in task_deps and is written separately. */
export function taskPatchColumns(patch: TaskPatch): Updateable<TasksTable> {
  const columns: Updateable<TasksTable> = {};
  if (patch.title !== undefined) columns.title = patch.title;
  if (patch.body !== undefined) columns.body = patch.body;
  if (patch.labels !== undefined) columns.labels = JSON.stringify(patch.labels);
  if (patch.priority !== undefined) columns.priority = patch.priority;
  if (patch.role !== undefined) columns.role = patch.role;
  if (patch.state !== undefined) columns.state = patch.state;
  if (patch.blockKind !== undefined) columns.block_kind = patch.blockKind;
  if (patch.blockedReason !== undefined) columns.blocked_reason = patch.blockedReason;
  if (patch.agent !== undefined) columns.agent = patch.agent;
  if (patch.model !== undefined) columns.model = patch.model;
  if (patch.complexity !== undefined) columns.complexity = patch.complexity;
  if (patch.attempts !== undefined) columns.attempts = patch.attempts;
  if (patch.nextAttemptAt !== undefined) columns.next_attempt_at = patch.nextAttemptAt;
  if (patch.costUsd !== undefined) columns.cost_usd = patch.costUsd;
  if (patch.externalRef !== undefined) columns.external_ref = patch.externalRef;
  if (patch.pullRequest !== undefined) Object.assign(columns, pullRequestColumns(patch.pullRequest));
  return columns;
}

export function toRun(row: Selectable<RunsTable>): Run {
  return {
    id: row.id,
    taskId: row.task_id,
    project: row.project,
    attempt: row.attempt,
    agent: row.agent,
    model: row.model,
    worktree: row.worktree,
    branch: row.branch,
    pid: row.pid,
    host: row.host,
    sessionId: row.session_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    outcome: row.outcome as RunOutcome | null,
    endReason: row.end_reason as RunEndReason | null,
    exitCode: row.exit_code,
    tokensIn: row.tokens_in,
    tokensOut: row.tokens_out,
    costUsd: row.cost_usd,
    logPath: row.log_path,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  };
}

export function runPatchColumns(patch: RunPatch): Updateable<RunsTable> {
  const columns: Updateable<RunsTable> = {};
  if (patch.model !== undefined) columns.model = patch.model;
  if (patch.worktree !== undefined) columns.worktree = patch.worktree;
  if (patch.branch !== undefined) columns.branch = patch.branch;
  if (patch.pid !== undefined) columns.pid = patch.pid;
  if (patch.host !== undefined) columns.host = patch.host;
  if (patch.sessionId !== undefined) columns.session_id = patch.sessionId;
  if (patch.endedAt !== undefined) columns.ended_at = patch.endedAt;
  if (patch.outcome !== undefined) columns.outcome = patch.outcome;
  if (patch.endReason !== undefined) columns.end_reason = patch.endReason;
  if (patch.exitCode !== undefined) columns.exit_code = patch.exitCode;
  if (patch.tokensIn !== undefined) columns.tokens_in = patch.tokensIn;
  if (patch.tokensOut !== undefined) columns.tokens_out = patch.tokensOut;
  if (patch.costUsd !== undefined) columns.cost_usd = patch.costUsd;
  if (patch.logPath !== undefined) columns.log_path = patch.logPath;
  if (patch.result !== undefined) columns.result = resultColumn(patch.result);
  return columns;
}

/** A run result as stored: JSON text, or NULL for no result (null, or nothing JSON can hold). */
function resultColumn(result: unknown): string | null {
  return result === null ? null : (JSON.stringify(result) ?? null);
}

export function toClaim(row: Selectable<ClaimsTable>): Claim {
  return {
    taskId: row.task_id,
    runId: row.run_id,
    owner: row.owner,
    token: row.token,
    leaseUntil: row.lease_until,
    claimedAt: row.claimed_at,
  };
}

export function toEvent(row: Selectable<EventsTable>): OrchEvent {
  return {
    id: row.id,
    at: row.at,
    type: row.type,
    project: row.project,
    taskId: row.task_id,
    runId: row.run_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

export function toJob(row: Selectable<JobsTable>): Job {
  return {
    id: row.id,
    name: row.name,
    project: row.project,
    schedule: row.schedule,
    kind: row.kind as Job['kind'],
    spec: JSON.parse(row.spec) as Record<string, unknown>,
    enabled: row.enabled === 1,
    lastRunAt: row.last_run_at,
    createdAt: row.created_at,
  };
}

export function toWorker(row: Selectable<WorkersTable>): Worker {
  return {
    id: row.id,
    project: row.project,
    agent: row.agent,
    owner: row.owner,
    host: row.host,
    pid: row.pid,
    worktree: row.worktree,
    branch: row.branch,
    logPath: row.log_path,
    taskId: row.task_id,
    runId: row.run_id,
    startedAt: row.started_at,
    claimedAt: row.claimed_at,
    doneAt: row.done_at,
    summary: row.summary,
    endedAt: row.ended_at,
    outcome: row.outcome as WorkerOutcome | null,
    reason: row.reason,
    costUsd: row.cost_usd,
  };
}

export function workerPatchColumns(patch: WorkerPatch): Updateable<WorkersTable> {
  const columns: Updateable<WorkersTable> = {};
  if (patch.pid !== undefined) columns.pid = patch.pid;
  if (patch.worktree !== undefined) columns.worktree = patch.worktree;
  if (patch.branch !== undefined) columns.branch = patch.branch;
  if (patch.logPath !== undefined) columns.log_path = patch.logPath;
  if (patch.doneAt !== undefined) columns.done_at = patch.doneAt;
  if (patch.summary !== undefined) columns.summary = patch.summary;
  if (patch.endedAt !== undefined) columns.ended_at = patch.endedAt;
  if (patch.outcome !== undefined) columns.outcome = patch.outcome;
  if (patch.reason !== undefined) columns.reason = patch.reason;
  if (patch.costUsd !== undefined) columns.cost_usd = patch.costUsd;
  return columns;
}
