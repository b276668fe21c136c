import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { StoreOps } from '../store.js';
import type { Database } from './schema.js';

export type MetricOps = Pick<StoreOps, 'metricTotals' | 'runCostSince'>;

/** A sum that is 0, not null, over no rows, read back as a JS number on both databases. */
const total = (expression: RawBuilder<unknown>) => sql<number>`cast(coalesce(sum(${expression}), 0) as double precision)`;
const count = (condition: RawBuilder<unknown>) => sql<number>`cast(sum(case when ${condition} then 1 else 0 end) as double precision)`;

export function metricOps(db: Kysely<Database>): MetricOps {
  return {
    async runCostSince(since, project) {
      let query = db.selectFrom('runs').select(['project', total(sql`cost_usd`).as('cost_usd')]).where('started_at', '>=', since).groupBy('project');
      if (project !== undefined) query = query.where('project', '=', project);
      return new Map((await query.execute()).map((row) => [row.project, row.cost_usd]));
    },

    async metricTotals(now, durationBoundsS) {
      const tasks = await db
        .selectFrom('tasks')
        .select(['project', 'state', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy(['project', 'state'])
        .execute();

      const runs = await db
        .selectFrom('runs')
        .select([
          'project',
          'agent',
          'outcome',
          'end_reason',
          (eb) => eb.fn.countAll<number>().as('count'),
          total(sql`cost_usd`).as('cost_usd'),
          total(sql`tokens_in`).as('tokens_in'),
          total(sql`tokens_out`).as('tokens_out'),
        ])
        .groupBy(['project', 'agent', 'outcome', 'end_reason'])
        .execute();

      const durationMs = sql`ended_at - started_at`;
      const durations = await db
        .selectFrom('runs')
        .select([
          'agent',
          ...durationBoundsS.map((bound, i) => count(sql`${durationMs} <= ${bound * 1000}`).as(`at_most_${i}`)),
          (eb) => eb.fn.countAll<number>().as('count'),
          total(durationMs).as('sum_ms'),
        ])
        .where('ended_at', 'is not', null)
        .where('outcome', 'is not', null)
        .groupBy('agent')
        .execute();

      const pullRequests = await db
        .selectFrom('tasks')
        .select([
          'project',
          count(sql`state = 'done'`).as('merged'),
          total(sql`pr_ci_rounds`).as('ci_rounds'),
          total(sql`pr_review_rounds`).as('review_rounds'),
        ])
        .where('pr_number', 'is not', null)
        .groupBy('project')
        .execute();

      const claims = await db
        .selectFrom('claims')
        .select([(eb) => eb.fn.countAll<number>().as('held'), count(sql`lease_until < ${now}`).as('expired')])
        .executeTakeFirstOrThrow();

      return {
        tasks: tasks.map((row) => ({ project: row.project, state: row.state, count: Number(row.count) })),
        runs: runs.map((row) => ({
          project: row.project,
          agent: row.agent,
          outcome: row.outcome,
          endReason: row.end_reason,
          count: Number(row.count),
          costUsd: row.cost_usd,
          tokensIn: row.tokens_in,
          tokensOut: row.tokens_out,
        })),
        durations: durations.map((row) => {
          const columns = row as unknown as Record<string, number>;
          return { agent: row.agent, atMost: durationBoundsS.map((_, i) => Number(columns[`at_most_${i}`])), count: Number(row.count), sumS: row.sum_ms / 1000 };
        }),
        pullRequests: pullRequests.map((row) => ({ project: row.project, merged: row.merged, ciRounds: row.ci_rounds, reviewRounds: row.review_rounds })),
        claims: { held: Number(claims.held), expired: claims.expired ?? 0 },
      };
    },
  };
}
