import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { RunEndReason } from '../../src/core/end-reasons.js';
import type { RunOutcome, Task } from '../../src/core/types.js';
import type { NewTask, Store, StoreOps } from '../../src/store/store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export const T0 = 1_700_000_000_000;

export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'orch-store-'));
}

export interface TempStore {
  store: Store;
  dir: string;
  /** The database file. */
  path: string;
}

/** Registers hooks that give each test a fresh store in a temp dir, closed and deleted after. */
export function useTempStore(): TempStore {
  const context = {} as TempStore;
  beforeEach(async () => {
    context.dir = makeTempDir();
    context.path = join(context.dir, 'orch.db');
    context.store = await openSqliteStore(context.path);
  });
  afterEach(async () => {
    await context.store.close();
    rmSync(context.dir, { recursive: true, force: true });
  });
  return context;
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
