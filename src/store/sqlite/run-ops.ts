import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Role } from '../../core/types.js';
import type { Run } from '../../core/types.js';
import { NotFoundError } from '../store.js';
import type { StoreOps } from '../store.js';
import { requireFence } from './claim-ops.js';
import { appendEvent } from './event-ops.js';
import { runPatchColumns, toRun } from './rows.js';
import type { Database } from './schema.js';
import { NO_VERDICT_END_REASONS, SUCCESS_END_REASONS } from '../../core/end-reasons.js';

export type RunOps = Pick<StoreOps, 'createRun' | 'updateRun' | 'getRun' | 'listRuns' | 'runStats'>;

/** Outcomes that say nothing about the agent: a person cancelled, Orch crashed, the provider refused. */

export function runOps(db: Kysely<Database>): RunOps {
  return {
    async createRun(run, fence, event) {
      await requireFence(db, run.taskId, fence);
      const row = await db
        .insertInto('runs')
        .values({
          task_id: run.taskId,
          project: run.project,
          attempt: run.attempt,
          agent: run.agent,
          model: run.model ?? null,
          worktree: run.worktree ?? null,
          branch: run.branch ?? null,
          pid: run.pid ?? null,
          host: run.host ?? null,
          session_id: run.sessionId ?? null,
          started_at: run.startedAt,
          ended_at: null,
          outcome: null,
          exit_code: null,
          tokens_in: 0,
          tokens_out: 0,
          cost_usd: 0,
          log_path: run.logPath ?? null,
          result: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      // The claim that fenced the run now names it: recovery finds the run of an expired claim.
      await db
        .updateTable('claims')
        .set({ run_id: row.id })
        .where('task_id', '=', run.taskId)
        .where('token', '=', fence)
        .execute();
      await appendEvent(
        db,
        {
          type: 'run.created',
          data: { attempt: run.attempt, agent: run.agent },
          ...event,
          project: run.project,
          taskId: run.taskId,
          runId: row.id,
        },
        run.startedAt,
      );
      return toRun(row);
    },

    async updateRun(id, fence, patch, now, event) {
      const existing = await findRun(db, id);
      if (!existing) throw new NotFoundError(`run ${id} not found`);
      // A null fence is recovery closing the run of a claim that is already gone.
      if (fence !== null) await requireFence(db, existing.taskId, fence);

      const updated = toRun(
        await db
          .updateTable('runs')
          .set(runPatchColumns(patch))
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      await appendEvent(
        db,
        {
          type: 'run.updated',
          data: { fields: Object.keys(patch), outcome: updated.outcome },
          ...event,
          project: updated.project,
          taskId: updated.taskId,
          runId: id,
        },
        now,
      );
      return updated;
    },

    getRun: (id) => findRun(db, id),

    async listRuns(filter = {}) {
      const outcomes = filter.outcomes;
      if (outcomes?.length === 0 || filter.endReasons?.length === 0) return [];
      let query = filter.latestEndedFirst ? db.selectFrom('runs').selectAll().orderBy('ended_at', 'desc').orderBy('id', 'desc') : db.selectFrom('runs').selectAll().orderBy('id');
      if (filter.taskId !== undefined) query = query.where('task_id', '=', filter.taskId);
      if (filter.project !== undefined) query = query.where('project', '=', filter.project);
      if (outcomes) {
        const named = outcomes.filter((outcome) => outcome !== null);
        const includesUnset = named.length < outcomes.length;
        query = query.where((eb) =>
          eb.or([
            ...(named.length > 0 ? [eb('outcome', 'in', named)] : []),
            ...(includesUnset ? [eb('outcome', 'is', null)] : []),
          ]),
        );
      }
      if (filter.open) query = query.where('ended_at', 'is', null);
      if (filter.startedAfter !== undefined) {
        query = query.where('started_at', '>=', filter.startedAfter);
      }
      if (filter.endedAfter !== undefined) query = query.where('ended_at', '>', filter.endedAfter);
      if (filter.endReasons) query = query.where('end_reason', 'in', [...filter.endReasons]);
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toRun);
    },

    async runStats(filter = {}) {
      // Success and "no verdict" are core's end-reason table, written into the query: one definition.
      const succeeded = sql<number>`sum(case when runs.end_reason in (${sql.join([...SUCCESS_END_REASONS])}) then 1 else 0 end)`;
      const interrupted = sql<number>`sum(case when runs.end_reason is null or runs.end_reason in (${sql.join([...NO_VERDICT_END_REASONS])}) then 1 else 0 end)`;
      let query = db
        .selectFrom('runs')
        .innerJoin('tasks', 'tasks.id', 'runs.task_id')
        .select((eb) => [
          'runs.project',
          'runs.agent',
          'runs.model',
          'tasks.role',
          eb.fn.countAll<number>().as('runs'),
          succeeded.as('succeeded'),
          interrupted.as('interrupted'),
          total(sql`runs.cost_usd`).as('cost_usd'),
          total(sql`runs.ended_at - runs.started_at`).as('duration_ms'),
          total(sql`runs.tokens_in`).as('tokens_in'),
          total(sql`runs.tokens_out`).as('tokens_out'),
        ])
        .where('runs.ended_at', 'is not', null)
        .groupBy(['runs.project', 'runs.agent', 'runs.model', 'tasks.role'])
        .orderBy('runs.project')
        .orderBy('runs.agent')
        .orderBy('runs.model', (ob) => ob.asc().nullsFirst())
        .orderBy('tasks.role');
      if (filter.project !== undefined) query = query.where('runs.project', '=', filter.project);
      if (filter.startedAfter !== undefined) query = query.where('runs.started_at', '>=', filter.startedAfter);
      return (await query.execute()).map((row) => ({
        project: row.project,
        agent: row.agent,
        model: row.model,
        role: row.role as Role,
        runs: row.runs,
        succeeded: row.succeeded,
        interrupted: row.interrupted,
        costUsd: row.cost_usd,
        durationMs: row.duration_ms,
        tokensIn: row.tokens_in,
        tokensOut: row.tokens_out,
      }));
    },
  };
}

/**
 * The sum as a float, 0 over no rows: SQLite's total(). Written in SQL both databases share; the cast
 * keeps PostgreSQL from summing integers into a numeric, which its driver returns as a string.
 */
function total(expression: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`cast(coalesce(sum(${expression}), 0) as double precision)`;
}

async function findRun(db: Kysely<Database>, id: number): Promise<Run | undefined> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRun(row);
}
