import { join } from 'node:path';
import { fileLock } from '../workspace/file-lock.js';

const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` while holding the lock `key` of this ORCH_HOME (one merge per project at a time; one fetch
 * or worktree change in a clone at a time): after every earlier call in this process has settled, and
 * while no other Orch process on the machine (a second `orch serve`, `orch run`, a pull worker's CLI)
 * holds it.
 */
export async function withLock<T>(home: string, key: string, fn: () => Promise<T>): Promise<T> {
  const lock = fileLock(join(home, 'locks'), key);
  const queueKey = lock.path;
  const previous = tails.get(queueKey) ?? Promise.resolve();
  const current = previous
    .catch(() => undefined)
    .then(async () => {
      await lock.acquire();
      try {
        return await fn();
      } finally {
        lock.release();
      }
    });
  tails.set(queueKey, current);
  try {
    return await current;
  } finally {
    if (tails.get(queueKey) === current) tails.delete(queueKey);
  }
}
