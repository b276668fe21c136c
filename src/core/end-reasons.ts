// Why a run ended, by name, and what that says about the agent that ran it. This table is the one
// definition of a successful run: the store's SQL, the run stats, the scoreboard and patrol all read it.

import type { AfterRun } from './after-run.js';
import type { RunOutcome, TaskState } from './types.js';

/**
 * What an ended run says about its agent: `success` and `failure` count toward success rates;
 * `no_verdict` runs (a person cancelled, Orch's own crash, a provider's rate limit) count for neither.
 */
export type EndVerdict = 'success' | 'failure' | 'no_verdict';

export const RUN_END_REASONS = {
  /** Judged and merged into the default branch. */
  merged: 'success',
  /** Judged and proposed in a pull request. */
  pr_opened: 'success',
  /** A fix round on an open pull request: judged and pushed to the same branch. */
  pr_updated: 'success',
  /** Judged and pushed to the remote for a person to open a pull request from. */
  branch_pushed: 'success',
  /** Work that merges nothing went as asked: a plan split into tasks, a read-only review. */
  completed: 'success',
  /** The agent exited successfully but its branch has no change against the base. */
  no_change: 'failure',
  /** The agent exited with a failure. */
  agent_failed: 'failure',
  timed_out: 'failure',
  stalled: 'failure',
  budget_exceeded: 'failure',
  /** The agent wrote more output than a run may. */
  output_limit: 'failure',
  /** The agent said it is blocked and cannot go on. */
  agent_blocked: 'failure',
  /** The agent handed the task to a person. */
  agent_asked_review: 'failure',
  /** A workspace hook (after_create, before_run) failed before the agent could start. */
  hook_failed: 'failure',
  /** Tests, lint or scope rules failed on the agent's change. */
  judge_failed: 'failure',
  /** The review agent rejected the change. */
  review_rejected: 'failure',
  /** The judged branch could not be pushed to the remote. */
  push_failed: 'failure',
  /** Rebasing onto the default branch left conflicts the resolution could not settle. */
  conflict: 'failure',
  /** The rebased change failed its tests, or the default branch kept moving under it. */
  merge_failed: 'failure',
  /** A step after the agent failed; recorded before end reasons were named. */
  step_failed: 'failure',
  /** A person cancelled the run or its task. */
  cancelled: 'no_verdict',
  /** A person put the task on hold while the agent ran (blocked it, or its issue stopped being ready); it goes on from its worktree later. */
  paused: 'no_verdict',
  /** Orch itself stopped while the run went on. */
  interrupted: 'no_verdict',
  /** The host running it stopped heartbeating (its daemon died or lost the store); another host took the task over. */
  host_lost: 'no_verdict',
  /** The model provider refused more requests for now. */
  rate_limited: 'no_verdict',
} as const satisfies Record<string, EndVerdict>;

export type RunEndReason = keyof typeof RUN_END_REASONS;
export const END_REASON_NAMES = Object.keys(RUN_END_REASONS) as RunEndReason[];

const withVerdict = (verdict: EndVerdict) => END_REASON_NAMES.filter((reason) => RUN_END_REASONS[reason] === verdict);
/** The end reasons of a successful run. */
export const SUCCESS_END_REASONS: readonly RunEndReason[] = withVerdict('success');
/** The end reasons that count neither for nor against an agent. */
export const NO_VERDICT_END_REASONS: readonly RunEndReason[] = withVerdict('no_verdict');
/** The end reasons that say something about the agent: success rates and patrol count these. */
export const VERDICT_END_REASONS: readonly RunEndReason[] = END_REASON_NAMES.filter((reason) => RUN_END_REASONS[reason] !== 'no_verdict');

export function isEndReason(value: unknown): value is RunEndReason {
  return typeof value === 'string' && Object.hasOwn(RUN_END_REASONS, value);
}

/** Whether a run succeeded: it ended, for a reason that is a success. */
export function endedInSuccess(endReason: RunEndReason | null): boolean {
  return endReason !== null && RUN_END_REASONS[endReason] === 'success';
}

/** Whether a run counts toward success rates: it ended, for a reason that says something about its agent. */
export function countsForSuccessRate(endReason: RunEndReason | null): boolean {
  return endReason !== null && RUN_END_REASONS[endReason] !== 'no_verdict';
}

/** Why a run ended when its agent's end alone settles it; null when the judge decides next. */
export function endReasonAfterAgent(outcome: RunOutcome, next: AfterRun['next'], taskState?: TaskState): RunEndReason | null {
  if (next === 'judge') return null;
  // A person moved the task on while the agent ran: held it (it goes on later), or cancelled it.
  if (next === 'none') return taskState === 'blocked' ? 'paused' : 'cancelled';
  switch (outcome) {
    case 'succeeded':
      if (next === 'block') return 'agent_blocked';
      if (next === 'escalate') return 'agent_asked_review';
      // A successful exit that is retried changed nothing.
      return 'no_change';
    case 'failed':
    case 'crashed':
      return 'agent_failed';
    case 'timed_out':
    case 'stalled':
    case 'budget_exceeded':
    case 'output_limit':
    case 'rate_limited':
    case 'cancelled':
      return outcome;
  }
}
