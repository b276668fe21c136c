import type Database from 'better-sqlite3';
import type * as Crypto from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// better-sqlite3 and node:crypto load when a lock is first taken or named, not with every command that
// could take one (most never do); required, better-sqlite3 also skips the scan for named exports an
// ESM import of CommonJS costs.
const requireModule = createRequire(import.meta.url);

/**
 * An exclusive lock shared by every process on this machine, held as SQLite's write lock on a small
 * file of its own. The operating system drops that lock the moment its holder dies, so an Orch killed
 * in the middle of a merge leaves nothing for the next one to wait out or clean up (a lock file with a
 * pid in it would need a staleness guess, and stealing it races).
 */
export class FileLock {
  private db: Database.Database | null = null;

  constructor(readonly path: string) {}

  /** Waits until no other process holds the lock, polling: a busy wait inside SQLite would block the event loop. */
  async acquire(): Promise<void> {
    this.db ??= new (requireModule('better-sqlite3') as typeof Database)(this.path, { timeout: 0 });
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        this.db.exec('BEGIN EXCLUSIVE');
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      }
      await sleep(wait);
    }
  }

  release(): void {
    if (this.db?.inTransaction) this.db.exec('ROLLBACK');
  }
}

const locks = new Map<string, FileLock>();

/**
 * The lock of `key` under `dir`, one object per file in this process (callers queue for it in
 * process first). The file name keeps the key readable and a hash keeps distinct keys apart.
 */
export function fileLock(dir: string, key: string): FileLock {
  const name = `${key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60)}-${(requireModule('node:crypto') as typeof Crypto).createHash('sha256').update(key).digest('hex').slice(0, 8)}.lock`;
  const path = join(dir, name);
  let lock = locks.get(path);
  if (!lock) {
    mkdirSync(dir, { recursive: true });
    lock = new FileLock(path);
    locks.set(path, lock);
  }
  return lock;
}
