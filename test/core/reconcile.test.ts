import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RECONCILE_DECISIONS, reconcileRun, reconcileWithIssue, TRACKER_BLOCK_KIND } from '../../src/core/reconcile.js';
import { BLOCK_KINDS, TASK_STATES, TERMINAL_STATES, type TaskState } from '../../src/core/types.js';

const task = (state: TaskState, priority = 0, blockKind: (typeof BLOCK_KINDS)[number] | null = null) => ({ state, priority, blockKind });
const open = { closed: false, held: null, priority: 0 };

describe('reconciling a task with its issue', () => {
  it('cancels whatever has not finished when its issue is closed', () => {
    for (const state of ['new', 'routed', 'running', 'judging', 'merging', 'in_review', 'blocked', 'needs_review'] as const) {
      expect(reconcileWithIssue(task(state), { ...open, closed: true }).decision).toBe('stop_and_cancel');
    }
    expect(reconcileWithIssue(task('done'), { ...open, closed: true }).decision).toBe('keep_running');
    expect(reconcileWithIssue(task('cancelled'), { ...open, closed: true }).decision).toBe('keep_running');
  });

  it('stops and keeps work that has not reached the judge when its issue is held', () => {
    for (const state of ['new', 'routed', 'running'] as const) {
      expect(reconcileWithIssue(task(state), { ...open, held: 'it carries the blocked label' })).toEqual({ decision: 'stop_and_wait', reason: 'its issue is on hold: it carries the blocked label' });
    }
    // A change already being judged or merged is let finish.
    expect(reconcileWithIssue(task('judging'), { ...open, held: 'x' }).decision).toBe('keep_running');
    expect(reconcileWithIssue(task('merging'), { ...open, held: 'x' }).decision).toBe('keep_running');
  });

  it('resumes a task the tracker held once its issue is ready again, and only that kind of block', () => {
    expect(reconcileWithIssue(task('blocked', 0, TRACKER_BLOCK_KIND), open).decision).toBe('resume');
    expect(reconcileWithIssue(task('blocked', 0, 'manual'), open).decision).toBe('keep_running');
    expect(reconcileWithIssue(task('blocked', 0, 'agent'), open).decision).toBe('keep_running');
    expect(reconcileWithIssue(task('blocked', 0, TRACKER_BLOCK_KIND), { ...open, held: 'x' }).decision).toBe('keep_running');
  });

  it('moves only the priority when that is all that changed', () => {
    expect(reconcileWithIssue(task('running', 0), { ...open, priority: 3 })).toEqual({ decision: 'priority_changed', reason: 'priority 0 → 3' });
    expect(reconcileWithIssue(task('running', 3), { ...open, priority: 3 }).decision).toBe('keep_running');
  });

  it('always names one decision, and never stops a finished task', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TASK_STATES),
        fc.option(fc.constantFrom(...BLOCK_KINDS), { nil: null }),
        fc.boolean(),
        fc.option(fc.string({ minLength: 1 }), { nil: null }),
        fc.integer({ min: -3, max: 3 }),
        fc.integer({ min: -3, max: 3 }),
        (state, blockKind, closed, held, priority, issuePriority) => {
          const { decision } = reconcileWithIssue({ state, blockKind, priority }, { closed, held, priority: issuePriority });
          expect(RECONCILE_DECISIONS).toContain(decision);
          if (TERMINAL_STATES.has(state)) expect(decision === 'keep_running' || decision === 'priority_changed').toBe(true);
          if (decision === 'stop_and_wait') expect(['new', 'routed', 'running']).toContain(state);
          if (decision === 'resume') expect(blockKind).toBe(TRACKER_BLOCK_KIND);
        },
      ),
    );
  });
});

describe('reconciling a run with its task', () => {
  it('stops a run whose task a person cancelled or held, and lets a run move its own task on', () => {
    expect(reconcileRun('cancelled').decision).toBe('stop_and_cancel');
    expect(reconcileRun('done').decision).toBe('stop_and_cancel');
    expect(reconcileRun('blocked').decision).toBe('stop_and_wait');
    for (const state of ['running', 'judging', 'merging', 'routed', 'new', 'in_review'] as const) expect(reconcileRun(state).decision).toBe('keep_running');
  });
});
