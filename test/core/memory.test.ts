import { describe, expect, it } from 'vitest';
import { attemptRecordOf, clip, rememberAttempts, type AttemptRecord } from '../../src/core/memory.js';

const record = (attempt: number, extra: Partial<AttemptRecord> = {}): AttemptRecord => ({
  attempt,
  outcome: 'failed',
  reason: 'exited 1',
  summary: null,
  failure: null,
  ...extra,
});

describe('attemptRecordOf', () => {
  it('reads the summary, the failure and the reason from a run', () => {
    const run = { attempt: 2, outcome: 'succeeded', result: { reason: 'exited 0', contract: { status: 'done', summary: 'Added the tax rate.' }, failure: '- tests failed: exited 1' } };
    expect(attemptRecordOf(run)).toEqual({ attempt: 2, outcome: 'succeeded', reason: 'exited 0', summary: 'Added the tax rate.', failure: '- tests failed: exited 1' });
  });

  it('tolerates runs that recorded nothing, or something unexpected', () => {
    expect(attemptRecordOf({ attempt: 1, outcome: null, result: null })).toEqual({ attempt: 1, outcome: 'unfinished', reason: 'no reason recorded', summary: null, failure: null });
    expect(attemptRecordOf({ attempt: 1, outcome: 'failed', result: { reason: 42, contract: 'x', failure: '  ' } })).toMatchObject({ reason: 'no reason recorded', summary: null, failure: null });
  });
});

describe('rememberAttempts', () => {
  it('says what each attempt tried and what went wrong, on one line each', () => {
    const failure = '- tests failed: sh test/run.sh exited 1\n  ```\n  FAIL: src contains BROKEN\n  ```';
    const lines = rememberAttempts([record(1, { outcome: 'succeeded', reason: 'exited 0', summary: 'Refactored\nthe config.', failure })]);
    expect(lines).toEqual(['Attempt 1 ended succeeded: exited 0 — it tried: Refactored the config. — what went wrong: - tests failed: sh test/run.sh exited 1 | FAIL: src contains BROKEN']);
  });

  it('bounds each attempt', () => {
    const [line] = rememberAttempts([record(1, { failure: 'x '.repeat(2000) })], { perAttempt: 120, total: 1000 });
    expect(line!.length).toBeLessThanOrEqual(120);
    expect(line).toMatch(/…$/);
  });

  it('bounds the whole, keeping the newest attempts and saying how many were left out', () => {
    const records = Array.from({ length: 20 }, (_, i) => record(i + 1, { summary: `attempt number ${i + 1} tried something ${'quite long '.repeat(5)}` }));
    const lines = rememberAttempts(records, { perAttempt: 100, total: 450 });
    expect(lines.join('\n').length).toBeLessThanOrEqual(450);
    expect(lines[0]).toMatch(/^\(\d+ earlier attempts left out\)$/);
    expect(lines.at(-1)).toContain('Attempt 20 ');
    const omitted = Number(/\((\d+)/.exec(lines[0]!)![1]);
    expect(omitted + lines.length - 1).toBe(20);
  });

  it('keeps everything when it fits', () => {
    expect(rememberAttempts([record(1), record(2)])).toEqual(['Attempt 1 ended failed: exited 1', 'Attempt 2 ended failed: exited 1']);
    expect(rememberAttempts([])).toEqual([]);
  });
});

describe('clip', () => {
  it('cuts at a word near the limit', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('one two three four five', 16)).toBe('one two three…');
    expect(clip('abcdefghijklmnop', 6)).toBe('abcde…');
  });
});
