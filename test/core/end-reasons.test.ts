import { describe, expect, it } from 'vitest';
import { RUN_OUTCOMES } from '../../src/core/types.js';
import { countsForSuccessRate, END_REASON_NAMES, endedInSuccess, endReasonAfterAgent, isEndReason, NO_VERDICT_END_REASONS, RUN_END_REASONS, SUCCESS_END_REASONS } from '../../src/core/end-reasons.js';

describe('run end reasons', () => {
  it('name each reason once, with what it says about the agent', () => {
    expect(SUCCESS_END_REASONS).toEqual(['merged', 'pr_opened', 'pr_updated', 'branch_pushed', 'completed']);
    expect(NO_VERDICT_END_REASONS).toEqual(['cancelled', 'paused', 'interrupted', 'host_lost', 'rate_limited']);
    for (const reason of END_REASON_NAMES) {
      expect(isEndReason(reason)).toBe(true);
      expect(endedInSuccess(reason)).toBe(RUN_END_REASONS[reason] === 'success');
      expect(countsForSuccessRate(reason)).toBe(RUN_END_REASONS[reason] !== 'no_verdict');
    }
    expect(isEndReason('toString')).toBe(false);
    expect(endedInSuccess(null)).toBe(false);
    expect(countsForSuccessRate(null)).toBe(false);
  });

  it('say why a run ended when the agent alone settles it, and leave it open when the judge is next', () => {
    for (const outcome of RUN_OUTCOMES) expect(endReasonAfterAgent(outcome, 'judge')).toBeNull();
    expect(endReasonAfterAgent('succeeded', 'retry')).toBe('no_change');
    expect(endReasonAfterAgent('succeeded', 'block')).toBe('agent_blocked');
    expect(endReasonAfterAgent('succeeded', 'escalate')).toBe('agent_asked_review');
    expect(endReasonAfterAgent('failed', 'retry')).toBe('agent_failed');
    expect(endReasonAfterAgent('timed_out', 'escalate')).toBe('timed_out');
    expect(endReasonAfterAgent('rate_limited', 'retry')).toBe('rate_limited');
    expect(endReasonAfterAgent('succeeded', 'none')).toBe('cancelled');
    for (const outcome of RUN_OUTCOMES) expect(isEndReason(endReasonAfterAgent(outcome, 'retry'))).toBe(true);
  });
});
