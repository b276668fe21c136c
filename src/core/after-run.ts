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
    return { next: 'judge', reason: input.result ? input.result.summary : 'the agent exited successfully' };
  }
  if (input.outcome === 'cancelled') return { next: 'escalate', reason: 'the run was cancelled' };
  if (input.outcome === 'rate_limited') {
    return { next: 'retry', reason: input.reason, backoff: false, countsAsAttempt: false, changeAgent: true };
  }
  if (input.outcome === 'budget_exceeded' && input.taskBudgetExhausted) {
    return { next: 'escalate', reason: `the task's budget is spent: ${input.reason}` };
  }
  if (input.attempts >= input.maxAttempts) {
    return { next: 'escalate', reason: `${input.attempts} of ${input.maxAttempts} attempts failed; the last: ${input.reason}` };
  }
  return { next: 'retry', reason: input.reason, backoff: true, countsAsAttempt: true, changeAgent: false };
}

/**
 * The agent to try after `current` was rate-limited: the next one in the chain that is not cooling
 * down, wrapping around; null when every other agent is cooling too.
 */
export function fallbackAgent(chain: readonly string[], current: string, cooling: ReadonlySet<string>): string | null {
  const start = chain.indexOf(current);
  for (let step = 1; step <= chain.length; step++) {
    const candidate = chain[(start + step + chain.length) % chain.length]!;
    if (candidate !== current && !cooling.has(candidate)) return candidate;
  }
  return null;
}
