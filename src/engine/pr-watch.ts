// Orch's open pull requests, looked at on each tracker sync (at once after a webhook about a pull
// request, its reviews or its checks; otherwise on the poll, whose conditional requests cost nothing
// while nothing changed): the look is recorded on the task, and `decidePullRequest` says what follows.
// Everything done here is a task transition with its event, or an event of its own.

import { ciFixBrief, rebaseBrief, reviewFixBrief, type FixRound } from '../core/pull-request-briefs.js';
import { decidePullRequest, overallChecks, type PullRequestDecision, type PullRequestMemory, type PullRequestSnapshot } from '../core/pull-request-watch.js';
import type { Task, TaskPullRequest } from '../core/types.js';
import { VersionConflictError } from '../store/store.js';
import type { PullRequestWatch, Tracker } from '../trackers/tracker.js';
import { TrackerError } from '../trackers/tracker.js';
import type { Orch } from './context.js';
import { applyTransition } from './transitions.js';

export interface PullRequestWatchReport {
  finished: number[];
  cancelled: number[];
}

/** The event that sends a task back for a fix round; its data says which round and what it is for. */
export const REVISE_EVENT = 'task.revise';
/** Orch pushed a fix round to the pull request's branch: `{from, to}` heads. */
export const PUSHED_EVENT = 'pr.pushed';
const RERUN_EVENT = 'pr.rerun';

/**
 * Looks at every open pull request of a project's tasks. A task a person took over (needs_review) is
 * only finished when its pull request is merged after all.
 */
export async function watchPullRequests(orch: Orch, project: string, tracker: Tracker, report: PullRequestWatchReport): Promise<void> {
  if (!tracker.pullRequest && !tracker.pulls) return;
  const waiting = await orch.store.listTasks({ project, states: ['in_review', 'needs_review'] });
  for (const task of waiting) {
    if (task.pullRequest === null) continue;
    if (task.state === 'in_review' && tracker.pulls) {
      try {
        await watchOne(orch, task, task.pullRequest, tracker.pulls, report);
      } catch (error) {
        // The task moved while it was looked at (a person cancelled it, say): the next look decides afresh.
        if (!(error instanceof VersionConflictError)) throw error;
      }
    } else if (tracker.pullRequest) {
      const pr = await tracker.pullRequest(task.pullRequest.number);
      if (pr.merged) await settle(orch, task, { kind: 'finish', reason: 'its pull request was merged' }, report);
      else if (pr.closed && task.state === 'in_review') await settle(orch, task, { kind: 'cancel', reason: 'its pull request was closed without merging' }, report);
    }
  }
}

async function watchOne(orch: Orch, task: Task, pr: TaskPullRequest, pulls: PullRequestWatch, report: PullRequestWatchReport): Promise<void> {
  const settings = orch.config.projects[task.project]!.pullRequests;
  const snapshot = await pulls.look(pr.number, settings.reviewers);
  const memory = await memoryOf(orch, task);
  const current = await recordLook(orch, task, pr, snapshot, memory);
  const decision = decidePullRequest(snapshot, memory, {
    maxCiRounds: settings.ciRounds,
    maxReviewRounds: settings.reviewRounds,
    rerunFailedJobs: settings.rerunFailedJobs,
    autoMerge: settings.autoMerge,
  });
  const event = (type: string, data: Record<string, unknown>) => orch.store.appendEvent({ type, project: task.project, taskId: task.id, data: { number: pr.number, ...data } }, orch.now());
  switch (decision.kind) {
    case 'finish':
    case 'cancel':
      return settle(orch, current, decision, report);
    case 'wait':
      return;
    case 'rerun':
      await pulls.rerunFailedJobs(decision.checks.map((c) => c.workflowRunId!));
      await event(RERUN_EVENT, { headSha: snapshot.headSha, checks: decision.checks.map((c) => c.name), reason: decision.reason });
      return;
    case 'ci_fix': {
      const failures = await pulls.failures(decision.checks);
      const brief = ciFixBrief(pr, snapshot.headSha, failures);
      await revise(orch, current, 'ci', decision.reason, brief, { ciRounds: pr.ciRounds + 1 }, { checks: decision.checks.map((c) => c.name), round: pr.ciRounds + 1 });
      return;
    }
    case 'review_fix': {
      const brief = reviewFixBrief(pr, decision.reviews, decision.threads);
      await revise(orch, current, 'review', decision.reason, brief, { reviewRounds: pr.reviewRounds + 1 }, {
        round: pr.reviewRounds + 1,
        reviewIds: decision.reviews.map((r) => r.id),
        commentIds: decision.threads.flatMap((t) => t.comments.map((c) => c.id)),
        threadIds: decision.threads.map((t) => t.id),
      });
      return;
    }
    case 'rebase': {
      const base = orch.config.projects[task.project]!.defaultBranch ?? 'the base branch';
      await revise(orch, current, 'rebase', decision.reason, rebaseBrief(pr, base), {}, {});
      return;
    }
    case 'merge':
      try {
        await pulls.merge(pr.number, decision.method, snapshot.headSha);
      } catch (error) {
        if (!(error instanceof TrackerError)) throw error;
        // Refused (the head moved, a rule of the repository): the next look decides again.
        await event('pr.merge_refused', { message: error.message.split('\n')[0] });
        return;
      }
      await event('pr.merged', { method: decision.method, headSha: snapshot.headSha });
      return settle(orch, current, { kind: 'finish', reason: `approved and green: Orch merged it (${decision.method})` }, report);
    case 'needs_person':
      await orch.store.transaction(async (tx) => {
        const fresh = (await tx.getTask(task.id))!;
        if (fresh.state !== 'in_review') return;
        await applyTransition(tx, fresh, 'escalate', { now: orch.now(), reason: `pull request #${pr.number}: ${decision.reason}`, patch: { blockedReason: `pull request #${pr.number}: ${decision.reason}` } });
      });
      return;
  }
}

