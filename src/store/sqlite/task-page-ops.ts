import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { boardOrder, cursorOf } from '../../core/board-order.js';
import type { TaskState } from '../../core/types.js';
import type { StoreOps } from '../store.js';
import { dependencyIdsJson, isPostgres } from './dialect.js';
import { compactTotals } from './metric-ops.js';
import { toTask } from './rows.js';
import type { Database } from './schema.js';

export type TaskPageOps = Pick<StoreOps, 'pageTasks' | 'countTasksByProjectState'>;

// The board's reads at any size: a page of a state's tasks walks an index in the board's order
// ((project,) state, priority desc, id or (project,) state, updated_at, id; migration 11 on SQLite,
// 6 on PostgreSQL) from the cursor on, and the counts are read from the totals the database keeps
// (or, for a label, one grouped count over the (project, state) index). Neither reads a task it does
// not return.

export function taskPageOps(db: Kysely<Database>): TaskPageOps {
  return {
    async pageTasks({ state, project, agent, label, limit, after }) {
      let query = db.selectFrom('tasks').selectAll('tasks').select(dependencyIdsJson(db).as('depends_on')).where('tasks.state', '=', state);
      if (project !== undefined) query = query.where('tasks.project', '=', project);
      if (agent !== undefined) query = query.where('tasks.agent', '=', agent);
      if (label !== undefined) query = query.where(hasLabel(db, label));
      if (boardOrder(state) === 'recent') {
        // Newest update first: the index walked backwards. `key <=` bounds the walk; the rest breaks ties.
        if (after) query = query.where('tasks.updated_at', '<=', after.key).where((eb) => eb.or([eb('tasks.updated_at', '<', after.key), eb('tasks.id', '<', after.id)]));
        query = query.orderBy('tasks.updated_at', 'desc').orderBy('tasks.id', 'desc');
      } else {
        if (after) query = query.where('tasks.priority', '<=', after.key).where((eb) => eb.or([eb('tasks.priority', '<', after.key), eb('tasks.id', '>', after.id)]));
        query = query.orderBy('tasks.priority', 'desc').orderBy('tasks.id', 'asc');
      }
      // One row more than asked says whether there is a next page without counting.
      const rows = await query.limit(limit + 1).execute();
      const tasks = rows.slice(0, limit).map(toTask);
      const last = tasks.at(-1);
      return { tasks, next: rows.length > limit && last ? cursorOf(state, last) : null };
    },

    async countTasksByProjectState(filter = {}) {
      if (filter.label === undefined) {
        // From the totals the database keeps as tasks are written (totals-schema.ts): a few rows, not
        // every task. A label is not among their keys, so a label's counts read the tasks.
        await compactTotals(db);
        let totals = db
          .selectFrom('task_totals')
          .select(['project', 'state', sql<number>`cast(sum(tasks) as integer)`.as('count')])
          .groupBy(['project', 'state'])
          .having(sql`sum(tasks)`, '>', 0)
          .orderBy('project')
          .orderBy('state');
        if (filter.agent !== undefined) totals = totals.where('agent', '=', filter.agent);
        return (await totals.execute()).map((row) => ({ project: row.project, state: row.state as TaskState, count: Number(row.count) }));
      }
      let query = db
        .selectFrom('tasks')
        .select(['project', 'state', (eb) => eb.fn.countAll<number | string>().as('count')])
        .groupBy(['project', 'state'])
        .orderBy('project')
        .orderBy('state');
      if (filter.agent !== undefined) query = query.where('agent', '=', filter.agent);
      if (filter.label !== undefined) query = query.where(hasLabel(db, filter.label));
      return (await query.execute()).map((row) => ({ project: row.project, state: row.state as TaskState, count: Number(row.count) }));
    },
  };
}

/** The labels column is a JSON array of strings: a label is in it when its JSON text is. */
export function hasLabel(db: Kysely<Database>, label: string) {
  const needle = JSON.stringify(label);
  return isPostgres(db) ? sql<boolean>`strpos(tasks.labels, ${needle}) > 0` : sql<boolean>`instr(tasks.labels, ${needle}) > 0`;
}
