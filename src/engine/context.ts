import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { makeHomePrivate } from '../config/private-home.js';
import type { OrchConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { AlreadyExistsError, type Store } from '../store/store.js';
import type { LockProvider } from '../locks/lock-port.js';
import type { WakeupBus } from '../wakeups/wakeup-port.js';

/** Everything a use case needs: the resolved config, the store and the clock. */
export interface Orch {
  home: string;
  config: OrchConfig;
  store: Store;
  now: () => number;
  /**
   * Locks that reach every host sharing this Orch's database (PostgreSQL advisory locks); absent,
   * the merge and delivery sections are held across this machine's processes only.
   */
  sharedLocks?: LockProvider;
  /** Wake-ups shared with the other hosts' daemons (PostgreSQL LISTEN/NOTIFY); absent on one host. */
  wakeups?: WakeupBus;
  close(): Promise<void>;
}

export const databasePath = (home: string) => join(home, 'orch.db');

/**
 * Loads the config and opens the store of an initialised ORCH_HOME, then registers in the store any
 * project that config.yaml lists and the store does not know yet (a project added by editing the file).
 */
export async function openOrch(home: string, now: () => number = Date.now): Promise<Orch> {
  if (!existsSync(join(home, 'config.yaml'))) {
    throw new OrchError('not_initialised', `Orch is not initialised in ${home}: run \`orch init\` first`);
  }
  const config = loadConfig(home);
  makeHomePrivate(home, databasePath(home));
  const store = await openSqliteStore(databasePath(home));
  try {
    await registerConfiguredProjects(store, config, now());
  } catch (error) {
    await store.close();
    throw error;
  }
  return { home, config, store, now, close: () => store.close() };
}

/** Adds to the store every project config.yaml lists that it does not know yet. */
export async function registerConfiguredProjects(store: Store, config: OrchConfig, now: number): Promise<void> {
  const known = new Set((await store.listProjects()).map((p) => p.name));
  for (const project of Object.values(config.projects)) {
    if (known.has(project.name)) continue;
    try {
      await store.addProject({ name: project.name, repoPath: project.path, remoteUrl: project.remote, defaultBranch: project.defaultBranch ?? 'main' }, now);
    } catch (error) {
      // Another Orch process opening the same fresh store registered it first: that is the goal.
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}
