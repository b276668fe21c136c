import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/agents/agent.js';
import {
  EMPTY_RUN_SUMMARY,
  type KillReason,
  type RunEnd,
  type RunEventSummary,
  addRunEvent,
  classifyRunEnd,
  summarizeRunEvents,
} from '../../src/core/outcome.js';
import { RUN_OUTCOMES } from '../../src/core/types.js';

const ok = { ok: true, subtype: 'success', text: 'done' };
const failedResult = { ok: false, subtype: 'success', text: 'API Error: 500' };

function end(overrides: Partial<Omit<RunEnd, 'events'>> & { events?: Partial<RunEventSummary> } = {}): RunEnd {
  const { events, ...rest } = overrides;
  return { exitCode: 0, signal: null, killedFor: null, resultExpected: true, ...rest, events: { ...EMPTY_RUN_SUMMARY, ...events } };
}

const outcomeOf = (overrides: Parameters<typeof end>[0]) => classifyRunEnd(end(overrides)).outcome;

describe('classifyRunEnd', () => {
  it.each([
    ['timeout', 'timed_out'],
    ['stall', 'stalled'],
    ['budget', 'budget_exceeded'],
    ['cancel', 'cancelled'],
    ['output_limit', 'output_limit'],
  ] as const)('a run Orch killed for %s is %s, whatever the CLI said', (killedFor, outcome) => {
    expect(outcomeOf({ killedFor, exitCode: null, signal: 'SIGTERM', events: { result: ok } })).toBe(outcome);
    expect(outcomeOf({ killedFor, exitCode: 0, events: { result: ok } })).toBe(outcome);
  });

  it('exit 0 with an ok result succeeded, even after a retried rate limit', () => {
    expect(classifyRunEnd(end({ events: { result: ok } }))).toEqual({ outcome: 'succeeded', reason: 'the agent reported success' });
    expect(outcomeOf({ events: { result: ok, rateLimit: { message: '429' } } })).toBe('succeeded');
  });

  it('exit 0 without a result succeeded only for CLIs that never report one', () => {
    expect(classifyRunEnd(end({ resultExpected: false }))).toEqual({ outcome: 'succeeded', reason: 'the agent exited 0' });
    expect(classifyRunEnd(end({ resultExpected: true }))).toEqual({ outcome: 'failed', reason: 'exited 0 without a final result' });
  });

  it('exit 0 with a failed result failed', () => {
    expect(classifyRunEnd(end({ events: { result: failedResult } }))).toEqual({
      outcome: 'failed',
      reason: 'exited 0: the agent reported failure: API Error: 500',
    });
  });

  it("the CLI's own budget stop is budget_exceeded", () => {
    const budgetError = { kind: 'budget' as const, message: 'Reached maximum budget ($1)', status: null };
    expect(classifyRunEnd(end({ exitCode: 1, events: { budgetError, lastError: budgetError } }))).toEqual({
      outcome: 'budget_exceeded',
      reason: 'the agent stopped at its budget: Reached maximum budget ($1)',
    });
    expect(outcomeOf({ exitCode: 1, events: { result: { ok: false, subtype: 'error_max_budget_usd', text: null } } })).toBe('budget_exceeded');
  });

  it('a failed run that hit a rate limit is rate_limited', () => {
    expect(classifyRunEnd(end({ exitCode: 1, events: { result: failedResult, rateLimit: { message: 'HTTP 429' } } }))).toEqual({
      outcome: 'rate_limited',
      reason: 'rate limited: HTTP 429',
    });
  });

  it('a signal or a signal exit code without a result is a crash', () => {
    expect(classifyRunEnd(end({ exitCode: null, signal: 'SIGKILL' }))).toEqual({ outcome: 'crashed', reason: 'killed by SIGKILL before reporting a result' });
    expect(classifyRunEnd(end({ exitCode: 143 })).reason).toBe('exited 143 (SIGTERM) before reporting a result');
    const lastError = { kind: 'api' as const, message: 'overloaded', status: 529 };
    expect(classifyRunEnd(end({ exitCode: 137, events: { lastError } })).reason).toBe('exited 137 (SIGKILL) before reporting a result; last error: API error 529: overloaded');
  });

  it('non-zero exits fail, with the reason the CLI gave', () => {
    const maxTurns = { kind: 'max_turns' as const, message: 'Reached maximum number of turns (3)', status: null };
    expect(classifyRunEnd(end({ exitCode: 1, events: { lastError: maxTurns, result: { ok: false, subtype: 'error_max_turns', text: null } } }))).toEqual({
      outcome: 'failed',
      reason: 'exited 1: hit its max-turns limit (Reached maximum number of turns (3))',
    });
    const auth = { kind: 'auth' as const, message: 'invalid x-api-key', status: 401 };
    expect(classifyRunEnd(end({ exitCode: 1, events: { lastError: auth } })).reason).toBe('exited 1: authentication failed: invalid x-api-key');
    expect(classifyRunEnd(end({ exitCode: 2 })).reason).toBe('exited 2 without a final result');
    expect(classifyRunEnd(end({ exitCode: 1, events: { result: { ok: false, subtype: 'error_during_execution', text: null } } })).reason).toBe(
      'exited 1: the agent reported error_during_execution',
    );
  });

  it('a signal after the result is a failure, not a crash', () => {
    expect(outcomeOf({ exitCode: null, signal: 'SIGTERM', events: { result: ok } })).toBe('failed');
  });

  it('an end with neither exit code nor signal is a crash', () => {
    expect(outcomeOf({ exitCode: null, signal: null })).toBe('crashed');
  });

  it('keeps reasons to one short line', () => {
    const lastError = { kind: 'other' as const, message: `first\n${'x'.repeat(500)}`, status: null };
    const { reason } = classifyRunEnd(end({ exitCode: 1, events: { lastError } }));
    expect(reason).not.toContain('\n');
    expect(reason.length).toBeLessThan(230);
  });

  describe('is total', () => {
    const reported = fc.record({ ok: fc.boolean(), subtype: fc.option(fc.string(), { nil: null }), text: fc.option(fc.string(), { nil: null }) });
    const error = fc.record({
      kind: fc.constantFrom('api', 'auth', 'max_turns', 'budget', 'rate_limit', 'other' as const),
      message: fc.string(),
      status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
    });
    const runEnd: fc.Arbitrary<RunEnd> = fc.record({
      exitCode: fc.option(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer()), { nil: null }),
      signal: fc.option(fc.constantFrom('SIGTERM', 'SIGKILL', 'SIGINT', 'SIGSEGV', ''), { nil: null }),
      killedFor: fc.option(fc.constantFrom<KillReason>('timeout', 'stall', 'budget', 'cancel', 'output_limit'), { nil: null }),
      resultExpected: fc.boolean(),
      events: fc.record({
        result: fc.option(reported, { nil: null }),
        lastError: fc.option(error, { nil: null }),
        budgetError: fc.option(error, { nil: null }),
        rateLimit: fc.option(fc.record({ message: fc.string() }), { nil: null }),
      }),
    });

    it('every end gets one of the nine outcomes and a reason', () => {
      fc.assert(
        fc.property(runEnd, (input) => {
          const verdict = classifyRunEnd(input);
          expect(RUN_OUTCOMES).toContain(verdict.outcome);
          expect(verdict.reason.trim()).not.toBe('');
        }),
        { numRuns: 2000 },
      );
    });

    it("Orch's own kill always decides, and a clean success is never anything else", () => {
      fc.assert(
        fc.property(runEnd, (input) => {
          const { outcome } = classifyRunEnd(input);
          if (input.killedFor !== null) expect(outcome).not.toBe('succeeded');
          if (input.killedFor === null && input.exitCode === 0 && input.signal === null && input.events.result?.ok) expect(outcome).toBe('succeeded');
          if (input.killedFor === null && outcome === 'succeeded') expect(input.exitCode).toBe(0);
        }),
        { numRuns: 2000 },
      );
    });
  });
});

