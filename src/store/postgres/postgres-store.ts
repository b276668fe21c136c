import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { KyselyStore } from '../kysely-store.js';
import { StoreError } from '../store.js';
import type { StoreOps } from '../store.js';
import { applyMigrations } from '../sqlite/migrations.js';
import type { Database } from '../sqlite/schema.js';
import { sqliteOps } from '../sqlite/sqlite-ops.js';
import { createPool, describeTarget, isConnectionError, isTransientConflict, openFailure } from './connection.js';
import type { PostgresTarget } from './connection.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

export interface PostgresStoreOptions {
  /** Bring the schema up to date on open (default). Off for `orch store migrate`, which reports what it applies. */
  migrate?: boolean;
  /** How long a call waits for a lost server to come back before it fails. Default: 3 minutes. */
  reconnectForMs?: number;
}

const DEFAULT_RECONNECT_MS = 180_000;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 5_000;
/** The advisory lock key every Orch holds while it migrates: "orch" in ASCII. */
const MIGRATION_LOCK = 0x6f726368;

/**
 * Opens the PostgreSQL database at `url` (postgres://user:password@host:port/database) and brings its
 * schema up to date. Any number of processes on any number of hosts may open the same database.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const target = describeTarget(url);
  const store = new PostgresStore(createPool(url), target, options.reconnectForMs ?? DEFAULT_RECONNECT_MS);
  try {
    // One connection first: an unreachable server fails here, at once, instead of being waited for.
    await store.ping();
    if (options.migrate !== false) await store.migrate();
  } catch (error) {
    await store.close();
    throw openFailure(error, target);
  }
  return store;
}

/**
 * The PostgreSQL Store: the same operations as SQLite's, on a connection pool. Each mutation is one
 * transaction at READ COMMITTED; the operations lock the rows their checks rely on (the fencing
 * counter, the claim a fence names), so the guarantees are SQLite's. A call that loses its
 * connection waits for the server and runs again, a transaction as a whole.
 */
export class PostgresStore extends KyselyStore {
  private readonly db: Kysely<Database>;
  /** Operations on the pool, outside any transaction: single-statement reads. */
  private readonly reads: StoreOps;
  private closed = false;

  constructor(
    pool: pg.Pool,
    private readonly target: PostgresTarget,
    private readonly reconnectForMs: number,
  ) {
    super();
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    this.reads = sqliteOps(this.db);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /**
   * Applies pending migrations under an advisory lock, so that hosts starting together apply each
   * step once; returns the versions applied.
   */
  migrate(): Promise<number[]> {
    return this.inTransaction(async (conn) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(conn);
      return applyMigrations(conn, POSTGRES_MIGRATIONS);
    });
  }

  /** The newest migration applied, 0 for an empty database. */
  async schemaVersion(): Promise<number> {
    return this.reconnecting(async () => {
      const { rows } = await sql<{ version: number | null }>`
        select case when to_regclass('schema_migrations') is null then 0 end as version`.execute(this.db);
      if (rows[0]?.version === 0) return 0;
      const newest = await this.db.selectFrom('schema_migrations').select((eb) => eb.fn.max('version').as('version')).executeTakeFirst();
      return newest?.version ?? 0;
    });
  }

  /** Other hosts' and processes' writes are told by their wake-ups (`events_appended`). */
  othersWrites(): null {
    return null;
  }

  async close(): Promise<void> {
    this.refuseInsideTransaction();
    this.closed = true;
    await this.db.destroy();
  }

  protected inTransaction<T>(fn: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.reconnecting(() => this.transactOnce(fn));
  }

  protected inRead<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    return this.reconnecting(() => fn(this.reads));
  }

  /**
   * Each statement commits on its own. A connection lost before a statement is sent is waited out like
   * any other; one lost while it runs leaves its outcome unknown, so it is not sent again.
   */
  protected override inStatements<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    return this.reconnecting(() =>
      this.db.connection().execute(async (conn) => {
        try {
          return await fn(sqliteOps(conn));
        } catch (error) {
          if (!isConnectionError(error)) throw error;
          throw new StoreError(`lost PostgreSQL at ${this.target.address} during a write (${firstLine(error)}): it may or may not have been applied`);
        }
      }),
    );
  }

  private transactOnce<T>(fn: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      let result: T;
      let xid: string | null;
      try {
        result = await fn(conn);
        // Its id, to learn whether it committed should the connection break during the commit.
        xid = (await sql<{ xid: string | null }>`select pg_current_xact_id_if_assigned()::text as xid`.execute(conn)).rows[0]?.xid ?? null;
      } catch (error) {
        // After a lost connection there is nothing to roll back: the server already did.
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
      try {
        await sql`commit`.execute(conn);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        // A transaction that wrote nothing, or one the server did not commit, is safe to run again
        // (a connection error makes `reconnecting` do so); one that committed is done.
        if (xid !== null && (await this.committed(xid, error))) return result;
        throw error;
      }
      return result;
    });
  }

  /** Whether transaction `xid` committed, asked once the server answers again. */
  private async committed(xid: string, lost: unknown): Promise<boolean> {
    const status = await this.reconnecting(async () => (await sql<{ status: string | null }>`select pg_xact_status(${xid}::xid8) as status`.execute(this.db)).rows[0]?.status ?? null);
    if (status === 'committed') return true;
    if (status === 'aborted') return false;
    throw new StoreError(`lost PostgreSQL at ${this.target.address} while committing (${firstLine(lost)}): the write may or may not have been applied`);
  }

  /**
   * Runs `attempt`, and again after a lost connection (the server restarting, a failover) or a
   * deadlock PostgreSQL broke, with growing pauses, for up to `reconnectForMs`. Everything else is
   * the caller's to hear at once.
   */
  private async reconnecting<T>(attempt: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let delay = FIRST_RETRY_DELAY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
      try {
        return await attempt();
      } catch (error) {
        const retryable = isConnectionError(error) || isTransientConflict(error);
        if (!retryable || this.closed) throw error;
        if (Date.now() - started + delay > this.reconnectForMs) {
          throw new StoreError(
            `lost PostgreSQL at ${this.target.address} and it did not come back within ${this.reconnectForMs / 1000} s ` +
              `(${firstLine(error)}): check that the server runs and this host can reach it`,
          );
        }
        await sleep(delay);
      }
    }
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
