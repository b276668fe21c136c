import type { AgentResult } from './result-contract.js';
import type { RunOutcome, TaskState } from './types.js';

export interface AfterRunInput {
  outcome: RunOutcome;
  /** Why the run ended as it did (from classifyRunEnd). */
  reason: string;
  /** The agent's result block, when it ended with a valid one. */
  result: AgentResult | null;
  /** Attempts made so far, this one included. */
  attempts: number;
  maxAttempts: number;
  /** The task's state now: a person may have cancelled it while the run was going. */
  taskState: TaskState;
  /** Whether the task's total cost has reached its cap. */
  taskBudgetExhausted: boolean;
  /** Whether the run left changes in its working directory; null when that is unknown. */
  changedFiles: boolean | null;
}

/** What happens to the task after a run, by name. */
export type AfterRun =
  /** The work is ready to be judged. */
  | { next: 'judge'; reason: string }
  /** Another attempt later; `countsAsAttempt` false when the failure was not the task's (a rate limit). */
  | { next: 'retry'; reason: string; backoff: boolean; countsAsAttempt: boolean; changeAgent: boolean }
  | { next: 'block'; reason: string }
  | { next: 'escalate'; reason: string }
  /** The task moved on without the run (cancelled by a person): nothing to change. */
  | { next: 'none'; reason: string };

/**
 * The task's next move after a run ended. A successful run goes to the judge unless the agent said
 * it is blocked or wants a person to look; a rate limit sends the task to another agent at once
 * without using up an attempt; other failures retry with backoff until attempts run out.
 */
export function decideAfterRun(input: AfterRunInput): AfterRun {
  if (input.taskState !== 'running') return { next: 'none', reason: `the task is ${input.taskState}` };
  if (input.outcome === 'succeeded') {
    if (input.result?.status === 'blocked') return { next: 'block', reason: `the agent is blocked: ${input.result.remaining || input.result.summary}` };
    if (input.result?.status === 'needs_review') {
      return { next: 'escalate', reason: `the agent asks for review: ${input.result.remaining || input.result.summary}` };
    }
    if (input.result) return { next: 'judge', reason: input.result.summary };
    // No result block: the exit code and the diff decide, never the agent's free text.
    if (input.changedFiles === false) return afterFailure(input.attempts, input.maxAttempts, 'the agent exited 0 without a result block and changed nothing');
    return { next: 'judge', reason: 'the agent exited successfully and left changes' };
  }
  if (input.outcome === 'cancelled') return { next: 'escalate', reason: 'the run was cancelled' };
  if (input.outcome === 'rate_limited') {
    return { next: 'retry', reason: input.reason, backoff: false, countsAsAttempt: false, changeAgent: true };
  }
  if (input.outcome === 'budget_exceeded' && input.taskBudgetExhausted) {
    return { next: 'escalate', reason: `the task's budget is spent: ${input.reason}` };
  }
  return afterFailure(input.attempts, input.maxAttempts, input.reason);
}

/** A failed attempt (the agent's, the judge's or the merge's): another one after a backoff, or a person once attempts run out. */
export function afterFailure(attempts: number, maxAttempts: number, reason: string): AfterRun {
  if (attempts >= maxAttempts) {
    return { next: 'escalate', reason: `${attempts} of ${maxAttempts} attempts failed; the last: ${reason}` };
  }
  return { next: 'retry', reason, backoff: true, countsAsAttempt: true, changeAgent: false };
}

/**
 * Orch's own death interrupted an attempt: the task goes back to the queue at once, and the attempt is
 * not the task's failure, so it does not use one up. Only a task that Orch died under again and again
 * (`crashes` attempts in a row, this one included) goes to a person: it may be what kills Orch.
 */
export function afterCrash(crashes: number, crashLimit: number, reason: string): AfterRun {
  if (crashes >= crashLimit) {
    return { next: 'escalate', reason: `Orch stopped during ${crashes} attempts of this task in a row, so it is not started again by itself (it may be what stops Orch); the last: ${reason}` };
  }
  return { next: 'retry', reason, backoff: false, countsAsAttempt: false, changeAgent: false };
}

/**
 * Attempts of one task in a row that Orch died under, after which a person looks (see afterCrash).
 * Small: each one took the daemon down and interrupted every other run with it.
 */
export const CRASH_LIMIT = 3;

/**
 * The events that tell how a task's attempts ended, for counting Orch's deaths under it in a row: an
 * attempt ends with its claim released (it ran to its end) or recovered (Orch died under it), and a
 * person's retry starts the count afresh.
 */
export const ATTEMPT_END_EVENTS = ['claim.released', 'claim.recovered', 'task.requeue'] as const;

/** How many of the task's last attempts in a row Orch died under, from its ATTEMPT_END_EVENTS in order. */
export function interruptionsInARow(eventTypes: readonly string[]): number {
  let count = 0;
  for (let i = eventTypes.length - 1; i >= 0 && eventTypes[i] === 'claim.recovered'; i--) count++;
  return count;
}
