import { setTimeout as sleep } from 'node:timers/promises';
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
    await beginImmediate(conn);
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

/** How long a write waits for the write lock, in all, before it gives up. */
const WRITE_LOCK_PATIENCE_MS = 60_000;

/**
 * `BEGIN IMMEDIATE`, taken again after SQLITE_BUSY. busy_timeout (5 s) lets SQLite wait by itself,
 * but its busy handler is not fair: among many processes writing without pause, one can lose the race
 * for longer. Nothing has been done yet when BEGIN fails, so it is safe to try again, after a pause
 * that lets this process's other work run.
 */
async function beginImmediate(conn: Kysely<Database>): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (error) {
      const busy = (error as { code?: string }).code === 'SQLITE_BUSY';
      if (!busy || Date.now() - started > WRITE_LOCK_PATIENCE_MS) throw error;
      await sleep(5 + Math.random() * 45);
    }
  }
}
