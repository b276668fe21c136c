import type { Kysely } from 'kysely';
import type { Worker } from '../../core/types.js';
import { NotFoundError } from '../store.js';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import { requireProject } from './project-ops.js';
import { toWorker, workerPatchColumns } from './rows.js';
import type { Database } from './schema.js';

export type WorkerOps = Pick<StoreOps, 'createWorker' | 'updateWorker' | 'assignWorkerTask' | 'getWorker' | 'listWorkers'>;

export function workerOps(db: Kysely<Database>): WorkerOps {
  return {
    async createWorker(worker, event) {
      await requireProject(db, worker.project);
      const row = await db
        .insertInto('workers')
        .values({
          project: worker.project,
          agent: worker.agent,
          owner: worker.owner,
          host: worker.host ?? null,
          pid: null,
          worktree: null,
          branch: null,
          log_path: null,
          task_id: null,
          run_id: null,
          started_at: worker.startedAt,
          claimed_at: null,
          done_at: null,
          summary: null,
          ended_at: null,
          outcome: null,
          reason: null,
          cost_usd: 0,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendEvent(
        db,
        { type: 'worker.started', data: { worker: row.id, agent: worker.agent, owner: worker.owner }, ...event, project: worker.project },
        worker.startedAt,
      );
      return toWorker(row);
    },

    async updateWorker(id, patch, now, event) {
      const row = await db.updateTable('workers').set(workerPatchColumns(patch)).where('id', '=', id).returningAll().executeTakeFirst();
      if (!row) throw new NotFoundError(`worker ${id} not found`);
      await appendEvent(
        db,
        {
          type: 'worker.updated',
          ...event,
          data: { worker: id, fields: Object.keys(patch), ...event?.data },
          project: row.project,
          taskId: row.task_id,
          runId: row.run_id,
        },
        now,
      );
      return toWorker(row);
    },

    async assignWorkerTask(id, { taskId, runId }, now) {
      // The guard is in the update itself: of two claims by one worker, only the first finds it free.
      const row = await db
        .updateTable('workers')
        .set({ task_id: taskId, run_id: runId, claimed_at: now })
        .where('id', '=', id)
        .where('task_id', 'is', null)
        .where('ended_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      await appendEvent(db, { type: 'worker.claimed', project: row.project, taskId, runId, data: { worker: id } }, now);
      return toWorker(row);
    },

    getWorker: (id) => findWorker(db, id),

    async listWorkers(filter = {}) {
      let query = db.selectFrom('workers').selectAll().orderBy('id');
      if (filter.project !== undefined) query = query.where('project', '=', filter.project);
      if (filter.open === true) query = query.where('ended_at', 'is', null);
      if (filter.open === false) query = query.where('ended_at', 'is not', null);
      if (filter.endedAfter !== undefined) query = query.where('ended_at', '>', filter.endedAfter);
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toWorker);
    },
  };
}

async function findWorker(db: Kysely<Database>, id: number): Promise<Worker | undefined> {
  const row = await db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toWorker(row);
}
