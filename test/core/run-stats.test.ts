import { describe, expect, it } from 'vitest';
import { agentStats, durationHistogram, modelStats, runSucceeded, spendByDay, successRate, summarizeDurations, summarizeProject } from '../../src/core/run-stats.js';
import type { Run } from '../../src/core/types.js';

let nextId = 1;
function run(fields: Partial<Run>): Run {
  return {
    id: nextId++,
    taskId: 1,
    project: 'app',
    attempt: 1,
    agent: 'claude',
    model: null,
    worktree: null,
    branch: null,
    pid: null,
    host: null,
    sessionId: null,
    startedAt: 0,
    endedAt: 60_000,
    outcome: 'succeeded',
    endReason: 'merged',
    exitCode: 0,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    logPath: null,
    result: null,
    ...fields,
  };
}

describe('success rates', () => {
  it('count a run as a success by its end reason alone: merged, pull request opened, branch pushed, completed', () => {
    expect(runSucceeded(run({}))).toBe(true);
    expect(runSucceeded(run({ endReason: 'pr_opened' }))).toBe(true);
    expect(runSucceeded(run({ endReason: 'judge_failed' }))).toBe(false);
    expect(runSucceeded(run({ outcome: 'failed', endReason: 'agent_failed' }))).toBe(false);
    // The agent's process succeeded, but the run is not over until the judge has spoken.
    expect(runSucceeded(run({ endReason: null }))).toBe(false);
  });

  it("leave out runs still going, runs a person cancelled and runs cut by Orch's own crash", () => {
    const runs = [
      run({}),
      run({ outcome: 'failed', endReason: 'agent_failed' }),
      run({ outcome: 'cancelled', endReason: 'cancelled' }),
      run({ outcome: 'crashed', endReason: 'interrupted' }),
      run({ endedAt: null, outcome: null, endReason: null }),
    ];
    expect(successRate(runs)).toEqual({ succeeded: 1, ended: 2, rate: 0.5 });
    expect(successRate([])).toEqual({ succeeded: 0, ended: 0, rate: null });
  });
});

describe('durations', () => {
  it('summarise as median, 90th percentile and longest', () => {
    expect(summarizeDurations([])).toEqual({ count: 0, medianMs: null, p90Ms: null, maxMs: null });
    const tenths = Array.from({ length: 10 }, (_, i) => (i + 1) * 1000);
    expect(summarizeDurations(tenths.reverse())).toEqual({ count: 10, medianMs: 5000, p90Ms: 9000, maxMs: 10_000 });
  });

  it('fall into buckets by their upper bound, the longest into the open one', () => {
    expect(durationHistogram([10, 1000, 1001, 5000], [1000, 2000])).toEqual([
      { upToMs: 1000, count: 2 },
      { upToMs: 2000, count: 1 },
      { upToMs: null, count: 1 },
    ]);
  });
});

describe('grouping', () => {
  const runs = [
    run({ agent: 'claude', model: 'opus', costUsd: 1, startedAt: 0, endedAt: 30_000 }),
    run({ agent: 'claude', model: null, costUsd: 2, outcome: 'failed', endReason: 'agent_failed', startedAt: 0, endedAt: 90_000 }),
    run({ agent: 'codex', model: 'gpt', costUsd: 5, tokensIn: 10, tokensOut: 3 }),
  ];

  it('per agent, most expensive first, with success and durations', () => {
    const stats = agentStats(runs);
    expect(stats.map((s) => [s.agent, s.runs, s.costUsd])).toEqual([
      ['codex', 1, 5],
      ['claude', 2, 3],
    ]);
    expect(stats[1]!.success.rate).toBe(0.5);
    expect(stats[1]!.durations.maxMs).toBe(90_000);
    expect(stats[0]).toEqual(expect.objectContaining({ tokensIn: 10, tokensOut: 3 }));
  });

  it('per agent and model, the agent default a model of its own', () => {
    expect(modelStats(runs).map((s) => [s.agent, s.model])).toEqual([
      ['claude', null],
      ['claude', 'opus'],
      ['codex', 'gpt'],
    ]);
  });

  it('spend per given day, zeros included, split by agent', () => {
    const days = spendByDay(runs, ['d1', 'd2'], (r) => (r.agent === 'codex' ? 'd2' : 'd1'));
    expect(days).toEqual([
      { day: 'd1', costUsd: 3, runs: 2, byAgent: { claude: 3 } },
      { day: 'd2', costUsd: 5, runs: 1, byAgent: { codex: 5 } },
    ]);
    expect(spendByDay(runs, ['d9'], () => 'd1')).toEqual([{ day: 'd9', costUsd: 0, runs: 0, byAgent: {} }]);
  });

  it('a project summary counts active, queued and waiting tasks', () => {
    const summary = summarizeProject({ name: 'app', paused: true, pausedReason: 'why' }, { new: 2, routed: 1, running: 1, judging: 1, needs_review: 3, done: 4 }, [run({ costUsd: 2 })], runs);
    expect(summary).toEqual(expect.objectContaining({ running: 2, queued: 3, needsReview: 3, done: 4, total: 12, spentTodayUsd: 2, paused: true }));
  });
});
