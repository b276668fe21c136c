import { sql } from 'kysely';
import type { Kysely, RawBuilder, Selectable } from 'kysely';
import type { Claim } from '../../core/types.js';
import { NotFoundError, StaleFenceError } from '../store.js';
import type { StoreOps } from '../store.js';
import { appendEvent, eventsNotCaptured } from './event-ops.js';
import { isPostgres, lockingRows } from './dialect.js';
import { toClaim } from './rows.js';
import type { ClaimsTable, Database } from './schema.js';

export type ClaimOps = Pick<
  StoreOps,
  'claimTask' | 'claimFirstFree' | 'renewClaim' | 'releaseClaim' | 'getClaim' | 'listClaims' | 'expiredClaims'
>;

export function claimOps(db: Kysely<Database>): ClaimOps {
  const ops: ClaimOps = {
    async claimFirstFree({ taskIds, ...request }) {
      if (taskIds.length === 0) return null;
      if (isPostgres(db)) return claimFirstFreeSkippingLocked(db, taskIds, { runId: null, ...request });
      // SQLite's one writer: what is free now stays free until this claim is in.
      const free = new Set(
        (await db.selectFrom('tasks').select('id').where('id', 'in', [...taskIds]).where((eb) => eb.not(eb.exists(eb.selectFrom('claims').select('claims.task_id').whereRef('claims.task_id', '=', 'tasks.id')))).execute()).map((row) => row.id),
      );
      const first = taskIds.find((id) => free.has(id));
      return first === undefined ? null : ops.claimTask({ ...request, taskId: first });
    },

    async claimTask({ taskId, owner, leaseMs, now, runId = null }) {
      if (isPostgres(db)) return claimInOneStatement(db, { taskId, owner, leaseMs, now, runId });
      const project = await taskProject(db, taskId);

      // SQLite writes one transaction at a time, so the counter hands out tokens in order. The primary key on claims.task_id refuses a second claim; the counter moves only
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
  return ops;
}

type ClaimFields = { owner: string; leaseMs: number; now: number; runId: number | null };

/**
 * PostgreSQL's claim: the claim, its token from a sequence and its event in one statement, so a claim
 * costs one round trip and holds no lock another claim waits on. The primary key on claims.task_id
 * refuses a second claim, writing nothing (the token drawn for it is left unused: fencing needs tokens
 * unique and increasing, not gapless).
 */
async function claimInOneStatement(db: Kysely<Database>, { taskId, ...fields }: ClaimFields & { taskId: number }): Promise<Claim | null> {
  const row = await claimStatement(db, sql`select id, project from tasks where id = ${taskId}`, fields);
  if (!row) throw new NotFoundError(`task ${taskId} not found`);
  return row.token === null ? null : toClaim(row);
}

/**
 * PostgreSQL's claim on the first free one of `taskIds`, in one statement: the first task in that order
 * with no claim whose row no other such claim has locked (`SKIP LOCKED`). A claim committed between
 * this statement's snapshot and its insert makes the insert do nothing: then it looks again (the free
 * ones only get fewer, so this ends).
 */
async function claimFirstFreeSkippingLocked(db: Kysely<Database>, taskIds: readonly number[], fields: ClaimFields): Promise<Claim | null> {
  const ids = sql`${[...taskIds]}::bigint[]`;
  // Joined from the list (not `id = any(…)`), so the plan is index lookups in the list's order however
  // stale the table's statistics (a backlog just added is read by a sequential scan otherwise).
  const firstFree = sql`
    select tasks.id, tasks.project from unnest(${ids}) with ordinality as wanted (id, position)
    join tasks on tasks.id = wanted.id
    where not exists (select 1 from claims where claims.task_id = tasks.id)
    order by wanted.position
    limit 1
    for update of tasks skip locked`;
  for (;;) {
    const row = await claimStatement(db, firstFree, fields);
    if (!row) return null;
    if (row.token !== null) return toClaim(row);
  }
}

/**
 * Claims the task (`id`, `project`) that `task` selects, recording `claim.acquired`: one row with the
 * task's project and the claim's columns, all null when the claim was refused; no row without a task.
 */
async function claimStatement(db: Kysely<Database>, task: RawBuilder<unknown>, { owner, leaseMs, now, runId }: ClaimFields) {
  const { rows } = await sql<Selectable<ClaimsTable> & { project: string }>`
    with task as (${task}),
    taken as (
      insert into claims (task_id, run_id, owner, token, lease_until, claimed_at)
      select id, ${runId}, ${owner}, nextval('fence_tokens'), ${now + leaseMs}, ${now} from task
      on conflict (task_id) do nothing
      returning *
    ),
    event as (
      insert into events (at, type, project, task_id, run_id, data)
      select ${now}, 'claim.acquired', task.project, taken.task_id, taken.run_id,
        json_build_object('owner', taken.owner, 'token', taken.token, 'leaseUntil', taken.lease_until)::text
      from taken, task
    )
    select task.project, taken.* from task left join taken on true`.execute(db);
  eventsNotCaptured(db); // its `claim.acquired`, when it took the claim
  return rows[0];
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
