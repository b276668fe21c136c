import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/store.js';
import { MIGRATIONS, applyMigrations } from '../../src/store/sqlite/migrations.js';
import type { Migration } from '../../src/store/sqlite/migrations.js';
import type { Database } from '../../src/store/sqlite/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { inImmediateTransaction } from '../../src/store/sqlite/transaction.js';
import { T0, addProject, makeTempDir } from './fixtures.js';

let dir: string;

beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function inspect<T>(path: string, query: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

describe('migrations', () => {
  it('creates the parent directory and applies every migration once', async () => {
    const path = join(dir, 'nested', 'deeper', 'orch.db');
    const store = await openSqliteStore(path);
    await store.close();

    expect(existsSync(path)).toBe(true);
    const applied = inspect(path, (db) =>
      db.prepare('select version, name from schema_migrations order by version').all(),
    );
    expect(applied).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
    const tables = inspect(path, (db) =>
      db
        .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
        .pluck()
        .all(),
    );
    expect(tables).toEqual(
      expect.arrayContaining([
        'projects',
        'tasks',
        'task_deps',
        'runs',
        'claims',
        'fence_counter',
        'events',
        'jobs',
        'cooldowns',
        'webhook_deliveries',
        'schema_migrations',
      ]),
    );
    expect(inspect(path, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('applies nothing at reopen and keeps the data', async () => {
    const path = join(dir, 'orch.db');
    const first = await openSqliteStore(path);
    await addProject(first);
    await first.close();

    const second = (await openSqliteStore(path)) as SqliteStore;
    expect(await second.migrate()).toEqual([]);
    expect(await second.getProject('web')).toMatchObject({ name: 'web', createdAt: T0 });
    await second.close();

    const count = inspect(path, (db) =>
      db.prepare('select count(*) from schema_migrations').pluck().get(),
    );
    expect(count).toBe(MIGRATIONS.length);
  });

  it('opens a current store without the write lock, while another process holds it', async () => {
    const path = join(dir, 'orch.db');
    await (await openSqliteStore(path)).close();
    const writer = new BetterSqlite3(path);
    writer.exec('BEGIN IMMEDIATE');
    try {
      // A migration check inside BEGIN IMMEDIATE would wait out busy_timeout here, then fail.
      const reader = await openSqliteStore(path);
      expect(await reader.listProjects()).toEqual([]);
      await reader.close();
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });

  it('still refuses a store a newer Orch migrated', async () => {
    const path = join(dir, 'orch.db');
    await (await openSqliteStore(path)).close();
    const db = new BetterSqlite3(path);
    db.prepare('insert into schema_migrations (version, name) values (?, ?)').run(MIGRATIONS.at(-1)!.version + 1, 'from the future');
    db.close();
    await expect(openSqliteStore(path)).rejects.toThrow(/upgrade Orch/);
  });

  it('declares versions in strictly increasing order', () => {
    const versions = MIGRATIONS.map((migration) => migration.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('moves a task parked for its open pull request to in_review, with the pull request on the task', async () => {
    const sqlite = new BetterSqlite3(join(dir, 'upgrade.db'));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    try {
      const before = MIGRATIONS.filter((m) => m.version < 6);
      await inImmediateTransaction(db, sqlite, (conn) => applyMigrations(conn, before));
      sqlite.prepare("insert into projects (name, default_branch, created_at) values ('web', 'main', 1)").run();
      const insertTask = sqlite.prepare("insert into tasks (project, title, role, state, created_at, updated_at) values ('web', ?, 'implement', ?, 1, 1)");
      const insertEvent = sqlite.prepare("insert into events (task_id, project, type, data, at) values (?, 'web', ?, ?, 1)");
      const proposed = Number(insertTask.run('proposed', 'needs_review').lastInsertRowid);
      insertEvent.run(proposed, 'task.start', '{}');
      insertEvent.run(proposed, 'task.pull_request', JSON.stringify({ number: 7, url: 'https://example.test/pull/7', branch: 'orch/1-proposed' }));
      insertEvent.run(proposed, 'task.escalate', '{}');
      // Its pull request came before a later attempt that a person must look at: it stays with the person.
      const retried = Number(insertTask.run('retried', 'needs_review').lastInsertRowid);
      insertEvent.run(retried, 'task.pull_request', JSON.stringify({ number: 8, url: 'https://example.test/pull/8', branch: 'orch/2-retried' }));
      insertEvent.run(retried, 'task.start', '{}');
      await inImmediateTransaction(db, sqlite, (conn) => applyMigrations(conn, MIGRATIONS));
    } finally {
      await db.destroy();
    }
    const store = await openSqliteStore(join(dir, 'upgrade.db'));
    try {
      const [proposed, retried] = await store.listTasks({ project: 'web' });
      expect(proposed).toMatchObject({ state: 'in_review', pullRequest: { number: 7, url: 'https://example.test/pull/7', branch: 'orch/1-proposed', headSha: null, checks: null, ciRounds: 0, reviewRounds: 0 } });
      expect(retried).toMatchObject({ state: 'needs_review', pullRequest: { number: 8 } });
    } finally {
      await store.close();
    }
  });

  describe('with a hand-made migration list', () => {
    let sqlite: BetterSqlite3.Database;
    let db: Kysely<Database>;

    beforeEach(() => {
      sqlite = new BetterSqlite3(join(dir, 'custom.db'));
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    });
    afterEach(async () => {
      await db.destroy();
    });

    const migrateWith = (list: Migration[]) =>
      inImmediateTransaction(db, sqlite, (conn) => applyMigrations(conn, list));

    const createWidgets: Migration = {
      version: 1,
      name: 'widgets',
      async up(conn) {
        await sql`create table widgets (id integer primary key)`.execute(conn);
      },
    };

    it('rolls a failing migration back entirely', async () => {
      const failing: Migration = {
        version: 2,
        name: 'half done',
        async up(conn) {
          await sql`create table gadgets (id integer primary key)`.execute(conn);
          throw new Error('boom');
        },
      };
      await expect(migrateWith([createWidgets, failing])).rejects.toThrow('boom');

      const tables = sqlite
        .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
        .pluck()
        .all();
      expect(tables).toEqual([]);
    });

    it('applies only the pending migrations, in version order', async () => {
      const addColour: Migration = {
        version: 2,
        name: 'widget colour',
        async up(conn) {
          await sql`alter table widgets add column colour text`.execute(conn);
        },
      };
      expect(await migrateWith([createWidgets])).toEqual([1]);
      expect(await migrateWith([addColour, createWidgets])).toEqual([2]);
      expect(await migrateWith([createWidgets, addColour])).toEqual([]);
    });

    it('refuses a database newer than the code', async () => {
      const later: Migration = { ...createWidgets, version: 7, name: 'from the future' };
      await migrateWith([later]);

      const error: unknown = await migrateWith([createWidgets]).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toBe(
        'the database schema is version 7, this Orch knows up to 1: upgrade Orch',
      );
    });
  });
});
