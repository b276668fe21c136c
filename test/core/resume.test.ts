import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRASH_LIMIT, afterCrash, interruptionsInARow } from '../../src/core/after-run.js';
import { sessionToContinue, sessionToResume } from '../../src/core/resume.js';
import { END_REASON_NAMES, type RunEndReason } from '../../src/core/end-reasons.js';
import { RUN_OUTCOMES, type RunOutcome } from '../../src/core/types.js';

const run = (id: number, outcome: RunOutcome | null, sessionId: string | null = `s${id}`, agent = 'claude', endReason: RunEndReason | null = null) => ({ id, outcome, sessionId, agent, endReason });

describe('sessionToResume', () => {
  it('continues the session of the last run when Orch crashed under it', () => {
    expect(sessionToResume([run(1, 'failed'), run(2, 'crashed')], 'claude', true)).toEqual({ id: 2, sessionId: 's2' });
  });

  it('continues the session of a run a person paused (its task was held mid-run)', () => {
    expect(sessionToResume([run(1, 'failed'), run(2, 'cancelled', 's2', 'claude', 'paused')], 'claude', true)).toEqual({ id: 2, sessionId: 's2' });
    expect(sessionToResume([run(1, 'cancelled', 's1', 'claude', 'cancelled')], 'claude', true)).toBeNull();
  });

  it('starts afresh after any other ending, without a session, for another agent, or when the CLI cannot resume', () => {
    expect(sessionToResume([run(1, 'crashed'), run(2, 'failed')], 'claude', true)).toBeNull();
    expect(sessionToResume([run(1, 'crashed', null)], 'claude', true)).toBeNull();
    expect(sessionToResume([run(1, 'crashed')], 'codex', true)).toBeNull();
    expect(sessionToResume([run(1, 'crashed')], 'claude', false)).toBeNull();
    expect(sessionToResume([], 'claude', true)).toBeNull();
  });

  it('only ever resumes the latest ended run, and only a crashed one', () => {
    const runs = fc.array(
      fc.record({ outcome: fc.option(fc.constantFrom(...RUN_OUTCOMES), { nil: null }), endReason: fc.option(fc.constantFrom(...END_REASON_NAMES), { nil: null }), sessionId: fc.option(fc.string({ minLength: 1 }), { nil: null }), agent: fc.constantFrom('claude', 'codex') }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(runs, fc.boolean(), (list, canResume) => {
        const numbered = list.map((r, i) => ({ ...r, id: i + 1 }));
        // Order in the input does not matter: the latest by id decides.
        const chosen = sessionToResume([...numbered].reverse(), 'claude', canResume);
        const ended = numbered.filter((r) => r.outcome !== null);
        const last = ended[ended.length - 1];
        if (chosen === null) return;
        expect(canResume).toBe(true);
        expect(chosen.id).toBe(last!.id);
        expect(last).toMatchObject({ agent: 'claude', sessionId: chosen.sessionId });
        expect(last!.outcome === 'crashed' || last!.endReason === 'paused').toBe(true);
      }),
    );
  });
});

describe('afterCrash', () => {
  it('retries at once without using up an attempt, until Orch has died under the task CRASH_LIMIT times', () => {
    expect(afterCrash(1, CRASH_LIMIT, 'Orch stopped')).toEqual({ next: 'retry', reason: 'Orch stopped', backoff: false, countsAsAttempt: false, changeAgent: false });
    expect(afterCrash(CRASH_LIMIT - 1, CRASH_LIMIT, 'x').next).toBe('retry');
    expect(afterCrash(CRASH_LIMIT, CRASH_LIMIT, 'x')).toMatchObject({ next: 'escalate', reason: expect.stringContaining(`Orch stopped during ${CRASH_LIMIT} attempts of this task in a row`) });
  });

  it('counts the interruptions in a row from how attempts ended', () => {
    expect(interruptionsInARow([])).toBe(0);
    expect(interruptionsInARow(['claim.recovered', 'claim.recovered'])).toBe(2);
    expect(interruptionsInARow(['claim.recovered', 'claim.released', 'claim.recovered'])).toBe(1);
    expect(interruptionsInARow(['claim.recovered', 'claim.recovered', 'task.requeue'])).toBe(0);
  });
});

describe('sessionToContinue', () => {
  const ended = (id: number, endReason: 'pr_opened' | 'pr_updated' | 'judge_failed', sessionId: string | null = `s${id}`, agent = 'claude') => ({ id, endReason, sessionId, agent });

  it('goes on from the session that opened or last updated the pull request', () => {
    expect(sessionToContinue([ended(1, 'pr_opened')], 'claude', true)).toEqual({ id: 1, sessionId: 's1' });
    expect(sessionToContinue([ended(1, 'pr_opened'), ended(2, 'pr_updated')], 'claude', true)).toEqual({ id: 2, sessionId: 's2' });
  });

  it('starts afresh after a failed fix attempt, for another agent, without a session, or when the CLI cannot resume', () => {
    expect(sessionToContinue([ended(1, 'pr_opened'), ended(2, 'judge_failed')], 'claude', true)).toBeNull();
    expect(sessionToContinue([ended(1, 'pr_opened')], 'codex', true)).toBeNull();
    expect(sessionToContinue([ended(1, 'pr_opened', null)], 'claude', true)).toBeNull();
    expect(sessionToContinue([ended(1, 'pr_opened')], 'claude', false)).toBeNull();
  });
});
