// The totals behind /metrics and the round robin, kept by the database as tasks and runs are written:
// after any mix of writes, by this process or another sharing the store, they equal a count of the rows.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Run, Task } from '../../src/core/types.js';
import { RUN_DURATION_BOUNDS_S, type MetricTotals, type Store } from '../../src/store/store.js';
import { MIGRATIONS, applyMigrations } from '../../src/store/sqlite/migrations.js';
import type { Database } from '../../src/store/sqlite/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { inImmediateTransaction } from '../../src/store/sqlite/transaction.js';
import { T0, addProject, createTask, makeTempDir, storeKinds, useTempStore } from './fixtures.js';

/** What the totals must say, counted here from every task and run. */
function recount(tasks: Task[], runs: Run[]) {
  const group = <T, V>(items: T[], key: (item: T) => string, init: (item: T) => V, add: (value: V, item: T) => void) => {
    const groups = new Map<string, V>();
    for (const item of items) {
      const k = key(item);
      if (!groups.has(k)) groups.set(k, init(item));
      add(groups.get(k)!, item);
    }
    return [...groups.values()];
  };
  const timed = runs.filter((run) => run.endedAt !== null && run.outcome !== null);
  const withPr = tasks.filter((task) => task.pullRequest !== null);
  return {
    tasks: group(tasks, (t) => `${t.project} ${t.state}`, (t) => ({ project: t.project, state: t.state as string, count: 0 }), (v) => v.count++),
    runs: group(
      runs,
      (r) => `${r.project} ${r.agent} ${r.outcome} ${r.endReason}`,
      (r) => ({ project: r.project, agent: r.agent, outcome: r.outcome as string | null, endReason: r.endReason as string | null, count: 0, costUsd: 0, tokensIn: 0, tokensOut: 0 }),
      (v, r) => {
        v.count++;
        v.costUsd += r.costUsd;
        v.tokensIn += r.tokensIn;
        v.tokensOut += r.tokensOut;
      },
    ),
    durations: group(
      timed,
      (r) => r.agent,
      (r) => ({ agent: r.agent, atMost: RUN_DURATION_BOUNDS_S.map(() => 0), count: 0, sumS: 0 }),
      (v, r) => {
        const seconds = (r.endedAt! - r.startedAt) / 1000;
        RUN_DURATION_BOUNDS_S.forEach((bound, i) => (v.atMost[i]! += seconds <= bound ? 1 : 0));
        v.count++;
        v.sumS += seconds;
      },
    ),
    pullRequests: group(
      withPr,
      (t) => t.project,
      (t) => ({ project: t.project, merged: 0, ciRounds: 0, reviewRounds: 0 }),
      (v, t) => {
        v.merged += t.state === 'done' ? 1 : 0;
        v.ciRounds += t.pullRequest!.ciRounds;
        v.reviewRounds += t.pullRequest!.reviewRounds;
      },
    ),
    byAgent: group(
      tasks.filter((t) => t.agent !== null),
      (t) => `${t.project} ${t.agent}`,
      (t) => ({ project: t.project, agent: t.agent!, tasks: 0 }),
      (v) => v.tasks++,
    ),
  };
}

const sorted = <T>(rows: T[]) => [...rows].map((row) => JSON.stringify(row, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v))).sort();

async function expectTotalsTrue(store: Store) {
  const expected = recount(await store.listTasks(), await store.listRuns());
  const totals: MetricTotals = await store.metricTotals(T0);
  expect(sorted(totals.tasks)).toEqual(sorted(expected.tasks));
  expect(sorted(totals.runs)).toEqual(sorted(expected.runs));
  expect(sorted(totals.durations)).toEqual(sorted(expected.durations));
  expect(sorted(totals.pullRequests)).toEqual(sorted(expected.pullRequests));
  expect(sorted(await store.countTasksByAgent())).toEqual(sorted(expected.byAgent));
}

