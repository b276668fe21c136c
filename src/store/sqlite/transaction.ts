import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Runs `fn` on the single connection inside `BEGIN IMMEDIATE … COMMIT`; rolls back if it throws.
 *
 * IMMEDIATE takes the write lock up front: a deferred transaction that reads first and writes later
 * fails with SQLITE_BUSY when another process wrote in between, instead of waiting on busy_timeout.
 * Kysely's own transaction() issues a plain BEGIN, hence this helper.
 */
export async function inImmediateTransaction<T>(
  db: Kysely<Database>,
  sqlite: BetterSqlite3.Database,
  fn: (conn: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      // SQLite may already have rolled back by itself (e.g. after SQLITE_FULL); a second ROLLBACK
      // would throw and hide the original error.
      if (sqlite.inTransaction) await sql`rollback`.execute(conn);
      throw error;
    }
  });
}
