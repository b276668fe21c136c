// What only the PostgreSQL store has: migrations shared by hosts, a server that is away for a while.
// Everything the two stores share runs against both in the other store tests.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { StoreError } from '../../src/store/store.js';
import type { PostgresCluster } from '../rig/postgres.js';
import { T0, acquireCluster, addProject, createTask, createTestDatabase, releaseCluster } from './fixtures.js';

let cluster: PostgresCluster;
beforeAll(async () => {
  cluster = await acquireCluster();
});
afterAll(releaseCluster);

async function query<Row>(url: string, text: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Row[];
  } finally {
    await client.end();
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('PostgreSQL migrations', () => {
  it('applies each migration once when several hosts open an empty database at the same time', async () => {
    const url = await createTestDatabase();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openPostgresStore(url)));
    await Promise.all(stores.map((store) => store.close()));

    const applied = await query<{ version: number; name: string }>(url, 'select version, name from schema_migrations order by version');
    expect(applied).toEqual(POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })));
    const again = await openPostgresStore(url);
    try {
      expect(await again.migrate()).toEqual([]);
      expect(await again.schemaVersion()).toBe(POSTGRES_MIGRATIONS.at(-1)!.version);
    } finally {
      await again.close();
    }
  });

  it('opens without migrating when asked, and migrates on demand', async () => {
    const url = await createTestDatabase();
    const store = await openPostgresStore(url, { migrate: false });
    try {
      expect(await store.schemaVersion()).toBe(0);
      expect(await store.migrate()).toEqual(POSTGRES_MIGRATIONS.map((migration) => migration.version));
      expect(await store.migrate()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('refuses a database whose schema is newer than the code', async () => {
    const url = await createTestDatabase();
    await (await openPostgresStore(url)).close();
    await query(url, "insert into schema_migrations (version, name) values (99, 'from the future')");

    const error = await rejection(openPostgresStore(url));
    expect(error).toBeInstanceOf(StoreError);
    const known = POSTGRES_MIGRATIONS.at(-1)!.version;
    expect(error.message).toBe(`the database schema is version 99, this Orch knows up to ${known}: upgrade Orch`);
  });
});

describe('opening a PostgreSQL database that is not there', () => {
  it('names the address and what to check when nothing listens there', async () => {
    const url = await createTestDatabase();
    const closedPort = cluster.port;
    await cluster.stop();
    try {
      const error = await rejection(openPostgresStore(url));
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).toMatch(
        new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${closedPort} \\(.*ECONNREFUSED.*\\): check that the server runs, listens there and lets this host in$`),
      );
    } finally {
      await cluster.start();
    }
  });

  it('says to create a database that does not exist', async () => {
    const error = await rejection(openPostgresStore(`postgres://postgres@127.0.0.1:${cluster.port}/nowhere`));
    expect(error.message).toBe(`PostgreSQL at 127.0.0.1:${cluster.port} has no database "nowhere": create it (createdb nowhere) or fix the database URL`);
  });

  it('refuses a URL that is not a postgres:// one', async () => {
    const error = await rejection(openPostgresStore('mysql://db.example/orch'));
    expect(error.message).toBe('the database URL must start with postgres://, not mysql://');
  });
});

describe('events on PostgreSQL', () => {
  it('never wait for one another, and a reader resuming after the last one it saw misses none that shows later', async () => {
    const url = await createTestDatabase();
    const [older, newer, reader] = [await openPostgresStore(url), await openPostgresStore(url), await openPostgresStore(url)];
    try {
      await addProject(older);
      const resume = async (afterId: number) => (await reader.listEvents({ afterId })).map((event) => event.type);
      const start = await reader.latestEventId();

      // The older transaction starts first but appends last, and commits last: its event has the
      // greater id yet was written by the transaction that began first.
      let letOlderGoOn!: () => void;
      const olderMayGoOn = new Promise<void>((resolve) => (letOlderGoOn = resolve));
      let letOlderCommit!: () => void;
      const olderMayCommit = new Promise<void>((resolve) => (letOlderCommit = resolve));
      let olderStep!: () => void;
      let olderStepped = new Promise<void>((resolve) => (olderStep = resolve));
      const olderDone = older.transaction(async (tx) => {
        await tx.createTask({ project: 'web', title: 'begun first' }, T0);
        olderStep();
        await olderMayGoOn;
        await tx.appendEvent({ type: 'older' }, T0);
        olderStep();
        await olderMayCommit;
      });
      await olderStepped;
      // Appending does not wait for the open transaction (it once waited on one lock held to commit).
      const newerEvent = await newer.appendEvent({ type: 'newer' }, T0);
      olderStepped = new Promise<void>((resolve) => (olderStep = resolve));
      letOlderGoOn();
      await olderStepped;

      // While the older transaction is open, a resuming reader is shown neither: the newer event's
      // place after the older one's is not settled yet.
      expect(await resume(start)).toEqual([]);
      expect(await reader.latestEventId()).toBe(start);
      letOlderCommit();
      await olderDone;
      expect(await resume(start)).toEqual(['task.created', 'older', 'newer']);
      const [, olderEvent] = await reader.listEvents({ afterId: start });
      expect(olderEvent!.id).toBeGreaterThan(newerEvent.id);
      // Resuming after the older event (the greater id) still yields the newer one.
      expect(await resume(olderEvent!.id)).toEqual(['newer']);
      expect(await reader.latestEventId()).toBe(newerEvent.id);
      expect(await resume(newerEvent.id)).toEqual([]);
    } finally {
      await Promise.all([older.close(), newer.close(), reader.close()]);
    }
  });
});

describe('a PostgreSQL server that goes away', () => {
  it('makes calls wait for it to come back instead of failing', async () => {
    const store = await openPostgresStore(await createTestDatabase());
    try {
      await addProject(store);
      await cluster.stop();
      // Started while the server is down: without waiting, it would fail with ECONNREFUSED.
      const created = createTask(store);
      const listed = store.listProjects();
      await cluster.start();
      expect((await created).title).toBe('Fix the login form');
      expect((await listed).map((project) => project.name)).toEqual(['web']);
    } finally {
      await store.close();
    }
  });

  it('runs a transaction again as a whole when the server restarts in the middle of it', async () => {
    const store = await openPostgresStore(await createTestDatabase());
    try {
      await addProject(store);
      let runs = 0;
      const task = await store.transaction(async (tx) => {
        runs++;
        const created = await createTask(tx);
        if (runs === 1) await cluster.restart();
        return tx.updateTask(created.id, { expectedVersion: 1 }, { state: 'routed' }, T0 + 1, { type: 'task.routed' });
      });
      expect(runs).toBe(2);
      expect(await store.listTasks()).toEqual([task]);
      expect((await store.listEvents({ taskId: task.id })).map((event) => event.type)).toEqual(['task.created', 'task.routed']);
    } finally {
      await store.close();
    }
  });

  it('gives up after the time it was given, saying what it lost', async () => {
    const store = await openPostgresStore(await createTestDatabase(), { reconnectForMs: 300 });
    try {
      await cluster.stop();
      const error = await rejection(store.listProjects());
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).toMatch(
        new RegExp(`^lost PostgreSQL at 127\\.0\\.0\\.1:${cluster.port} and it did not come back within 0\\.3 s \\(.+\\): check that the server runs and this host can reach it$`),
      );
    } finally {
      await cluster.start();
      await store.close();
    }
  });
});
