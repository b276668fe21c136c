import { describe, expect, it } from 'vitest';
import { buildScoreboard, smoothedSuccessRates, type RunStatsRow } from '../../src/core/scoreboard.js';

const row = (extra: Partial<RunStatsRow>): RunStatsRow => ({
  project: 'app', agent: 'claude', model: 'sonnet', role: 'implement', runs: 1, succeeded: 1, interrupted: 0, costUsd: 1, durationMs: 60_000, tokensIn: 100, tokensOut: 10, ...extra,
});

describe('the scoreboard', () => {
  const rows = [
    row({ runs: 4, succeeded: 3, costUsd: 4, durationMs: 240_000 }),
    row({ role: 'test', runs: 2, succeeded: 0, interrupted: 1, costUsd: 1, durationMs: 30_000 }),
    row({ project: 'web', agent: 'codex', model: null, runs: 3, succeeded: 1, costUsd: 0.6, durationMs: 90_000, tokensIn: 300, tokensOut: 30 }),
  ];

  it('sums runs, successes, cost and time per agent, model and role, most runs first', () => {
    const board = buildScoreboard(rows);
    expect(board.byAgent).toEqual([
      { key: 'claude', runs: 6, succeeded: 3, judged: 5, successRate: 0.6, costUsd: 5, avgCostUsd: 5 / 6, avgDurationMs: 270_000 / 6, tokensIn: 200, tokensOut: 20 },
      { key: 'codex', runs: 3, succeeded: 1, judged: 3, successRate: 1 / 3, costUsd: 0.6, avgCostUsd: 0.6 / 3, avgDurationMs: 30_000, tokensIn: 300, tokensOut: 30 },
    ]);
    expect(board.byModel.map((l) => [l.key, l.runs])).toEqual([['sonnet', 6], ['(agent default)', 3]]);
    expect(board.byRole.map((l) => [l.key, l.runs, l.succeeded, l.judged])).toEqual([['implement', 7, 4, 7], ['test', 2, 0, 1]]);
    expect(board.total).toMatchObject({ key: 'total', runs: 9, succeeded: 4, judged: 8, successRate: 0.5, costUsd: 5.6 });
  });

  it('has no success rate where no run counts, and nothing at all without runs', () => {
    expect(buildScoreboard([row({ runs: 1, succeeded: 0, interrupted: 1 })]).byAgent[0]).toMatchObject({ judged: 0, successRate: null });
    expect(buildScoreboard([])).toEqual({ byAgent: [], byModel: [], byRole: [], total: expect.objectContaining({ runs: 0, successRate: null, avgCostUsd: 0 }) });
  });

  it('smooths success rates so a short record moves an agent only so far', () => {
    expect(smoothedSuccessRates(rows)).toEqual(new Map([['claude', 4 / 7], ['codex', 2 / 5]]));
  });
});
