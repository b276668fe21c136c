import { join } from 'node:path';
import { fileLock } from '../workspace/file-lock.js';
import type { HeldLock, LockProvider } from './lock-port.js';

/**
 * Locks every Orch process of this machine using one ORCH_HOME respects: SQLite's exclusive lock on a
 * file under `<home>/locks/` (workspace/file-lock.ts), dropped by the OS when its holder dies.
 */
export function fileLocks(home: string): LockProvider {
  const dir = join(home, 'locks');
  return {
    scope: `file:${dir}`,
    async acquire(key: string): Promise<HeldLock> {
      const lock = fileLock(dir, key);
      await lock.acquire();
      return {
        release: async () => lock.release(),
      };
    },
    close: async () => undefined,
  };
}
