import type { LockProvider } from '../locks/lock-port.js';
import { fileLocks } from '../locks/file-locks.js';
import type { Orch } from './context.js';

const tails = new Map<string, Promise<unknown>>();
const homeLocks = new Map<string, LockProvider>();

/**
 * Runs `fn` while holding the lock `key` of this ORCH_HOME (one fetch or worktree change in a clone at
 * a time): after every earlier call in this process has settled, and while no other Orch process on
 * the machine (a second `orch serve`, `orch run`, a pull worker's CLI) holds it. Each host keeps its
 * own clone and worktrees, so these locks never need to reach other hosts.
 */
export function withLock<T>(home: string, key: string, fn: () => Promise<T>): Promise<T> {
  return withProviderLock(hostLocks(home), key, fn);
}

/**
 * Runs `fn` while holding `key` across every Orch sharing this one's work: every host of a shared
 * database when Orch has cross-host locks (`orch.sharedLocks`, PostgreSQL advisory locks), else every
 * process of this machine (the ORCH_HOME's file locks). The merge of a project and the delivery to a
 * repository take these.
 */
export function withSharedLock<T>(orch: Pick<Orch, 'home' | 'sharedLocks'>, key: string, fn: () => Promise<T>): Promise<T> {
  return withProviderLock(orch.sharedLocks ?? hostLocks(orch.home), key, fn);
}

/** Runs `fn` under the provider's lock `key`, after every earlier call in this process for the same lock has settled. */
export async function withProviderLock<T>(provider: LockProvider, key: string, fn: () => Promise<T>): Promise<T> {
  const queueKey = `${provider.scope}\0${key}`;
  const previous = tails.get(queueKey) ?? Promise.resolve();
  const current = previous
    .catch(() => undefined)
    .then(async () => {
      const held = await provider.acquire(key);
      try {
        return await fn();
      } finally {
        await held.release();
      }
    });
  tails.set(queueKey, current);
  try {
    return await current;
  } finally {
    if (tails.get(queueKey) === current) tails.delete(queueKey);
  }
}

function hostLocks(home: string): LockProvider {
  let provider = homeLocks.get(home);
  if (!provider) {
    provider = fileLocks(home);
    homeLocks.set(home, provider);
  }
  return provider;
}
