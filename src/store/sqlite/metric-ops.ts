import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import { RUN_DURATION_BOUNDS_S, type StoreOps } from '../store.js';
import { isPostgres } from './dialect.js';
import type { Database } from './schema.js';
import { COMPACT_RUN_TOTALS, COMPACT_TASK_TOTALS, RUN_TOTAL_KEY, TASK_TOTAL_KEY } from './totals-schema.js';

export type MetricOps = Pick<StoreOps, 'metricTotals' | 'runCostSince'>;

/** A sum that is 0, not null, over no rows, read back as a JS number on both databases. */
const total = (expression: RawBuilder<unknown>) => sql<number>`cast(coalesce(sum(${expression}), 0) as double precision)`;
const count = (condition: RawBuilder<unknown>) => sql<number>`cast(sum(case when ${condition} then 1 else 0 end) as double precision)`;
/** '' stands for "none" in the totals' keys (a key column cannot be null). */
const orNull = (value: string) => (value === '' ? null : value);

/**
 * PostgreSQL keeps its totals as rows of changes (totals-schema.ts): once they are more than twice
 * the totals they add up to, they are folded back into one row per total. One statement per table,
 * safe beside writers and other hosts compacting at once (each change row is deleted once).
 */
export async function compactTotals(db: Kysely<Database>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, key, compact] of [
    ['task_totals', TASK_TOTAL_KEY, COMPACT_TASK_TOTALS],
    ['run_totals', RUN_TOTAL_KEY, COMPACT_RUN_TOTALS],
  ] as const) {
    const { rows } = await sql<{ rows: number; totals: number }>`
      select cast(count(*) as integer) as rows, cast(count(distinct (${sql.raw(key.join(', '))})) as integer) as totals from ${sql.table(table)}`.execute(db);
    const { rows: changes, totals } = rows[0]!;
    if (changes > 2 * totals + 100) await sql.raw(compact).execute(db);
  }
}

export function metricOps(db: Kysely<Database>): MetricOps {
  return {
    async runCostSince(since, project) {
      // The runs started since then, by the index on started_at: SQLite would rather walk the index
      // that orders runs by project for the grouping (every run), unless the range is read first, as
      // a subquery its ORDER BY keeps from being merged into the grouping.
      let today = db.selectFrom('runs').select(['project', 'cost_usd']).where('started_at', '>=', since).orderBy('started_at');
      if (project !== undefined) today = today.where('project', '=', project);
      const query = db.selectFrom(today.as('today')).select(['project', total(sql`cost_usd`).as('cost_usd')]).groupBy('project');
      return new Map((await query.execute()).map((row) => [row.project, row.cost_usd]));
    },

    async metricTotals(now) {
      await compactTotals(db);
      const tasks = await db
        .selectFrom('task_totals')
        .select(['project', 'state', total(sql`tasks`).as('count')])
        .groupBy(['project', 'state'])
        .having(sql`sum(tasks)`, '>', 0)
        .execute();

      const runs = await db
        .selectFrom('run_totals')
        .select([
          'project',
          'agent',
          'outcome',
          'end_reason',
          total(sql`runs`).as('count'),
          total(sql`cost_usd`).as('cost_usd'),
          total(sql`tokens_in`).as('tokens_in'),
          total(sql`tokens_out`).as('tokens_out'),
        ])
        .groupBy(['project', 'agent', 'outcome', 'end_reason'])
        .having(sql`sum(runs)`, '>', 0)
        .execute();

      const buckets = await db
        .selectFrom('run_totals')
        .select(['agent', 'duration_bucket', total(sql`runs`).as('count'), total(sql`duration_ms`).as('duration_ms')])
        .where('duration_bucket', '>=', 0)
        .groupBy(['agent', 'duration_bucket'])
        .having(sql`sum(runs)`, '>', 0)
        .execute();

      const pullRequests = await db
        .selectFrom('task_totals')
        .select([
          'project',
          total(sql`case when state = 'done' then pull_requests else 0 end`).as('merged'),
          total(sql`pr_ci_rounds`).as('ci_rounds'),
          total(sql`pr_review_rounds`).as('review_rounds'),
        ])
        .groupBy('project')
        .having(sql`sum(pull_requests)`, '>', 0)
        .execute();

      const claims = await db
        .selectFrom('claims')
        .select([(eb) => eb.fn.countAll<number>().as('held'), count(sql`lease_until < ${now}`).as('expired')])
        .executeTakeFirstOrThrow();

      return {
        tasks: tasks.map((row) => ({ project: row.project, state: row.state, count: row.count })),
        runs: runs.map((row) => ({
          project: row.project,
          agent: row.agent,
          outcome: orNull(row.outcome),
          endReason: orNull(row.end_reason),
          count: row.count,
          costUsd: row.cost_usd,
          tokensIn: row.tokens_in,
          tokensOut: row.tokens_out,
        })),
        durations: durationsByAgent(buckets),
        pullRequests: pullRequests.map((row) => ({ project: row.project, merged: row.merged, ciRounds: row.ci_rounds, reviewRounds: row.review_rounds })),
        claims: { held: Number(claims.held), expired: claims.expired ?? 0 },
      };
    },
  };
}

/** Per agent: how many runs lasted at most each of RUN_DURATION_BOUNDS_S (cumulative), how many in all, their total seconds. */
function durationsByAgent(buckets: { agent: string; duration_bucket: number; count: number; duration_ms: number }[]) {
  const byAgent = new Map<string, { agent: string; inBucket: number[]; count: number; sumMs: number }>();
  for (const row of buckets) {
    let agent = byAgent.get(row.agent);
    if (!agent) byAgent.set(row.agent, (agent = { agent: row.agent, inBucket: RUN_DURATION_BOUNDS_S.map(() => 0), count: 0, sumMs: 0 }));
    if (row.duration_bucket < RUN_DURATION_BOUNDS_S.length) agent.inBucket[row.duration_bucket]! += row.count;
    agent.count += row.count;
    agent.sumMs += row.duration_ms;
  }
  return [...byAgent.values()].map(({ agent, inBucket, count, sumMs }) => {
    let atMost = 0;
    return { agent, atMost: inBucket.map((n) => (atMost += n)), count, sumS: sumMs / 1000 };
  });
}
