// When the SSE stream reads the store: as soon as events may have been stored, rather than on a timer.
// This process's own writes say so when they commit; the writes of other processes and hosts sharing
// a PostgreSQL database say so through its wake-ups (`events_appended`). With no such wake-ups (SQLite:
// a CLI command beside the daemon writes the same file and tells no one) the stream also looks every
// poll interval.

import type { Orch } from '../engine/context.js';
import type { WakeupSubscription } from '../wakeups/wakeup-port.js';

/** How long after a wake-up that found nothing a stream looks once more (see `EventFeed.after`). */
const SETTLE_MS = 100;

export interface EventFeed {
  /** True when every writer's events wake the feed (wake-ups across processes): no need to poll. */
  readonly pushed: boolean;
  /** Bumped each time events may have been stored. */
  readonly generation: number;
  /**
   * Resolves with true once the generation has passed `seen` (at once if it already has), or with
   * false after `maxMs` or when `signal` aborts. A subscriber notes the generation, reads, then waits
   * for a later one, so a commit between its read and its wait is never missed.
   */
  after(seen: number, maxMs: number, signal: AbortSignal): Promise<boolean>;
  /** PostgreSQL shows an event to a resuming reader once every older transaction has ended, which can be just after its wake-up. */
  readonly settleMs: number;
}

/**
 * One feed per server: it listens (the store's commits, the database's wake-ups) only while a stream
 * is open, and stops when the last one closes.
 */
export function eventFeed(orch: Pick<Orch, 'store' | 'wakeups'>): EventFeed {
  let generation = 0;
  const waiters = new Set<() => void>();
  let listening: { stopCommits: () => void; wakeups: WakeupSubscription | null } | null = null;

  const bump = () => {
    generation++;
    for (const wake of [...waiters]) wake();
  };
  const start = () => {
    listening ??= {
      stopCommits: orch.store.onCommitted(bump),
      wakeups: orch.wakeups ? orch.wakeups.listen(bump) : null,
    };
  };
  const stopWhenIdle = () => {
    if (waiters.size > 0 || !listening) return;
    const { stopCommits, wakeups } = listening;
    listening = null;
    stopCommits();
    void wakeups?.close();
  };

  return {
    pushed: orch.wakeups !== undefined && orch.wakeups !== null,
    settleMs: SETTLE_MS,
    get generation() {
      return generation;
    },
    after(seen, maxMs, signal) {
      start();
      if (generation > seen) return Promise.resolve(true);
      if (signal.aborted) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const finish = (woken: boolean) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', aborted);
          waiters.delete(wake);
          // Closed a little later: a stream that reads and waits again keeps the listeners it had.
          setTimeout(stopWhenIdle, 1000).unref();
          resolve(woken);
        };
        const wake = () => finish(true);
        const aborted = () => finish(false);
        const timer = setTimeout(() => finish(false), maxMs);
        waiters.add(wake);
        signal.addEventListener('abort', aborted, { once: true });
      });
    },
  };
}
