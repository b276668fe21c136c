import type { Kysely } from 'kysely';
import type { Job } from '../../core/types.js';
import { AlreadyExistsError, NotFoundError } from '../store.js';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import { requireProject } from './project-ops.js';
import { toJob } from './rows.js';
import type { Database } from './schema.js';

export type JobOps = Pick<
  StoreOps,
  'addJob' | 'getJob' | 'listJobs' | 'removeJob' | 'setJobEnabled' | 'markJobRun'
>;

export function jobOps(db: Kysely<Database>): JobOps {
  return {
    async addJob(job, now) {
      await requireProject(db, job.project);
      // The unique name decides, so that of two hosts adding the same job at once one is refused.
      const row = await db
        .insertInto('jobs')
        .values({
          name: job.name,
          project: job.project,
          schedule: job.schedule,
          kind: job.kind,
          spec: JSON.stringify(job.spec),
          enabled: job.enabled === false ? 0 : 1,
          last_run_at: null,
          created_at: now,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new AlreadyExistsError(`job "${job.name}" already exists`);
      await appendEvent(
        db,
        {
          type: 'job.added',
          project: job.project,
          data: { name: job.name, schedule: job.schedule },
        },
        now,
      );
      return toJob(row);
    },

    getJob: (name) => findJob(db, name),

    async listJobs(project) {
      let query = db.selectFrom('jobs').selectAll().orderBy('name');
      if (project !== undefined) query = query.where('project', '=', project);
      return (await query.execute()).map(toJob);
    },

    async removeJob(name, now) {
      const removed = await db.deleteFrom('jobs').where('name', '=', name).returning('project').executeTakeFirst();
      if (!removed) return false;
      await appendEvent(db, { type: 'job.removed', project: removed.project, data: { name } }, now);
      return true;
    },

    async setJobEnabled(name, enabled, now) {
      const row = await db
        .updateTable('jobs')
        .set({ enabled: enabled ? 1 : 0 })
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`job "${name}" not found`);
      await appendEvent(db, { type: enabled ? 'job.enabled' : 'job.disabled', project: row.project, data: { name } }, now);
      return toJob(row);
    },

    async markJobRun(name, at) {
      const row = await db
        .updateTable('jobs')
        .set({ last_run_at: at })
        .where('name', '=', name)
        .returning('project')
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`job "${name}" not found`);
      await appendEvent(db, { type: 'job.ran', project: row.project, data: { name } }, at);
    },
  };
}

async function findJob(db: Kysely<Database>, name: string): Promise<Job | undefined> {
  const row = await db.selectFrom('jobs').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toJob(row);
}
