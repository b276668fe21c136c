import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyStore } from '../kysely-store.js';
import type { StoreOps } from '../store.js';
import { MIGRATIONS, applyMigrations } from './migrations.js';
import type { Database } from './schema.js';
import { openSqliteDatabase } from './sqlite-driver.js';
import { sqliteOps } from './sqlite-ops.js';
import { cachingStatements } from './statement-cache.js';
import { inImmediateTransaction } from './transaction.js';

export interface OpenOptions {
  /** Bring the schema up to date on open (default). Off for `orch store migrate`, which reports what it applies. */
  migrate?: boolean;
}

/**
 * Opens (creating it and its directory when missing) the SQLite database at `path` and brings its
 * schema up to date. Several processes may open the same file: writes serialize on SQLite's lock.
 */
export async function openSqliteStore(path: string, options: OpenOptions = {}): Promise<SqliteStore> {
  mkdirSync(dirname(path), { recursive: true });
  const sqlite = openSqliteDatabase(path);
  try {
    // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // SQLite's scratch data (a statement's journal, a sort, RETURNING's rows) in memory, not in a file
    // made and deleted in the temporary directory many times a second while agents talk.
    sqlite.pragma('temp_store = MEMORY');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const store = new SqliteStore(sqlite);
  if (options.migrate === false) return store;
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The SQLite Store. One better-sqlite3 connection per instance; Kysely queues callers on it, so a
 * transaction holds the connection until it commits. Every mutation runs in its own
 * `BEGIN IMMEDIATE` transaction; reads are single statements and need none.
 */
export class SqliteStore extends KyselyStore {
  private readonly db: Kysely<Database>;
  /** Operations on the shared connection, outside any transaction: single-statement reads. */
  private readonly reads: StoreOps;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    super();
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
    this.reads = sqliteOps(this.db);
  }

  /** Applies pending migrations; returns the versions applied. */
  async migrate(): Promise<number[]> {
    // Nearly every open finds the schema current: one read says so without taking the write lock.
    if (this.schemaIsCurrent()) return [];
    return inImmediateTransaction(this.db, this.sqlite, (conn) => applyMigrations(conn));
  }

  /** Whether exactly the known migrations are recorded (a newer one is for applyMigrations to refuse). */
  private schemaIsCurrent(): boolean {
    let versions: unknown[];
    try {
      versions = this.sqlite.prepare('SELECT version FROM schema_migrations').pluck().all();
    } catch {
      return false; // a new database: no table yet
    }
    const applied = new Set(versions);
    return applied.size === MIGRATIONS.length && MIGRATIONS.every((migration) => applied.has(migration.version));
  }

  async close(): Promise<void> {
    this.refuseInsideTransaction();
    // Lets calls already waiting for the connection finish instead of failing on a closed handle.
    await this.db.connection().execute(async () => undefined);
    await this.db.destroy();
  }

  othersWrites(): number {
    return this.sqlite.pragma('data_version', { simple: true }) as number;
  }

  protected inTransaction<T>(fn: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    return inImmediateTransaction(this.db, this.sqlite, fn);
  }

  protected inRead<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    return fn(this.reads);
  }
}
