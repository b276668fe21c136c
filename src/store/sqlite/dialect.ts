import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from './schema.js';

// The few places where SQLite and PostgreSQL need different SQL. Everything else the operations say
// is common to both. SQLite runs one write transaction at a time, so what PostgreSQL needs a row lock
// for is already serial there.

export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * A select whose rows stay locked until the transaction ends (PostgreSQL `FOR UPDATE`): what the
 * transaction read cannot change under it before it commits.
 */
export function lockingRows<Query extends { forUpdate(): Query }>(db: Kysely<Database>, query: Query): Query {
  return isPostgres(db) ? query.forUpdate() : query;
}

/** The advisory lock a PostgreSQL transaction holds from its first event to its commit. */
const EVENT_ORDER_LOCK = 0x6f726365; // "orce"

/**
 * Makes event ids become visible in id order, as readers that resume after the last id they saw
 * (the SSE stream) need: on PostgreSQL an id is drawn at insert but shows at commit, so without this a
 * later id could be read before an earlier one commits, and the earlier one would be skipped. SQLite
 * has one writer at a time already.
 */
export async function holdEventOrder(db: Kysely<Database>): Promise<void> {
  if (isPostgres(db)) await sql`select pg_advisory_xact_lock(${EVENT_ORDER_LOCK})`.execute(db);
}

/** The task's dependency ids, ascending, as a JSON array text (`[]` for none). */
export function dependencyIdsJson(db: Kysely<Database>): RawBuilder<string> {
  return isPostgres(db)
    ? sql<string>`coalesce((
        select json_agg(depends_on order by depends_on)::text
        from task_deps where task_deps.task_id = tasks.id
      ), '[]')`
    : sql<string>`(
        select json_group_array(depends_on order by depends_on)
        from task_deps where task_deps.task_id = tasks.id
      )`;
}
