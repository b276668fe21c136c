import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

// Kysely prepares every statement it runs, and on a busy daemon SQLite's parsing and planning of the
// same few statements (an event batch's INSERT, BEGIN, COMMIT, the reads of a tick) was a larger
// share of the work than running them. Prepared statements are kept by their SQL and run again.

/** Statements kept: the most recently used, well above what a daemon runs over and over. */
const KEPT = 512;

/** `sqlite` as Kysely's dialect uses it, each distinct statement prepared once while it is in use. */
export function cachingStatements(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const prepared = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = prepared.get(sql);
      if (statement) {
        prepared.delete(sql); // re-added below: the map's order is the order of last use
      } else {
        statement = sqlite.prepare(sql);
        if (prepared.size >= KEPT) prepared.delete(prepared.keys().next().value!);
      }
      prepared.set(sql, statement);
      return statement;
    },
  };
}
