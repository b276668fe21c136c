// When the SSE stream reads the store: as soon as events may have been stored, rather than on a timer.
// This process's own writes say so when they commit; the writes of other processes and hosts sharing
// a PostgreSQL database say so through its wake-ups (`events_appended`). On SQLite, where a CLI command
// beside the daemon writes the same file and tells no one, the feed looks at the database's
// `data_version` every poll interval — a counter, not a read of the events — and wakes the streams
// only when another connection has committed.

import type { Orch } from '../engine/context.js';
import type { WakeupSubscription } from '../wakeups/wakeup-port.js';

/** How long after a wake-up that found nothing a stream looks once more (see `EventFeed.after`). */
const SETTLE_MS = 100;

export interface EventFeed {
  /**
   * True when every writer's events wake the feed (wake-ups across processes, or SQLite's data_version
   * looked at by the feed): a stream need not read the store on a timer.
   */
  readonly pushed: boolean;
  /** Bumped each time events may have been stored. */
  readonly generation: number;
  /**
   * Resolves with true once the generation has passed `seen` (at once if it already has), or with
   * false after `maxMs` or when `signal` aborts. A subscriber notes the generation, reads, then waits
   * for a later one, so a commit between its read and its wait is never missed.
   */
  after(seen: number, maxMs: number, signal: AbortSignal): Promise<boolean>;
  /**
   * PostgreSQL shows an event to a resuming reader once every older transaction has ended, which can
   * be just after its wake-up: a stream whose woken read found nothing looks again after this. 0 on SQLite.
   */
  readonly settleMs: number;
}

/**
 * One feed per server: it listens (the store's commits, the database's wake-ups) only while a stream
 * is open, and stops when the last one closes.
 */
export function eventFeed(orch: Pick<Orch, 'store' | 'wakeups'>, options: { pollMs: number }): EventFeed {
  let generation = 0;
  const waiters = new Set<() => void>();
  let listening: { stopCommits: () => void; wakeups: WakeupSubscription | null; watch: NodeJS.Timeout | null } | null = null;
  const pushedByDatabase = orch.wakeups !== undefined && orch.wakeups !== null;
  const othersWrites = () => {
    try {
      return orch.store.othersWrites();
    } catch {
      return null; // a store closing: the streams are ending too
    }
  };
  const watchedByVersion = !pushedByDatabase && othersWrites() !== null;

  const bump = () => {
    generation++;
    for (const wake of [...waiters]) wake();
  };
  const watchVersion = () => {
    let seen = othersWrites();
    const timer = setInterval(() => {
      const now = othersWrites();
      if (now === seen) return;
      seen = now;
      bump();
    }, options.pollMs);
    timer.unref();
    return timer;
  };
  const start = () => {
    listening ??= {
      stopCommits: orch.store.onCommitted(bump),
      wakeups: orch.wakeups ? orch.wakeups.listen(bump) : null,
      watch: watchedByVersion ? watchVersion() : null,
    };
  };
  const stopWhenIdle = () => {
    if (waiters.size > 0 || !listening) return;
    const { stopCommits, wakeups, watch } = listening;
    listening = null;
    stopCommits();
    if (watch) clearInterval(watch);
    void wakeups?.close();
  };

  return {
    pushed: pushedByDatabase || watchedByVersion,
    // Only PostgreSQL shows an event after its wake-up; SQLite's are visible at commit.
    settleMs: pushedByDatabase ? SETTLE_MS : 0,
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
