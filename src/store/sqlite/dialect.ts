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