/** What Orch did on this pull request before, from the task and its events. */
async function memoryOf(orch: Orch, task: Task): Promise<PullRequestMemory> {
  const events = await orch.store.listEvents({ taskId: task.id, types: [REVISE_EVENT, PUSHED_EVENT, RERUN_EVENT] });
  const reviews = events.filter((e) => e.type === REVISE_EVENT && e.data.fix === 'review');
  const numbers = (key: string) => reviews.flatMap((e) => (Array.isArray(e.data[key]) ? (e.data[key] as number[]) : []));
  return {
    ciRounds: task.pullRequest?.ciRounds ?? 0,
    reviewRounds: task.pullRequest?.reviewRounds ?? 0,
    rerunHeads: events.filter((e) => e.type === RERUN_EVENT).map((e) => String(e.data.headSha)),
    replacedHeads: events.filter((e) => e.type === PUSHED_EVENT && typeof e.data.from === 'string' && e.data.from !== e.data.to).map((e) => e.data.from as string),
    handledReviews: numbers('reviewIds'),
    handledComments: numbers('commentIds'),
  };
}

/** Keeps the head and its checks on the task, with an event when either changed. */
async function recordLook(orch: Orch, task: Task, pr: TaskPullRequest, snapshot: PullRequestSnapshot, memory: PullRequestMemory): Promise<Task> {
  if (snapshot.merged || snapshot.closed || memory.replacedHeads.includes(snapshot.headSha)) return task;
  const checks = overallChecks(snapshot.checks);
  if (checks === pr.checks && snapshot.headSha === pr.headSha) return task;
  return orch.store.updateTask(task.id, { expectedVersion: task.version }, { pullRequest: { ...pr, checks, headSha: snapshot.headSha } }, orch.now(), {
    type: 'pr.checks',
    data: {
      number: pr.number,
      headSha: snapshot.headSha,
      checks,
      failing: snapshot.checks.filter((c) => c.state === 'failing').map((c) => c.name),
      pending: snapshot.checks.filter((c) => c.state === 'pending').map((c) => c.name),
    },
  });
}

/** Back to the queue for a fix round on the same branch; the event carries the brief the agent is given. */
async function revise(orch: Orch, task: Task, fix: FixRound, reason: string, brief: string, rounds: Partial<Pick<TaskPullRequest, 'ciRounds' | 'reviewRounds'>>, data: Record<string, unknown>): Promise<void> {
  await orch.store.transaction(async (tx) => {
    const fresh = (await tx.getTask(task.id))!;
    if (fresh.state !== 'in_review' || fresh.pullRequest === null) return;
    await applyTransition(tx, fresh, 'revise', { now: orch.now(), reason, patch: { pullRequest: { ...fresh.pullRequest, ...rounds }, nextAttemptAt: null }, data: { ...data, fix, brief, number: fresh.pullRequest.number } });
  });
}

async function settle(orch: Orch, task: Task, decision: Extract<PullRequestDecision, { kind: 'finish' | 'cancel' }>, report: PullRequestWatchReport): Promise<void> {
  const number = task.pullRequest!.number;
  const moved = await orch.store.transaction(async (tx) => {
    const current = (await tx.getTask(task.id))!;
    if (current.state !== task.state) return false;
    const reason = decision.reason.replace('its pull request', `pull request #${number}`);
    if (decision.kind === 'finish') await applyTransition(tx, current, current.state === 'in_review' ? 'finish' : 'resolve', { now: orch.now(), reason });
    else await applyTransition(tx, current, 'cancel', { now: orch.now(), reason });
    return true;
  });
  if (moved) (decision.kind === 'finish' ? report.finished : report.cancelled).push(task.id);
}

/** The fix round a task was last sent back for, while it lasts: until the task is back in review. */
export async function pendingFixRound(orch: Orch, taskId: number): Promise<{ fix: FixRound; brief: string; data: Record<string, unknown> } | null> {
  const events = await orch.store.listEvents({ taskId, types: [REVISE_EVENT, 'task.propose'] });
  const last = events.at(-1);
  if (!last || last.type !== REVISE_EVENT) return null;
  return { fix: last.data.fix as FixRound, brief: String(last.data.brief), data: last.data };
}