describe('summarizeRunEvents', () => {
  it('keeps the last result and error, any budget stop and the last rate limit', () => {
    const events: AgentEvent[] = [
      { type: 'session_started', sessionId: 's', model: null, cwd: null, tools: [] },
      { type: 'error', kind: 'budget', message: 'over', status: null },
      { type: 'rate_limit', message: 'slow down', retryAfterMs: 10 },
      { type: 'error', kind: 'api', message: 'boom', status: 500 },
      { type: 'result', ok: false, subtype: 'success', text: 'boom', turns: 1 },
    ];
    expect(summarizeRunEvents(events)).toEqual({
      result: { ok: false, subtype: 'success', text: 'boom' },
      lastError: { kind: 'api', message: 'boom', status: 500 },
      budgetError: { kind: 'budget', message: 'over', status: null },
      rateLimit: { message: 'slow down' },
    });
  });

  it('treats an error with status 429 as a rate limit', () => {
    const summary = addRunEvent(EMPTY_RUN_SUMMARY, { type: 'error', kind: 'api', message: 'HTTP 429', status: 429 } as const);
    expect(summary.rateLimit).toEqual({ message: 'HTTP 429' });
  });

  it('does not change the summary it was given', () => {
    addRunEvent(EMPTY_RUN_SUMMARY, { type: 'result', ok: true, subtype: null, text: null } as const);
    expect(EMPTY_RUN_SUMMARY.result).toBeNull();
  });
});
