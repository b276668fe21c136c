import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isConnectionError } from '../store/postgres/connection.js';
import type { HeldLock, LockProvider } from './lock-port.js';

/**
 * Locks every host sharing one PostgreSQL database respects: a session-level advisory lock, held on a
 * connection of its own for as long as the section runs. PostgreSQL releases a session's advisory
 * locks when its connection ends for any reason — the holder released it, the holder's process or
 * host died, the network dropped — so a crashed host never leaves a lock for the others to wait out.
 *
 * The connection is made for the lock and ended to release it: the end is the release (no separate
 * unlock that could fail halfway), and a pooled connection returned with a lock still on it would
 * hand that lock to whoever borrows it next.
 *
 * A lock can be lost while held, when the connection drops mid-section; `lost` says so. The sections
 * that cross hosts do not trust the lock alone: landing on a shared remote is a compare-and-set push
 * (engine/shared-remote.ts), so a section that lost its lock fails its push rather than overwrite.
 */
let providers = 0;

/** How long taking a lock waits for a lost server to come back: as long as the store's calls do. */
const RECONNECT_FOR_MS = 180_000;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** The server's TCP keepalives for this session (seconds): first probe after 10 s idle, then every 5 s, 3 misses. */
export const SERVER_KEEPALIVES = '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3';

export function advisoryLocks(connectionString: string, options: { applicationName?: string } = {}): LockProvider {
  const open = new Set<pg.Client>();
  let closed = false;
  return {
    // Each provider queues its own callers: two providers in one process contend in PostgreSQL, as two hosts do.
    scope: `postgres#${++providers}`,
    async acquire(key: string): Promise<AdvisoryHeldLock> {
      // A server that restarts or a connection that drops while the lock is waited for is waited out,
      // as the store waits for it: the section has not begun, so taking the lock again is safe.
      const deadline = Date.now() + RECONNECT_FOR_MS;
      for (let delay = FIRST_RETRY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
        if (closed) throw new Error('the advisory lock provider is closed');
        try {
          return await lockOnNewConnection(key);
        } catch (error) {
          if (closed || !isConnectionError(error) || Date.now() + delay > deadline) {
            throw new Error(`could not take the lock ${key} in PostgreSQL: ${(error as Error).message}`);
          }
          await sleep(delay);
        }
      }
    },
    async close() {
      closed = true;
      await Promise.all([...open].map((client) => client.end().catch(() => undefined)));
      open.clear();
    },
  };

  async function lockOnNewConnection(key: string): Promise<AdvisoryHeldLock> {
    const client = new pg.Client({
      connectionString,
      application_name: options.applicationName ?? 'orch lock',
      // Both ends probe an idle connection: a host cut off without closing its connection (a network
      // partition, a frozen VM) gives its locks up within about half a minute, not the operating
      // system's default two hours, and the holder learns it lost them.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      options: SERVER_KEEPALIVES,
    });
    let lost = false;
    // Without a listener a dropped connection would be an uncaught error; losing it is what `lost` reports.
    client.on('error', () => {
      lost = true;
    });
    client.on('end', () => {
      lost = true;
      open.delete(client);
    });
    open.add(client);
    try {
      await client.connect();
      // Waits in the server, in the order the waiters came, without polling.
      await client.query('select pg_advisory_lock($1::bigint)', [advisoryLockId(key)]);
    } catch (error) {
      open.delete(client);
      await client.end().catch(() => undefined);
      throw error;
    }
    let released = false;
    return {
      get lost() {
        return lost && !released;
      },
      async release() {
        if (released) return;
        released = true;
        open.delete(client);
        await client.end().catch(() => undefined);
      },
    };
  }
}

export interface AdvisoryHeldLock extends HeldLock {
  /** True once the connection holding the lock dropped: other hosts may hold it now. */
  readonly lost: boolean;
}

/**
 * The advisory lock id of a key: the first 64 bits of its SHA-256, as PostgreSQL's signed bigint.
 * Stable across hosts, processes and versions (a lock id that changed with an upgrade would let two
 * versions run the same section at once); the prefix keeps Orch's ids apart from other users' of the
 * same database.
 */
export function advisoryLockId(key: string): string {
  return createHash('sha256').update(`orch:${key}`).digest().readBigInt64BE(0).toString();
}
