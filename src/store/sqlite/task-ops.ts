import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { BlockKind, Task, TaskState } from '../../core/types.js';
import { NotFoundError, VersionConflictError } from '../store.js';
import type { StoreOps, TaskFilter } from '../store.js';
import { findClaim, staleFence } from './claim-ops.js';
import { dependencyIdsJson, isPostgres, lockingRows } from './dialect.js';
import { appendEvent } from './event-ops.js';
import { compactTotals } from './metric-ops.js';
import { requireProject } from './project-ops.js';
import { taskPatchColumns, toTask } from './rows.js';
import { hasLabel } from './task-page-ops.js';
import type { Database } from './schema.js';

export type TaskOps = Pick<
  StoreOps,
  'createTask' | 'getTask' | 'listTasks' | 'updateTask' | 'countTasksByState' | 'countTasksByAgent' | 'listTaskSummaries' | 'listWaits'
>;

type TaskGuard = { expectedVersion?: number; fence?: number };

export function taskOps(db: Kysely<Database>): TaskOps {
  return {
    async createTask(task, now, event) {
      await requireProject(db, task.project);
      const parentId = task.parentId ?? null;
      if (parentId !== null) await requireTasks(db, [parentId], 'parent task');
      const dependsOn = unique(task.dependsOn ?? []);
      await requireTasks(db, dependsOn, 'dependency task');

      const { id } = await db
        .insertInto('tasks')
        .values({
          project: task.project,
          external_ref: task.externalRef ?? null,
          title: task.title,
          body: task.body ?? '',
          labels: JSON.stringify(task.labels ?? []),
          priority: task.priority ?? 0,
          role: task.role ?? 'implement',
          parent_id: parentId,
          state: task.state ?? 'new',
          block_kind: task.blockKind ?? null,
          blocked_reason: task.blockedReason ?? null,
          agent: null,
          model: null,
          complexity: null,
          attempts: 0,
          next_attempt_at: null,
          cost_usd: 0,
          created_at: now,
          updated_at: now,
          version: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await writeDependencies(db, id, dependsOn);
      const created = await requireTask(db, id);
      await appendEvent(
        db,
        {
          type: 'task.created',
          data: { title: created.title, state: created.state },
          ...event,
          project: created.project,
          taskId: id,
        },
        now,
      );
      return created;
    },

    getTask: (id) => findTask(db, id),

    async listTasks(filter = {}) {
      if (filter.states?.length === 0 || filter.ids?.length === 0 || filter.externalRefs?.length === 0) return [];
      if (filter.limit !== undefined && filter.states && filter.states.length > 1) {
        // The first few of several states: each state's first few straight from its index, merged, rather
        // than every task of those states read and sorted to keep a few.
        const firsts: Task[] = [];
        for (const state of new Set(filter.states)) firsts.push(...(await listTaskRows(db, { ...filter, states: [state] })));
        return firsts.sort((a, b) => a.id - b.id).slice(0, filter.limit);
      }
      return listTaskRows(db, filter);
    },

    async updateTask(id, guard, patch, now, event) {
      const dependsOn = patch.dependsOn && unique(patch.dependsOn);
      if (dependsOn) await requireTasks(db, dependsOn, 'dependency task');

      // The guards sit in the UPDATE itself, so the check and the write are one statement.
      let update = db
        .updateTable('tasks')
        .set({ ...taskPatchColumns(patch), updated_at: now, version: sql`version + 1` })
        .where('id', '=', id);
      const { expectedVersion, fence } = guard;
      const postgres = isPostgres(db);
      // The fence's claim row is locked until commit (PostgreSQL; SQLite has one writer), so the claim
      // cannot be released before this write lands.
      if (expectedVersion !== undefined) update = update.where('version', '=', expectedVersion);
      if (fence !== undefined) {
        update = update.where((eb) =>
          eb.exists(
            lockingRows(
              db,
              eb
                .selectFrom('claims')
                .select('claims.task_id')
                .where('claims.task_id', '=', id)
                .where('claims.token', '=', fence),
            ),
          ),
        );
      }
      let updated: Task;
      if (postgres && !dependsOn) {
        // The row comes back from the UPDATE itself: one round trip fewer.
        const row = await update.returningAll().returning(dependencyIdsJson(db).as('depends_on')).executeTakeFirst();
        if (!row) throw await refusedUpdate(db, id, guard);
        updated = toTask(row);
      } else {
        const { numUpdatedRows } = await update.executeTakeFirst();
        if (numUpdatedRows === 0n) throw await refusedUpdate(db, id, guard);
        if (dependsOn) await writeDependencies(db, id, dependsOn);
        updated = await requireTask(db, id);
      }
      await appendEvent(db, { ...event, project: updated.project, taskId: id }, now);
      return updated;
    },

    async countTasksByState(project, states) {
      if (states?.length === 0) return {};
      let query = db
        .selectFrom('tasks')
        .select(['state', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy('state');
      if (project !== undefined) query = query.where('project', '=', project);
      if (states) query = query.where('state', 'in', [...states]);
      const counts: Partial<Record<TaskState, number>> = {};
      for (const row of await query.execute()) counts[row.state as TaskState] = row.count;
      return counts;
    },

    async countTasksByAgent(project) {
      // From the totals the database keeps as tasks are written (totals-schema.ts), not every task.
      await compactTotals(db);
      let query = db
        .selectFrom('task_totals')
        .select(['project', 'agent', sql<number>`cast(sum(tasks) as integer)`.as('tasks')])
        .where('agent', '<>', '')
        .groupBy(['project', 'agent'])
        .having(sql`sum(tasks)`, '>', 0)
        .orderBy('project')
        .orderBy('agent');
      if (project !== undefined) query = query.where('project', '=', project);
      return (await query.execute()).map((row) => ({ project: row.project, agent: row.agent, tasks: row.tasks }));
    },

    async listTaskSummaries(states) {
      if (states.length === 0) return [];
      const rows = await db
        .selectFrom('tasks')
        .select(['id', 'project', 'state', 'priority', 'created_at', 'agent', 'labels', 'next_attempt_at', 'cost_usd', 'block_kind', 'blocked_reason', 'parent_id'])
        .where('state', 'in', [...states])
        .orderBy('id')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        project: row.project,
        state: row.state as TaskState,
        priority: row.priority,
        createdAt: row.created_at,
        agent: row.agent,
        labels: JSON.parse(row.labels) as string[],
        nextAttemptAt: row.next_attempt_at,
        costUsd: row.cost_usd,
        blockKind: row.block_kind as BlockKind | null,
        blockedReason: row.blocked_reason,
        parentId: row.parent_id,
      }));
    },

    async listWaits(states) {
      if (states.length === 0) return { dependencies: [], children: [] };
      // Both start from the tasks in `states` (by the index on state) and reach the others by key or
      // by the index on parent_id.
      const dependencies = await db
        .selectFrom('task_deps')
        .innerJoin('tasks as waiter', 'waiter.id', 'task_deps.task_id')
        .innerJoin('tasks as dependency', 'dependency.id', 'task_deps.depends_on')
        .select(['task_deps.task_id', 'dependency.id', 'dependency.state', 'dependency.parent_id'])
        .where('waiter.state', 'in', [...states])
        .orderBy('task_deps.task_id')
        .orderBy('task_deps.depends_on')
        .execute();
      const children = await db
        .selectFrom('tasks as child')
        .innerJoin('tasks as parent', 'parent.id', 'child.parent_id')
        .select(['child.id', 'child.state', 'parent.id as parent_id'])
        .where('parent.state', 'in', [...states])
        .orderBy('child.id')
        .execute();
      return {
        dependencies: dependencies.map((row) => ({ taskId: row.task_id, id: row.id, state: row.state as TaskState, parentId: row.parent_id })),
        children: children.map((row) => ({ id: row.id, state: row.state as TaskState, parentId: row.parent_id })),
      };
    },
  };
}

export async function requireTask(db: Kysely<Database>, id: number): Promise<Task> {
  const task = await findTask(db, id);
  if (!task) throw new NotFoundError(`task ${id} not found`);
  return task;
}

async function findTask(db: Kysely<Database>, id: number): Promise<Task | undefined> {
  const row = await selectTasks(db).where('tasks.id', '=', id).executeTakeFirst();
  return row && toTask(row);
}

async function listTaskRows(db: Kysely<Database>, filter: TaskFilter): Promise<Task[]> {
  let query = selectTasks(db).orderBy('tasks.id');
  if (filter.project !== undefined) query = query.where('tasks.project', '=', filter.project);
  if (filter.states) query = query.where('tasks.state', 'in', filter.states);
  if (filter.ids) query = query.where('tasks.id', 'in', filter.ids);
  if (filter.externalRefs) query = query.where('tasks.external_ref', 'in', filter.externalRefs);
  if (filter.tracked) query = query.where('tasks.external_ref', 'is not', null);
  if (filter.label !== undefined) query = query.where(hasLabel(db, filter.label));
  if (filter.unclaimed) {
    query = query.where((eb) => eb.not(eb.exists(eb.selectFrom('claims').select('claims.task_id').whereRef('claims.task_id', '=', 'tasks.id'))));
  }
  if (filter.parentId !== undefined) {
    query = query.where('tasks.parent_id', '=', filter.parentId);
  }
  const dependsOn = filter.dependsOn;
  if (dependsOn !== undefined) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('task_deps')
          .select('task_deps.task_id')
          .whereRef('task_deps.task_id', '=', 'tasks.id')
          .where('task_deps.depends_on', '=', dependsOn),
      ),
    );
  }
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  return (await query.execute()).map(toTask);
}

