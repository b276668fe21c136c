import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideAfterRun, type AfterRunInput } from '../../src/core/after-run.js';
import { RUN_OUTCOMES, TASK_STATES } from '../../src/core/types.js';

const base: AfterRunInput = {
  outcome: 'succeeded',
  reason: 'the agent reported success',
  result: null,
  attempts: 1,
  maxAttempts: 3,
  taskState: 'running',
  taskBudgetExhausted: false,
  changedFiles: true,
};

describe('what follows a run', () => {
  it('sends successful work to the judge, or where the agent says', () => {
    expect(decideAfterRun(base)).toEqual({ next: 'judge', reason: 'the agent exited successfully and left changes' });
    const result = { status: 'done' as const, summary: 'added the endpoint', remaining: '', followUps: [] };
    expect(decideAfterRun({ ...base, result })).toEqual({ next: 'judge', reason: 'added the endpoint' });
    expect(decideAfterRun({ ...base, result: { ...result, status: 'blocked', remaining: 'needs a DB URL' } })).toEqual({ next: 'block', reason: 'the agent is blocked: needs a DB URL' });
    expect(decideAfterRun({ ...base, result: { ...result, status: 'needs_review' } }).next).toBe('escalate');
  });

  it('judges a run without a result block by its diff, never by its words', () => {
    expect(decideAfterRun({ ...base, changedFiles: false })).toMatchObject({ next: 'retry', reason: 'the agent exited 0 without a result block and changed nothing' });
    expect(decideAfterRun({ ...base, changedFiles: null }).next).toBe('judge');
  });

  it('moves a rate-limited task to another agent without using an attempt', () => {
    expect(decideAfterRun({ ...base, outcome: 'rate_limited', attempts: 3 })).toMatchObject({ next: 'retry', backoff: false, countsAsAttempt: false, changeAgent: true });
  });

  it('retries failures with backoff until attempts run out, then asks a person', () => {
    expect(decideAfterRun({ ...base, outcome: 'stalled', reason: 'went quiet' })).toMatchObject({ next: 'retry', backoff: true, countsAsAttempt: true });
    expect(decideAfterRun({ ...base, outcome: 'failed', reason: 'exited 1', attempts: 3 })).toEqual({ next: 'escalate', reason: '3 of 3 attempts failed; the last: exited 1' });
    expect(decideAfterRun({ ...base, outcome: 'budget_exceeded', taskBudgetExhausted: true }).next).toBe('escalate');
  });

  it('leaves a task a person already moved alone', () => {
    expect(decideAfterRun({ ...base, taskState: 'cancelled' })).toEqual({ next: 'none', reason: 'the task is cancelled' });
  });

  it('decides something for every outcome and state, and never retries past the attempts', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RUN_OUTCOMES), fc.constantFrom(...TASK_STATES), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.option(fc.boolean(), { nil: null }), (outcome, taskState, attempts, maxAttempts, taskBudgetExhausted, changedFiles) => {
        const decision = decideAfterRun({ ...base, outcome, taskState, attempts, maxAttempts, taskBudgetExhausted, changedFiles });
        expect(['judge', 'retry', 'block', 'escalate', 'none']).toContain(decision.next);
        expect(decision.reason.length).toBeGreaterThan(0);
        if (decision.next === 'retry' && decision.countsAsAttempt) expect(attempts).toBeLessThan(maxAttempts);
        if (taskState !== 'running') expect(decision.next).toBe('none');
      }),
    );
  });
});
