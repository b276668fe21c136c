import { advisoryLocks } from '../locks/advisory-locks.js';
import type { LockProvider } from '../locks/lock-port.js';
import type { Store } from '../store/store.js';
import { postgresWakeups } from '../wakeups/postgres-wakeups.js';
import { announceEventWrites } from '../wakeups/event-writes.js';
import { announceTaskWrites } from '../wakeups/task-writes.js';
import type { WakeupBus } from '../wakeups/wakeup-port.js';

/** What an Orch sharing its database with other hosts holds besides the store. */
export interface CrossHost {
  sharedLocks: LockProvider;
  wakeups: WakeupBus;
  close(): Promise<void>;
}

/**
 * Joins the hosts of one PostgreSQL database: merges and remote deliveries take advisory locks there,
 * every task this process's store commits that may let work start wakes every host's daemon —
 * whatever process wrote it (`orch serve`, `orch run`, `orch task add`) — and the events it stores
 * wake every host's live views.
 */
export function connectHosts(store: Pick<Store, 'onTaskWritten' | 'onCommitted'>, databaseUrl: string): CrossHost {
  const sharedLocks = advisoryLocks(databaseUrl);
  const wakeups = postgresWakeups(databaseUrl);
  const stopAnnouncingTasks = announceTaskWrites(store, wakeups);
  const stopAnnouncingEvents = announceEventWrites(store, wakeups);
  return {
    sharedLocks,
    wakeups,
    async close() {
      stopAnnouncingTasks();
      stopAnnouncingEvents();
      await wakeups.close();
      await sharedLocks.close();
    },
  };
}
