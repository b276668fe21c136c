import { describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import { aggregateCost, costReport, DEFAULT_MODEL_KEY, parseDay, runCostSoFar } from '../../src/engine/cost.js';
import type { Run } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';
import { addProject, createTask, T0, useTempStore } from '../store/fixtures.js';

const DAY = 86_400_000;
const ctx = useTempStore();

interface Spend {
  project?: string;
  agent?: string;
  model?: string | null;
  startedAt?: number;
  costUsd?: number;
  tokensIn?: number;
  tokensOut?: number;
  /** Leave the run open (not charged yet). */
  open?: boolean;
}

/** A run made the way the engine makes one: claim → createRun → updateRun with what it cost; then the claim is released. */
async function spend(store: Store, spec: Spend = {}): Promise<Run> {
  const task = await createTask(store, { project: spec.project ?? 'web' });
  const claim = (await store.claimTask({ taskId: task.id, owner: 'test:1', leaseMs: 60_000, now: T0 }))!;
  const startedAt = spec.startedAt ?? T0;
  const run = await store.createRun({ taskId: task.id, project: task.project, attempt: 1, agent: spec.agent ?? 'claude', model: spec.model ?? null, startedAt }, claim.token);
  if (spec.open) return run;
  const ended = await store.updateRun(run.id, claim.token, { endedAt: startedAt + 1000, outcome: 'succeeded', costUsd: spec.costUsd ?? 0, tokensIn: spec.tokensIn ?? 0, tokensOut: spec.tokensOut ?? 0 }, startedAt + 1000);
  await store.releaseClaim(task.id, claim.token, startedAt + 1000);
  return ended;
}

async function seed(store: Store): Promise<void> {
  await addProject(store, 'web');
  await addProject(store, 'api');
  await spend(store, { project: 'web', agent: 'claude', model: 'opus', costUsd: 1.5, tokensIn: 1000, tokensOut: 200 });
  await spend(store, { project: 'web', agent: 'codex', costUsd: 0.5, tokensIn: 400, tokensOut: 100, startedAt: T0 + DAY });
  await spend(store, { project: 'api', agent: 'claude', model: 'opus', costUsd: 3, tokensIn: 2000, tokensOut: 500, startedAt: T0 + DAY });
  await spend(store, { project: 'api', agent: 'codex', open: true, startedAt: T0 + 2 * DAY });
}

describe('cost aggregation', () => {
  it('groups by project, most expensive first, with a total', async () => {
    await seed(ctx.store);
    const report = await costReport(ctx.store, { by: 'project' });
    expect(report.rows).toEqual([
      { key: 'api', runs: 2, costUsd: 3, tokensIn: 2000, tokensOut: 500 },
      { key: 'web', runs: 2, costUsd: 2, tokensIn: 1400, tokensOut: 300 },
    ]);
    expect(report.total).toEqual({ runs: 4, costUsd: 5, tokensIn: 3400, tokensOut: 800 });
  });

  it('groups by agent, model and UTC day', async () => {
    await seed(ctx.store);
    expect((await costReport(ctx.store, { by: 'agent' })).rows.map((r) => [r.key, r.runs, r.costUsd])).toEqual([
      ['claude', 2, 4.5],
      ['codex', 2, 0.5],
    ]);
    expect((await costReport(ctx.store, { by: 'model' })).rows.map((r) => [r.key, r.costUsd])).toEqual([
      ['opus', 4.5],
      [DEFAULT_MODEL_KEY, 0.5],
    ]);
    const day = (offset: number) => new Date(T0 + offset * DAY).toISOString().slice(0, 10);
    expect((await costReport(ctx.store, { by: 'day' })).rows.map((r) => [r.key, r.runs, r.costUsd])).toEqual([
      [day(1), 2, 3.5],
      [day(0), 1, 1.5],
      [day(2), 1, 0],
    ]);
  });

  it('filters by project and by start day', async () => {
    await seed(ctx.store);
    const web = await costReport(ctx.store, { by: 'agent', project: 'web' });
    expect(web.total).toEqual({ runs: 2, costUsd: 2, tokensIn: 1400, tokensOut: 300 });
    const since = await costReport(ctx.store, { by: 'project', since: T0 + DAY });
    expect(since.rows.map((r) => [r.key, r.runs, r.costUsd])).toEqual([
      ['api', 2, 3],
      ['web', 1, 0.5],
    ]);
    await expect(costReport(ctx.store, { by: 'project', project: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('is empty with no runs, and breaks ties by key', () => {
    expect(aggregateCost([], 'project')).toEqual({ by: 'project', rows: [], total: { runs: 0, costUsd: 0, tokensIn: 0, tokensOut: 0 } });
    const run = (project: string) => ({ project, agent: 'a', model: null, startedAt: T0, costUsd: 1, tokensIn: 0, tokensOut: 0 }) as Run;
    expect(aggregateCost([run('b'), run('a')], 'project').rows.map((r) => r.key)).toEqual(['a', 'b']);
  });
});

describe('parseDay', () => {
  it('reads YYYY-MM-DD as the start of that UTC day and refuses anything else', () => {
    expect(parseDay('2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    for (const bad of ['2024-02-31', '2024-3-1', 'yesterday', '']) {
      expect(() => parseDay(bad)).toThrow(OrchError);
    }
  });
});

describe('runCostSoFar', () => {
  it("folds an open run's usage and cost events; an ended run is what it was charged", async () => {
    await addProject(ctx.store, 'web');
    const open = await spend(ctx.store, { open: true, model: 'small' });
    const other = await spend(ctx.store, { open: true });
    const event = (run: Run, data: Record<string, unknown>) =>
      ctx.store.appendEvent({ type: `agent.${data.type as string}`, project: 'web', taskId: run.taskId, runId: run.id, data }, T0);
    const usage = { type: 'usage', inputTokens: 1_000_000, outputTokens: 500_000, cacheReadTokens: 0, cacheWriteTokens: 0, model: null, cumulative: true };
    await event(open, usage);
    await event(other, { type: 'cost', usd: 9, cumulative: true });
    // Priced from the table when the CLI reports no cost: 1M in at $1 + 0.5M out at $4.
    expect(await runCostSoFar(ctx.store, open, { small: { input: 1, output: 4 } })).toBeCloseTo(3);
    expect(await runCostSoFar(ctx.store, open, {})).toBe(0);
    await event(open, { type: 'cost', usd: 0.75, cumulative: true });
    expect(await runCostSoFar(ctx.store, open, { small: { input: 1, output: 4 } })).toBe(0.75);
    const ended = await spend(ctx.store, { costUsd: 1.25 });
    expect(await runCostSoFar(ctx.store, ended, {})).toBe(1.25);
  });
});
