// What the SSE streams send, and when. The events this process stores are handed over as they commit,
// with their ids, and kept in an event window: a stream takes them from memory, in the order and with
// the ids a read of the store would give. The store is read only to catch up (a reconnect with
// Last-Event-ID, a stream that fell behind the window) and for events the window cannot hold: those of
// other processes and hosts. Those say so through PostgreSQL's wake-ups (`events_appended`); on SQLite,
// where a CLI command beside the daemon writes the same file and tells no one, the feed looks at the
// database's `data_version` every poll interval — a counter, not a read of the events.

import { setTimeout as sleep } from 'node:timers/promises';
import type { OrchEvent } from '../core/types.js';
import type { Orch } from '../engine/context.js';
import type { WakeupSubscription } from '../wakeups/wakeup-port.js';
import { EventWindow } from './event-window.js';

/** How long after a wake-up that found nothing a stream looks once more (see `EventFeed.after`). */
const SETTLE_MS = 100;
/** How often, and how many times, the feed asks whether a batch's place in the order is settled. */
const PLACE_RETRY_MS = 10;
const PLACE_TRIES = 50;

export interface EventFeed {
  /**
   * True when every writer's events wake the feed (wake-ups across processes, or SQLite's data_version
   * looked at by the feed): a stream need not read the store on a timer.
   */
  readonly pushed: boolean;
  /** Bumped each time events may have been stored. */
  readonly generation: number;
  /**
   * Bumped each time events may have been stored that the window does not hold (another process's, or
   * ones this process could not place): a stream that has not read the store since reads it.
   */
  readonly unseen: number;
  /** This process's latest events, for streams whose cursor it holds. */
  readonly window: EventWindow;
  /** A stream opens: the feed listens from now on, before the stream's first read. */
  open(): void;
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
  let unseen = 0;
  const window = new EventWindow();
  /** Batches are placed one after another, in the order they committed. */
  let placing: Promise<void> = Promise.resolve();
  /** Counts the times the feed started listening: a batch heard before a restart is not placed after it. */
  let session = 0;
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
  const bumpUnseen = () => {
    unseen++;
    bump();
  };
  /** Where a reader meets `stored` in the store's order: after the cursor the store says comes before it. */
  const place = async (stored: readonly OrchEvent[], heardIn: number) => {
    const stillListening = () => listening !== null && session === heardIn;
    try {
      let before = await orch.store.cursorBefore(stored[0]!.id);
      for (let tries = 1; before === null && tries < PLACE_TRIES && stillListening(); tries++) {
        await sleep(PLACE_RETRY_MS);
        before = await orch.store.cursorBefore(stored[0]!.id);
      }
      if (!stillListening()) return; // the window was cleared since
      if (before === null) throw new Error('not placed');
      window.add(before, stored);
      bump();
    } catch {
      window.clear();
      bumpUnseen(); // the streams read the store for them
    }
  };
  const committed = (stored: readonly OrchEvent[] | null) => {
    if (stored === null) bumpUnseen();
    else {
      const heardIn = session;
      placing = placing.then(() => place(stored, heardIn));
    }
  };
  // This process's own wake-ups come after its commits, which the feed has heard of already.
  const othersWoke = (wakeup: { origin?: string }) => {
    if (wakeup.origin === undefined || wakeup.origin !== orch.wakeups?.origin) bumpUnseen();
  };
  const watchVersion = () => {
    let seen = othersWrites();
    const timer = setInterval(() => {
      const now = othersWrites();
      if (now === seen) return;
      seen = now;
      bumpUnseen();
    }, options.pollMs);
    timer.unref();
    return timer;
  };
  /** Starts listening unless it is; says whether it was not (what was stored meanwhile is unheard of). */
  const start = (): boolean => {
    if (listening) return false;
    session++;
    window.clear();
    unseen++;
    listening = {
      stopCommits: orch.store.onCommitted(committed),
      wakeups: orch.wakeups ? orch.wakeups.listen(othersWoke) : null,
      watch: watchedByVersion ? watchVersion() : null,
    };
    return true;
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
    get unseen() {
      return unseen;
    },
    window,
    open() {
      start();
    },
    after(seen, maxMs, signal) {
      if (start()) bump(); // it stopped after the caller's read: look again
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
