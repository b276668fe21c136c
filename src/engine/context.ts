import { keepSandboxProbesIn } from '../sandbox/probe.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigCached } from '../config/config-cache.js';
import { makeHomePrivate } from '../config/private-home.js';
import type { OrchConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { AlreadyExistsError, type Store } from '../store/store.js';
import type { LockProvider } from '../locks/lock-port.js';
import type { WakeupBus } from '../wakeups/wakeup-port.js';

/** Everything a use case needs: the resolved config, the store and the clock. */

/** Under ORCH_HOME: the last sandbox probe that succeeded, and what it depended on (sandbox/probe.ts). */
const SANDBOX_PROBE_FILE = 'sandbox-probe.json';
export interface Orch {
  home: string;
  config: OrchConfig;
  store: Store;
  now: () => number;
  /** The name this process registered among the hosts sharing the store (`orch serve`); unset for others. */
  hostName?: string;
  /**
   * Locks that reach every host sharing this Orch's database (PostgreSQL advisory locks); absent,
   * the merge and delivery sections are held across this machine's processes only.
   */
  sharedLocks?: LockProvider;
  /** Wake-ups shared with the other hosts' daemons (PostgreSQL LISTEN/NOTIFY); absent on one host. */
  wakeups?: WakeupBus;
  close(): Promise<void>;
}

/**
 * The SQLite store of an ORCH_HOME: `orch.db` in it, unless ORCH_DATABASE names another file, so that
 * several homes on one machine share one store (as the tests of several daemons on one store do).
 */
export const databasePath = (home: string, env: NodeJS.ProcessEnv = process.env) => env.ORCH_DATABASE || join(home, 'orch.db');

/** Where the state lives: PostgreSQL when a database URL is given, else the SQLite file in ORCH_HOME. */
export type StoreTarget = { kind: 'postgres'; url: string } | { kind: 'sqlite'; path: string };

/** ORCH_DATABASE_URL, else config.yaml's database_url, else SQLite at ORCH_HOME/orch.db. */
export function storeTarget(home: string, databaseUrl: string | null, env: NodeJS.ProcessEnv = process.env): StoreTarget {
  const url = env.ORCH_DATABASE_URL?.trim() || databaseUrl;
  return url ? { kind: 'postgres', url } : { kind: 'sqlite', path: databasePath(home) };
}

/** The target as a person may be shown it: a URL without its password. */
export function describeStoreTarget(target: StoreTarget): string {
  if (target.kind === 'sqlite') return target.path;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'an invalid database URL';
  }
}

export interface OpenStoreOptions {
  /** Bring the schema up to date on open (default). */
  migrate?: boolean;
}

/** Opens the store at `target`. PostgreSQL's driver loads only here, so SQLite users never pay for it. */
export async function openStoreAt(target: StoreTarget, options: OpenStoreOptions = {}): Promise<Store & { migrate(): Promise<number[]> }> {
  if (target.kind === 'sqlite') return openSqliteStore(target.path, options);
  const { openPostgresStore } = await import('../store/postgres/postgres-store.js');
  return openPostgresStore(target.url, options);
}

/**
 * Loads the config and opens the store of an initialised ORCH_HOME, then registers in the store any
 * project that config.yaml lists and the store does not know yet (a project added by editing the file).
 */
export async function openOrch(home: string, now: () => number = Date.now): Promise<Orch> {
  if (!existsSync(join(home, 'config.yaml'))) {
    throw new OrchError('not_initialised', `Orch is not initialised in ${home}: run \`orch init\` first`);
  }
  const config = await loadConfigCached(home);
  keepSandboxProbesIn(join(home, SANDBOX_PROBE_FILE));
  const target = storeTarget(home, config.databaseUrl);
  makeHomePrivate(home, target.kind === 'sqlite' ? target.path : null);
  const store = await openStoreAt(target);
  try {
    await registerConfiguredProjects(store, config, now());
  } catch (error) {
    await store.close();
    throw error;
  }
  if (target.kind === 'sqlite') return { home, config, store, now, close: () => store.close() };
  // A shared database may be shared by several hosts: merges lock there, and wake-ups go to every daemon.
  const { connectHosts } = await import('./cross-host.js');
  const hosts = connectHosts(store, target.url);
  return {
    home,
    config,
    store,
    now,
    sharedLocks: hosts.sharedLocks,
    wakeups: hosts.wakeups,
    async close() {
      await hosts.close();
      await store.close();
    },
  };
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
