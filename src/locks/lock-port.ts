/**
 * The lock port: exclusive sections named by a key. A provider decides how far a lock reaches —
 * the processes of one machine (`file-locks.ts`) or every host sharing one PostgreSQL database
 * (`advisory-locks.ts`). Callers queue within their own process first (engine/locks.ts), so a
 * provider only ever sees one waiter per key per process.
 */
export interface LockProvider {
  /** Tells providers apart in the in-process queue: two providers never share a queue. */
  readonly scope: string;
  /** Waits until no other holder (in another process or on another host) holds `key`. */
  acquire(key: string): Promise<HeldLock>;
  /** Gives back whatever the provider keeps open (connections); held locks are released. */
  close(): Promise<void>;
}

export interface HeldLock {
  release(): Promise<void>;
}