/** Tasks with their dependency ids, aggregated in the same statement so a list costs one query. */
function selectTasks(db: Kysely<Database>) {
  return db.selectFrom('tasks').selectAll('tasks').select(dependencyIdsJson(db).as('depends_on'));
}

/** Throws NotFoundError naming the first of `ids` that is not a task, described as `what`. */
async function requireTasks(db: Kysely<Database>, ids: number[], what: string): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('tasks').select('id').where('id', 'in', ids).execute();
  const found = new Set(rows.map((row) => row.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw new NotFoundError(`${what} ${missing} not found`);
}

async function writeDependencies(
  db: Kysely<Database>,
  taskId: number,
  dependsOn: number[],
): Promise<void> {
  await db.deleteFrom('task_deps').where('task_id', '=', taskId).execute();
  if (dependsOn.length === 0) return;
  await db
    .insertInto('task_deps')
    .values(dependsOn.map((dependency) => ({ task_id: taskId, depends_on: dependency })))
    .execute();
}

/** Works out why a guarded task update matched no row. */
async function refusedUpdate(db: Kysely<Database>, id: number, guard: TaskGuard): Promise<Error> {
  const current = await db
    .selectFrom('tasks')
    .select('version')
    .where('id', '=', id)
    .executeTakeFirst();
  if (!current) return new NotFoundError(`task ${id} not found`);
  if (guard.fence !== undefined) {
    const claim = await findClaim(db, id);
    if (claim?.token !== guard.fence) return staleFence(id, guard.fence, claim);
  }
  return new VersionConflictError(
    `task ${id} changed since it was read ` +
      `(version ${guard.expectedVersion}, now ${current.version})`,
  );
}

function unique(ids: number[]): number[] {
  return [...new Set(ids)];
}
