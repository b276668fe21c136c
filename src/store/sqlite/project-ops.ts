import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Project } from '../../core/types.js';
import { AlreadyExistsError, NotFoundError } from '../store.js';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import { toProject } from './rows.js';
import type { Database } from './schema.js';

export type ProjectOps = Pick<
  StoreOps,
  'addProject' | 'getProject' | 'listProjects' | 'removeProject' | 'setProjectPaused'
>;

export function projectOps(db: Kysely<Database>): ProjectOps {
  return {
    async addProject(project, now) {
      // The primary key decides, so that of two hosts adding the same name at once one is refused.
      const row = await db
        .insertInto('projects')
        .values({
          name: project.name,
          repo_path: project.repoPath,
          remote_url: project.remoteUrl,
          default_branch: project.defaultBranch,
          paused: 0,
          paused_reason: null,
          created_at: now,
          version: 1,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new AlreadyExistsError(`project "${project.name}" already exists`);
      await appendEvent(
        db,
        {
          type: 'project.added',
          project: project.name,
          data: { repoPath: project.repoPath, remoteUrl: project.remoteUrl },
        },
        now,
      );
      return toProject(row);
    },

    getProject: (name) => findProject(db, name),

    async listProjects() {
      const rows = await db.selectFrom('projects').selectAll().orderBy('name').execute();
      return rows.map(toProject);
    },

    async removeProject(name, now) {
      // Foreign keys cascade to tasks, deps, runs, claims and jobs; events have none and stay.
      const { numDeletedRows } = await db
        .deleteFrom('projects')
        .where('name', '=', name)
        .executeTakeFirst();
      if (numDeletedRows === 0n) return false;
      await appendEvent(db, { type: 'project.removed', project: name }, now);
      return true;
    },

    async setProjectPaused(name, paused, reason, now, event) {
      const row = await db
        .updateTable('projects')
        .set({ paused: paused ? 1 : 0, paused_reason: reason, version: sql`version + 1` })
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`project "${name}" not found`);
      await appendEvent(
        db,
        {
          type: paused ? 'project.paused' : 'project.resumed',
          data: { reason },
          ...event,
          project: name,
        },
        now,
      );
      return toProject(row);
    },
  };
}

async function findProject(db: Kysely<Database>, name: string): Promise<Project | undefined> {
  const row = await db
    .selectFrom('projects')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row && toProject(row);
}

export async function requireProject(db: Kysely<Database>, name: string): Promise<void> {
  if (!(await findProject(db, name))) throw new NotFoundError(`project "${name}" not found`);
}
