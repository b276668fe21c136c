import type { Task } from '../core/types.js';
import { TrackerError, type StatusReport, type Tracker } from '../trackers/tracker.js';
import type { Orch } from './context.js';

/** What the reports need of a project's tracker link (engine/tracker-sync.ts owns it). */
export interface ReportLink {
  tracker: Tracker;
  /** What was last told per task, so an unchanged task is not told again. */
  reported: Map<number, string>;
  /** No call to the tracker before this time (its rate limit, or an error). */
  notBefore: number;
}

interface PendingReport {
  ref: string;
  status: StatusReport;
  key: string;
}

interface TaskQueue {
  link: ReportLink;
  project: string;
  pending: PendingReport[];
  /** The pass telling the tracker, while one runs; null when idle or waiting out a rate limit. */
  telling: Promise<void> | null;
  /** Set while waiting out the tracker's rate limit; the pass goes on when it fires. */
  resumeTimer: NodeJS.Timeout | null;
}

/**
 * Tells each task's tracker about the task, move by move: a short run's `running → judging → merging →
 * done` shows in the tracker as it happens rather than as one jump at the end of a scheduling pass.
 * Each task's reports go in the order its moves were written, one at a time; a move that only changed
 * the summary of a state not yet told replaces it (coalesced). When the tracker says to slow down, the
 * reports wait until it allows and then go on, the latest of each state still told.
 */
export class TrackerReports {
  private readonly queues = new Map<number, TaskQueue>();
  private closed = false;

  constructor(
    private readonly orch: Orch,
    private readonly linkOf: (project: string) => ReportLink | null,
  ) {}

  /** Queues the task's status when it differs from what its tracker was last told (or is about to be). */
  note(task: Task): void {
    if (task.externalRef === null || this.closed) return;
    const link = this.linkOf(task.project);
    if (!link) return;
    const status = statusOf(task);
    const key = `${status.state}|${status.attempts}|${status.agent}|${status.summary}`;
    let queue = this.queues.get(task.id);
    if (!queue || queue.link !== link) {
      queue = { link, project: task.project, pending: [], telling: null, resumeTimer: null };
      this.queues.set(task.id, queue);
    }
    const last = queue.pending.at(-1);
    if ((last?.key ?? link.reported.get(task.id)) === key) return;
    if (last && last.status.state === status.state) queue.pending[queue.pending.length - 1] = { ref: task.externalRef, status, key };
    else queue.pending.push({ ref: task.externalRef, status, key });
    this.tell(task.id, queue);
  }

  /** Resolves once every report queued so far has been told, except those waiting out a rate limit. */
  async settled(): Promise<void> {
    for (;;) {
      const telling = [...this.queues.values()].map((q) => q.telling).filter((p): p is Promise<void> => p !== null);
      if (telling.length === 0) return;
      await Promise.all(telling);
    }
  }

  /** Stops telling: reports still queued are left to the next start's catch-up (`reportChanges`). */
  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) {
      if (queue.resumeTimer) clearTimeout(queue.resumeTimer);
      queue.resumeTimer = null;
      queue.pending.length = 0;
    }
  }

  private tell(taskId: number, queue: TaskQueue): void {
    if (queue.telling || queue.resumeTimer) return;
    queue.telling = this.tellPending(taskId, queue).finally(() => {
      queue.telling = null;
      if (queue.pending.length === 0 && !queue.resumeTimer) this.queues.delete(taskId);
    });
  }

  private async tellPending(taskId: number, queue: TaskQueue): Promise<void> {
    const { store } = this.orch;
    while (queue.pending.length > 0 && !this.closed) {
      const wait = queue.link.notBefore - this.orch.now();
      if (wait > 0) {
        // The tracker asked for a pause: go on when it ends (the timer does not keep a stopping process alive).
        queue.resumeTimer = setTimeout(() => {
          queue.resumeTimer = null;
          this.tell(taskId, queue);
        }, wait);
        queue.resumeTimer.unref();
        return;
      }
      const report = queue.pending[0]!;
      // Its issue went to another taker: theirs to report on.
      if ((await store.listEvents({ taskId, types: ['tracker.lost'] })).length > 0) {
        queue.pending.length = 0;
        return;
      }
      try {
        await queue.link.tracker.report(report.ref, report.status);
        queue.link.reported.set(taskId, report.key);
        queue.pending.shift();
      } catch (error) {
        const message = (error as Error).message.split('\n')[0]!;
        const limited = error instanceof TrackerError && error.retryAfterMs !== null;
        await store.appendEvent({ type: 'tracker.error', project: queue.project, taskId, data: { message, retryAfterMs: limited ? error.retryAfterMs : null } }, this.orch.now());
        if (limited) {
          queue.link.notBefore = Math.max(queue.link.notBefore, this.orch.now() + error.retryAfterMs!);
          continue;
        }
        // This report failed on its own (say, a ref the tracker cannot report on): it is not tried
        // again until the task next moves, and the later reports still go.
        queue.link.reported.set(taskId, report.key);
        queue.pending.shift();
      }
    }
  }
}

/** What the tracker is told about a task. */
export function statusOf(task: Task): StatusReport {
  return {
    state: task.state,
    summary: summaryOf(task),
    agent: task.agent,
    complexity: task.complexity,
    attempts: task.attempts,
    costUsd: task.costUsd,
    pullRequestUrl: task.pullRequest?.url ?? null,
  };
}

/** The fix rounds its pull request has had, and what its checks said last. */
function roundsOf(task: Task): string {
  const pr = task.pullRequest!;
  const parts = [pr.checks ? `checks ${pr.checks}` : null, pr.ciRounds > 0 ? `CI fix rounds: ${pr.ciRounds}` : null, pr.reviewRounds > 0 ? `review rounds: ${pr.reviewRounds}` : null].filter(Boolean);
  return parts.length > 0 ? ` ${parts.join('; ')}.` : '';
}

/** One sentence for the tracker's readers. */
export function summaryOf(task: Task): string {
  switch (task.state) {
    case 'new':
    case 'routed':
      if (task.pullRequest) return `Queued for another round on pull request #${task.pullRequest.number}.${roundsOf(task)}`;
      return task.attempts > 0 ? `Queued for attempt ${task.attempts + 1}.` : 'Queued: an agent will pick it up.';
    case 'running':
      return `Attempt ${task.attempts} is running${task.agent ? ` with ${task.agent}` : ''}.`;
    case 'judging':
      return 'The agent finished; its work is being tested and reviewed.';
    case 'merging':
      return 'Passed the checks; merging.';
    case 'in_review':
      return task.pullRequest ? `In review: pull request #${task.pullRequest.number} (${task.pullRequest.url}); merging it finishes the task.${roundsOf(task)}` : 'In review.';
    case 'done':
      return 'Done: the change is merged.';
    case 'blocked':
      return `Blocked: ${task.blockedReason ?? 'waiting'}.`;
    case 'needs_review':
      return `Needs a person: ${task.blockedReason ?? 'see the task'}.`;
    case 'cancelled':
      return 'Cancelled.';
  }
}
