// What Orch does with a task when the world changed under it: a person closed, held or reprioritised its
// issue in the tracker, or cancelled or blocked the task itself. Every decision has a name, so the
// events, the logs and the tests all say the same thing. Pure: states in, decision out.

import type { BlockKind, TaskState } from './types.js';
import { TERMINAL_STATES } from './types.js';

/**
 * The named decisions of reconciliation.
 * - `keep_running`: nothing changed that concerns the work going on.
 * - `stop_and_cancel`: closed in the tracker, or cancelled by a person: the agent stops, the worktree
 *   goes (the branch stays when it holds commits), the task is cancelled.
 * - `stop_and_wait`: no longer ready (held, blocked, moved back): the agent stops, the worktree stays,
 *   the task waits and goes on from that worktree when it is ready again.
 * - `resume`: what held the task is gone: it is queued again, to go on where it stopped.
 * - `priority_changed`: only its place in the queue moves; nothing stops.
 */
export const RECONCILE_DECISIONS = ['keep_running', 'stop_and_cancel', 'stop_and_wait', 'resume', 'priority_changed'] as const;
export type ReconcileDecisionName = (typeof RECONCILE_DECISIONS)[number];

export interface ReconcileDecision {
  decision: ReconcileDecisionName;
  /** For people: why, in a few words. */
  reason: string;
}

/** The block a tracker's hold puts on a task: cleared only when the tracker says it is ready again. */
export const TRACKER_BLOCK_KIND = 'tracker' satisfies BlockKind;

/** States in which the task's work has not reached the judge: a hold stops it there. */
const HOLDABLE_STATES: ReadonlySet<TaskState> = new Set(['new', 'routed', 'running']);

/** What the tracker says about a task's issue now. */
export interface IssueStanding {
  closed: boolean;
  /** Why a person says not now (a blocked label, an open blocker, moved out of a ready state); null: go ahead. */
  held: string | null;
  priority: number;
}

/**
 * A tracked task against its issue. A closed issue cancels whatever has not finished; a held issue
 * stops the work before it is judged (a change already being judged or merged is let finish: it is done
 * work, and it is held if it comes back to the queue); a hold lifted queues the task again.
 */
export function reconcileWithIssue(task: { state: TaskState; blockKind: BlockKind | null; priority: number }, issue: IssueStanding): ReconcileDecision {
  if (issue.closed) {
    if (TERMINAL_STATES.has(task.state)) return { decision: 'keep_running', reason: `the task is already ${task.state}` };
    return { decision: 'stop_and_cancel', reason: 'its issue was closed' };
  }
  const heldByTracker = task.state === 'blocked' && task.blockKind === TRACKER_BLOCK_KIND;
  if (issue.held !== null) {
    if (HOLDABLE_STATES.has(task.state)) return { decision: 'stop_and_wait', reason: `its issue is on hold: ${issue.held}` };
    return { decision: 'keep_running', reason: heldByTracker ? 'still on hold' : `the task is ${task.state}` };
  }
  if (heldByTracker) return { decision: 'resume', reason: 'its issue is ready again' };
  if (issue.priority !== task.priority) return { decision: 'priority_changed', reason: `priority ${task.priority} → ${issue.priority}` };
  return { decision: 'keep_running', reason: 'nothing changed' };
}

/**
 * A run this process has going, against its task's state in the store now (moved there by a person or
 * by the tracker's reconciliation). A task the run itself moved on (judging, back to the queue) is let be.
 */
export function reconcileRun(state: TaskState): ReconcileDecision {
  switch (state) {
    case 'cancelled':
      return { decision: 'stop_and_cancel', reason: 'the task was cancelled' };
    case 'done':
      return { decision: 'stop_and_cancel', reason: 'the task was settled as done' };
    case 'blocked':
    case 'needs_review':
      return { decision: 'stop_and_wait', reason: `the task is ${state === 'blocked' ? 'blocked' : 'waiting for a person'}` };
    default:
      return { decision: 'keep_running', reason: `the task is ${state}` };
  }
}