describe.each(storeKinds)('on %s', (kind) => {
  const db = useTempStore(kind);

  /** A run of `task` through its claim: started, its cost updated as it goes, then (unless `open`) ended. */
  async function run(store: Store, task: Task, agent: string, end: { seconds: number; outcome: 'succeeded' | 'failed'; endReason: 'merged' | 'agent_failed' | 'pr_opened'; costUsd: number } | null) {
    const claim = (await store.claimTask({ taskId: task.id, owner: 'w', leaseMs: 60_000, now: T0 }))!;
    const created = await store.createRun({ taskId: task.id, project: task.project, attempt: 1, agent, startedAt: T0 }, claim.token);
    await store.updateRun(created.id, claim.token, { costUsd: 0.1, tokensIn: 7 }, T0);
    if (!end) return created;
    await store.updateRun(created.id, claim.token, { endedAt: T0 + end.seconds * 1000, outcome: end.outcome, endReason: end.endReason, costUsd: end.costUsd, tokensIn: 100, tokensOut: 10 }, T0);
    await store.releaseClaim(task.id, claim.token, T0);
    return created;
  }

  it('equal a count of the tasks and runs after any mix of writes, by this process or another, and a project removed', async () => {
    const { store } = db;
    await addProject(store, 'web');
    await addProject(store, 'api');
    await expectTotalsTrue(store);

    const [a, b, c] = [await createTask(store), await createTask(store), await createTask(store, { project: 'api' })];
    await store.updateTask(a.id, {}, { agent: 'claude', state: 'routed' }, T0, { type: 'task.test' });
    await store.updateTask(b.id, {}, { agent: 'codex' }, T0, { type: 'task.test' });
    await store.updateTask(c.id, {}, { agent: 'claude', state: 'running' }, T0, { type: 'task.test' });
    await run(store, a, 'claude', { seconds: 5, outcome: 'succeeded', endReason: 'pr_opened', costUsd: 0.25 });
    await run(store, b, 'codex', { seconds: 700, outcome: 'failed', endReason: 'agent_failed', costUsd: 0.5 });
    await run(store, c, 'claude', null);
    await expectTotalsTrue(store);

    // A pull request opened, its fix rounds counted, then merged; a run's end reason changed by a later step.
    const pullRequest = { number: 7, url: 'https://github.test/acme/web/pull/7', branch: 'orch/1', headSha: null, checks: null, ciRounds: 1, reviewRounds: 0 };
    await store.updateTask(a.id, {}, { state: 'in_review', pullRequest }, T0, { type: 'task.test' });
    await store.updateTask(a.id, {}, { pullRequest: { ...pullRequest, ciRounds: 2, reviewRounds: 1 } }, T0, { type: 'task.test' });
    await store.updateTask(a.id, {}, { state: 'done' }, T0, { type: 'task.test' });
    const [ended] = await store.listRuns({ taskId: b.id });
    await store.updateRun(ended!.id, null, { endReason: 'merged', outcome: 'succeeded' }, T0);
    await expectTotalsTrue(store);

    // Another process sharing the store writes; this one's totals count it.
    const other = await db.open();
    try {
      const d = await createTask(other, { project: 'web' });
      await other.updateTask(d.id, {}, { agent: 'codex', state: 'cancelled' }, T0, { type: 'task.test' });
      await run(other, d, 'codex', { seconds: 30, outcome: 'succeeded', endReason: 'merged', costUsd: 1 });
    } finally {
      await other.close();
    }
    await expectTotalsTrue(store);

    expect(await store.removeProject('api', T0)).toBe(true);
    await expectTotalsTrue(store);
  });

  it('stay few rows however many writes there were (PostgreSQL folds its rows of changes when read)', async () => {
    const { store } = db;
    await addProject(store, 'web');
    const task = await createTask(store);
    for (let i = 0; i < 150; i++) await store.updateTask(task.id, {}, { state: i % 2 === 0 ? 'routed' : 'new', agent: i % 2 === 0 ? 'claude' : null }, T0, { type: 'task.test' });
    await expectTotalsTrue(store);
    expect(await db.countRows('task_totals')).toBeLessThanOrEqual(3);
  });
});

describe('the migration that adds them', () => {
  it('totals the tasks and runs already stored', async () => {
    const dir = makeTempDir();
    const path = join(dir, 'upgrade.db');
    const sqlite = new BetterSqlite3(path);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    try {
      await inImmediateTransaction(db, sqlite, (conn) => applyMigrations(conn, MIGRATIONS.filter((m) => m.version < 10)));
      sqlite.prepare("insert into projects (name, default_branch, created_at) values ('web', 'main', 1)").run();
      const insertTask = sqlite.prepare("insert into tasks (project, title, role, state, agent, pr_number, pr_url, pr_branch, pr_ci_rounds, created_at, updated_at) values ('web', 't', 'implement', ?, ?, ?, 'https://github.test/p/7', 'orch/7', ?, 1, 1)");
      const insertRun = sqlite.prepare(
        "insert into runs (task_id, project, attempt, agent, started_at, ended_at, outcome, end_reason, tokens_in, tokens_out, cost_usd) values (?, 'web', 1, ?, 0, ?, ?, ?, 10, 1, ?)",
      );
      const done = insertTask.run('done', 'claude', 7, 2).lastInsertRowid;
      const open = insertTask.run('new', null, null, 0).lastInsertRowid;
      insertRun.run(done, 'claude', 42_000, 'succeeded', 'merged', 0.5);
      insertRun.run(done, 'codex', 9_000_000, 'failed', 'agent_failed', 0.25);
      insertRun.run(open, 'claude', null, null, null, 0);
      await inImmediateTransaction(db, sqlite, (conn) => applyMigrations(conn, MIGRATIONS));
    } finally {
      await db.destroy();
    }
    const store = await openSqliteStore(path);
    try {
      await expectTotalsTrue(store);
      expect((await store.metricTotals(T0)).pullRequests).toEqual([{ project: 'web', merged: 1, ciRounds: 2, reviewRounds: 0 }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
