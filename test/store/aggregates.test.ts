// The aggregates the scoreboard and the round robin read: computed by the database, grouped.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { END_REASON_NAMES, type RunEndReason } from '../../src/core/end-reasons.js';
import { successRate } from '../../src/core/run-stats.js';
import type { Role, RunOutcome } from '../../src/core/types.js';
import { T0, addProject, createTask, storeKinds, useTempStore } from './fixtures.js';

describe.each(storeKinds)('on %s', (kind) => {
  const db = useTempStore(kind);

  /** A finished run of its own task: claim, run, end with the outcome and end reason (and a later failure when given). */
  async function finishedRun(spec: { project?: string; agent: string; model: string | null; role?: Role; outcome: RunOutcome; endReason: RunEndReason | null; failure?: string; costUsd?: number; seconds?: number; startedAt?: number }) {
    const { store } = db;
    const task = await createTask(store, { project: spec.project ?? 'web', role: spec.role ?? 'implement' });
    const startedAt = spec.startedAt ?? T0;
    const claim = (await store.claimTask({ taskId: task.id, owner: 'w', leaseMs: 60_000, now: startedAt }))!;
    const run = await store.createRun({ taskId: task.id, project: task.project, attempt: 1, agent: spec.agent, model: spec.model, startedAt }, claim.token);
    const result = { reason: 'ended', ...(spec.failure ? { failure: spec.failure } : {}) };
    await store.updateRun(run.id, claim.token, { endedAt: startedAt + (spec.seconds ?? 10) * 1000, outcome: spec.outcome, endReason: spec.endReason, costUsd: spec.costUsd ?? 0, tokensIn: 100, tokensOut: 10, result }, startedAt);
    await store.releaseClaim(task.id, claim.token, startedAt);
  }

  describe('latest runs', () => {
    it('lists the runs that ended last, after a time and for given end reasons, by index', async () => {
      const { store } = db;
      await addProject(store, 'web');
      await finishedRun({ agent: 'a', model: null, outcome: 'failed', endReason: 'agent_failed', startedAt: T0, seconds: 30 });
      await finishedRun({ agent: 'b', model: null, outcome: 'cancelled', endReason: 'cancelled', startedAt: T0, seconds: 40 });
      await finishedRun({ agent: 'c', model: null, outcome: 'succeeded', endReason: 'merged', startedAt: T0, seconds: 20 });
      await finishedRun({ agent: 'd', model: null, outcome: 'failed', endReason: 'agent_failed', startedAt: T0, seconds: 5 });
      const latest = await store.listRuns({ project: 'web', endedAfter: T0 + 10_000, endReasons: ['agent_failed', 'merged'], latestEndedFirst: true, limit: 2 });
      expect(latest.map((run) => run.agent)).toEqual(['a', 'c']);
      expect(await store.listRuns({ endReasons: [] })).toEqual([]);
    });
  });

  describe('metric totals', () => {
    it('totals tasks, runs, run durations, pull requests and claims in the database, the same on both', async () => {
      const { store } = db;
      await addProject(store, 'web');
      await finishedRun({ agent: 'claude', model: 'sonnet', outcome: 'succeeded', endReason: 'merged', costUsd: 1, seconds: 5 });
      await finishedRun({ agent: 'claude', model: 'sonnet', outcome: 'succeeded', endReason: 'merged', costUsd: 2, seconds: 50 });
      await finishedRun({ agent: 'codex', model: null, outcome: 'failed', endReason: 'agent_failed', costUsd: 0.5, seconds: 500 });
      const open = await createTask(store);
      const claim = (await store.claimTask({ taskId: open.id, owner: 'w', leaseMs: 1000, now: T0 }))!;
      await store.createRun({ taskId: open.id, project: 'web', attempt: 1, agent: 'claude', model: 'sonnet', startedAt: T0 }, claim.token);

      const totals = await store.metricTotals(T0 + 5000);
      expect(totals.tasks).toEqual([{ project: 'web', state: 'new', count: 4 }]);
      const byKey = (rows: typeof totals.runs) => [...rows].sort((a, b) => `${a.agent}${a.outcome}`.localeCompare(`${b.agent}${b.outcome}`));
      expect(byKey(totals.runs)).toEqual([
        { project: 'web', agent: 'claude', outcome: null, endReason: null, count: 1, costUsd: 0, tokensIn: 0, tokensOut: 0 },
        { project: 'web', agent: 'claude', outcome: 'succeeded', endReason: 'merged', count: 2, costUsd: 3, tokensIn: 200, tokensOut: 20 },
        { project: 'web', agent: 'codex', outcome: 'failed', endReason: 'agent_failed', count: 1, costUsd: 0.5, tokensIn: 100, tokensOut: 10 },
      ].sort((a, b) => `${a.agent}${a.outcome}`.localeCompare(`${b.agent}${b.outcome}`)));
      expect([...totals.durations].sort((a, b) => a.agent.localeCompare(b.agent))).toEqual([
        // Bounds 10, 30, 60, 120, 300, 600, … seconds.
        { agent: 'claude', atMost: [1, 1, 2, 2, 2, 2, 2, 2, 2, 2], count: 2, sumS: 55 },
        { agent: 'codex', atMost: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], count: 1, sumS: 500 },
      ]);
      expect(totals.pullRequests).toEqual([]);
      expect(totals.claims).toEqual({ held: 1, expired: 1 });
      expect(await store.runCostSince(T0)).toEqual(new Map([['web', 3.5]]));
      expect(await store.runCostSince(T0 + 1)).toEqual(new Map());
      expect(await store.runCostSince(T0, 'api')).toEqual(new Map());
    });
  });

  describe('run stats', () => {
    it('totals ended runs per project, agent, model and role; a run failed later by the judge is no success', async () => {
      const { store } = db;
      await addProject(store, 'web');
      await addProject(store, 'api');
      await finishedRun({ agent: 'claude', model: 'sonnet', outcome: 'succeeded', endReason: 'merged', costUsd: 1, seconds: 60 });
      await finishedRun({ agent: 'claude', model: 'sonnet', outcome: 'succeeded', endReason: 'judge_failed', failure: 'judge: tests failed', costUsd: 2, seconds: 120 });
      await finishedRun({ agent: 'claude', model: 'sonnet', outcome: 'rate_limited', endReason: 'rate_limited' });
      await finishedRun({ agent: 'claude', model: 'sonnet', role: 'test', outcome: 'failed', endReason: 'agent_failed', costUsd: 0.5 });
      await finishedRun({ project: 'api', agent: 'codex', model: null, outcome: 'cancelled', endReason: 'cancelled', startedAt: T0 + 5000 });
      // Still running: not counted.
      const open = await createTask(store);
      const claim = (await store.claimTask({ taskId: open.id, owner: 'w', leaseMs: 60_000, now: T0 }))!;
      await store.createRun({ taskId: open.id, project: 'web', attempt: 1, agent: 'claude', model: 'sonnet', startedAt: T0 }, claim.token);

      const base = { tokensIn: 0, tokensOut: 0 };
      expect(await store.runStats()).toEqual([
        { ...base, project: 'api', agent: 'codex', model: null, role: 'implement', runs: 1, succeeded: 0, interrupted: 1, costUsd: 0, durationMs: 10_000, tokensIn: 100, tokensOut: 10 },
        { ...base, project: 'web', agent: 'claude', model: 'sonnet', role: 'implement', runs: 3, succeeded: 1, interrupted: 1, costUsd: 3, durationMs: 190_000, tokensIn: 300, tokensOut: 30 },
        { ...base, project: 'web', agent: 'claude', model: 'sonnet', role: 'test', runs: 1, succeeded: 0, interrupted: 0, costUsd: 0.5, durationMs: 10_000, tokensIn: 100, tokensOut: 10 },
      ]);
      expect((await store.runStats({ project: 'api' })).map((r) => r.agent)).toEqual(['codex']);
      expect((await store.runStats({ startedAfter: T0 + 1 })).map((r) => r.agent)).toEqual(['codex']);
      expect(await store.runStats({ project: 'nowhere' })).toEqual([]);
    });
  });

  describe('one definition of success', () => {
    it('the SQL of the scoreboard and the TypeScript of the run stats agree, whatever the end reasons', async () => {
      const { store } = db;
      await addProject(store, 'web');
      const ended = fc.constantFrom<RunEndReason | null>(null, ...END_REASON_NAMES);
      await fc.assert(
        fc.asyncProperty(fc.array(ended, { minLength: 1, maxLength: 12 }), async (reasons) => {
          const agent = `agent-${Math.random().toString(36).slice(2)}`;
          for (const endReason of reasons) await finishedRun({ agent, model: null, outcome: 'succeeded', endReason });
          const runs = await store.listRuns({ project: 'web' });
          const mine = runs.filter((run) => run.agent === agent);
          const [row] = (await store.runStats({ project: 'web' })).filter((r) => r.agent === agent);
          const rate = successRate(mine);
          expect(row!.succeeded).toBe(rate.succeeded);
          expect(row!.runs - row!.interrupted).toBe(rate.ended);
        }),
        { numRuns: 40 },
      );
    });
  });

  describe('tasks by agent', () => {
    it('counts a project\'s tasks per agent, leaving out tasks without one', async () => {
      const { store } = db;
      await addProject(store, 'web');
      await addProject(store, 'api');
      for (const [project, agent] of [['web', 'claude'], ['web', 'claude'], ['web', 'codex'], ['web', null], ['api', 'codex']] as const) {
        const task = await createTask(store, { project });
        if (agent) await store.updateTask(task.id, {}, { agent }, T0, { type: 'task.test' });
      }
      expect(await store.countTasksByAgent()).toEqual([
        { project: 'api', agent: 'codex', tasks: 1 },
        { project: 'web', agent: 'claude', tasks: 2 },
        { project: 'web', agent: 'codex', tasks: 1 },
      ]);
      expect(await store.countTasksByAgent('api')).toEqual([{ project: 'api', agent: 'codex', tasks: 1 }]);
    });
  });
});
