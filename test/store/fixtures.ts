import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { RunEndReason } from '../../src/core/end-reasons.js';
import type { RunOutcome, Task } from '../../src/core/types.js';
import type { NewTask, Store, StoreOps } from '../../src/store/store.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

export const T0 = 1_700_000_000_000;

/** The store implementations every store test runs against (`describe.each(storeKinds)`). */
export type StoreKind = 'sqlite' | 'postgres';
export const storeKinds: readonly StoreKind[] = ['sqlite', 'postgres'];

export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'orch-store-'));
}

export interface TempStore {
  kind: StoreKind;
  store: Store;
  dir: string;
  /** Where the store lives: the SQLite file, or the PostgreSQL database's URL. */
  location: string;
  /** Opens another store on the same database, as another process would. */
  open(): Promise<Store>;
  /** How many rows a table holds, counted around the store. */
  countRows(table: string): Promise<number>;
}

/**
 * Registers hooks that give each test a fresh, empty store in a temp dir, closed and deleted after:
 * a new SQLite file, or a new database on a PostgreSQL cluster of this test file's own.
 */
export function useTempStore(kind: StoreKind = 'sqlite'): TempStore {
  const context = { kind } as TempStore;
  if (kind === 'postgres') {
    beforeAll(acquireCluster);
    afterAll(releaseCluster);
  }
  beforeEach(async () => {
    context.dir = makeTempDir();
    context.location = kind === 'sqlite' ? join(context.dir, 'orch.db') : await createTestDatabase();
    context.open = () => openStore(kind, context.location);
    context.countRows = (table) => countRows(kind, context.location, table);
    context.store = await context.open();
  });
  afterEach(async () => {
    await context.store.close();
    rmSync(context.dir, { recursive: true, force: true });
  });
  return context;
}

export function openStore(kind: StoreKind, location: string): Promise<Store> {
  return kind === 'sqlite' ? openSqliteStore(location) : openPostgresStore(location);
}

/** This test file's PostgreSQL cluster, started by the first suite that needs it, destroyed after the last. */
let clusterInUse: Promise<PostgresCluster> | undefined;
let clusterUsers = 0;
let databases = 0;

/** Starts (or joins) this test file's cluster; pair with releaseCluster in afterAll. */
export function acquireCluster(): Promise<PostgresCluster> {
  clusterUsers++;
  clusterInUse ??= startPostgres();
  return clusterInUse;
}

export async function releaseCluster(): Promise<void> {
  if (--clusterUsers > 0 || !clusterInUse) return;
  const cluster = clusterInUse;
  clusterInUse = undefined;
  await (await cluster).destroy();
}

/** A fresh empty database on this file's cluster (acquireCluster first). */
export async function createTestDatabase(): Promise<string> {
  if (!clusterInUse) throw new Error('acquireCluster() first');
  return (await clusterInUse).createDatabase(`test_${++databases}`);
}

async function countRows(kind: StoreKind, location: string, table: string): Promise<number> {
  if (kind === 'sqlite') {
    const raw = new BetterSqlite3(location, { readonly: true });
    try {
      return raw.prepare(`select count(*) from ${table}`).pluck().get() as number;
    } finally {
      raw.close();
    }
  }
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>(`select count(*) from ${table}`)).rows[0]!.count);
  } finally {
    await client.end();
  }
}

export async function addProject(store: StoreOps, name = 'web'): Promise<void> {
  await store.addProject(
    { name, repoPath: `/repos/${name}`, remoteUrl: null, defaultBranch: 'main' },
    T0,
  );
}

export function createTask(store: StoreOps, overrides: Partial<NewTask> = {}): Promise<Task> {
  return store.createTask({ project: 'web', title: 'Fix the login form', ...overrides }, T0);
}

/** Asserts that `promise` rejects with exactly this error class and message. */
export async function expectRejection(
  promise: Promise<unknown>,
  errorClass: new (message: string) => Error,
  message: string,
): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(errorClass);
  expect((error as Error).message).toBe(message);
}

/** The end reason a run that ended with `outcome` (failed later by the judge when `failure` is set) is given. */
export function endReasonFor(outcome: RunOutcome | null, failure?: unknown): RunEndReason | null {
  if (outcome === null) return null;
  if (failure) return 'judge_failed';
  if (outcome === 'succeeded') return 'merged';
  if (outcome === 'failed' || outcome === 'crashed') return 'agent_failed';
  return outcome;
}
