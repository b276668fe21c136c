import type { Kysely } from 'kysely';
import type { Claim } from '../../core/types.js';
import { NotFoundError, StaleFenceError } from '../store.js';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import { isPostgres, lockingRows } from './dialect.js';
import { toClaim } from './rows.js';
import type { Database } from './schema.js';

export type ClaimOps = Pick<
  StoreOps,
  'claimTask' | 'renewClaim' | 'releaseClaim' | 'getClaim' | 'listClaims' | 'expiredClaims'
>;

export function claimOps(db: Kysely<Database>): ClaimOps {
  return {
    async claimTask({ taskId, owner, leaseMs, now, runId = null }) {
      const project = await taskProject(db, taskId);

      // The counter row stays locked until commit, so concurrent claims take tokens one after the
      // other. The primary key on claims.task_id refuses a second claim; the counter moves only
      // when the claim is taken, so a refused claim consumes no token and writes nothing.
      const counter = await lockingRows(db, db.selectFrom('fence_counter').select('last_token')).executeTakeFirstOrThrow();
      const row = await db
        .insertInto('claims')
        .values({
          task_id: taskId,
          run_id: runId,
          owner,
          token: counter.last_token + 1,
          lease_until: now + leaseMs,
          claimed_at: now,
        })
        .onConflict((oc) => oc.column('task_id').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;

      await db.updateTable('fence_counter').set({ last_token: row.token }).execute();
      await appendEvent(
        db,
        {
          type: 'claim.acquired',
          project,
          taskId,
          runId,
          data: { owner, token: row.token, leaseUntil: row.lease_until },
        },
        now,
      );
      return toClaim(row);
    },

    async renewClaim(taskId, token, leaseUntil) {
      // No event: renewals are heartbeats and would drown the audit trail.
      const { numUpdatedRows } = await db
        .updateTable('claims')
        .set({ lease_until: leaseUntil })
        .where('task_id', '=', taskId)
        .where('token', '=', token)
        .executeTakeFirst();
      return numUpdatedRows > 0n;
    },

    async releaseClaim(taskId, token, now, event) {
      const released = await db
        .deleteFrom('claims')
        .where('task_id', '=', taskId)
        .where('token', '=', token)
        .returningAll()
        .executeTakeFirst();
      if (!released) return false;
      await appendEvent(
        db,
        {
          type: 'claim.released',
          data: { owner: released.owner, token },
          ...event,
          project: await taskProject(db, taskId),
          taskId,
          runId: released.run_id,
        },
        now,
      );
      return true;
    },

    getClaim: (taskId) => findClaim(db, taskId),

    async listClaims(project) {
      let query = db.selectFrom('claims').selectAll('claims').orderBy('claims.task_id');
      if (project !== undefined) {
        query = query
          .innerJoin('tasks', 'tasks.id', 'claims.task_id')
          .where('tasks.project', '=', project);
      }
      return (await query.execute()).map(toClaim);
    },

    async expiredClaims(now) {
      const rows = await db
        .selectFrom('claims')
        .selectAll()
        .where('lease_until', '<', now)
        .orderBy('lease_until')
        .execute();
      return rows.map(toClaim);
    },
  };
}

export async function findClaim(db: Kysely<Database>, taskId: number): Promise<Claim | undefined> {
  const row = await db
    .selectFrom('claims')
    .selectAll()
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return row && toClaim(row);
}

/**
 * Throws StaleFenceError unless `fence` is the token of the task's live claim, which then stays
 * locked until commit: it cannot be released or taken over before the fenced write lands.
 */
export async function requireFence(
  db: Kysely<Database>,
  taskId: number,
  fence: number,
): Promise<void> {
  const row = await lockingRows(db, db.selectFrom('claims').selectAll().where('task_id', '=', taskId)).executeTakeFirst();
  const claim = row && toClaim(row);
  if (claim?.token !== fence) throw staleFence(taskId, fence, claim);
}

/** Locks the task's claim row, if it has one, until commit. */
export async function lockClaim(db: Kysely<Database>, taskId: number): Promise<void> {
  if (isPostgres(db)) await db.selectFrom('claims').select('task_id').where('task_id', '=', taskId).forUpdate().execute();
}

export function staleFence(
  taskId: number,
  fence: number,
  claim: Claim | undefined,
): StaleFenceError {
  const live = claim ? `the live claim has token ${claim.token}` : 'the task has no claim';
  return new StaleFenceError(`fencing token ${fence} is stale for task ${taskId}: ${live}`);
}

async function taskProject(db: Kysely<Database>, taskId: number): Promise<string> {
  const task = await db
    .selectFrom('tasks')
    .select('project')
    .where('id', '=', taskId)
    .executeTakeFirst();
  if (!task) throw new NotFoundError(`task ${taskId} not found`);
  return task.project;
}
