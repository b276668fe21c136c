import type { Store, TimedEvent } from '../store/store.js';

// Agent output arrives a line at a time, from many runs at once: a transaction per line made the
// database's commit the daemon's main work. Every run of a process queues its agent events with one
// writer per store, which appends what has gathered in one transaction every few milliseconds (or at
// once when many are waiting). A run waits for its events to be stored before anything that follows
// them is written (its end, its denials), so a run's events keep their order and none is left behind.

/** How long the first queued event waits for others to join its transaction. */
const FLUSH_AFTER_MS = 20;
/** Queued events that are flushed without waiting out FLUSH_AFTER_MS. */
const FLUSH_AT = 500;
/** Queued events past which a run waits for the flush before it reads more of its agent's output. */
const MAX_QUEUED = 10_000;

/** The events waiting for one transaction, and its outcome, shared by all of them. */
interface Batch {
  items: TimedEvent[];
  /** When its first event was queued (performance.now()). */
  since: number;
  /** Resolves once they are stored; rejects with the store's error if they were not. */
  stored: Promise<void>;
  settle: (error: Error | null) => void;
}

function newBatch(): Batch {
  let settle!: (error: Error | null) => void;
  const stored = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  // Only a run that waits for it hears of a failure; the batch itself must not count as unhandled.
  stored.catch(() => undefined);
  return { items: [], since: 0, stored, settle };
}

/** One process's writer of batched events to one store. */
export class EventWriter {
  private queue: Batch = newBatch();
  private timer: NodeJS.Timeout | null = null;
  /** The flush in progress: flushes run one after another, so events are stored in the order queued. */
  private flushing: Promise<void> | null = null;

  constructor(private readonly store: Pick<Store, 'appendEvents'>) {}

  /**
   * Queues an event; the promise returned (the same for every event of its batch) resolves once it is
   * stored and rejects with the store's error if its batch was not.
   */
  append(item: TimedEvent): Promise<void> {
    const batch = this.queue;
    if (batch.items.push(item) === 1) batch.since = performance.now();
    if (batch.items.length >= FLUSH_AT) this.flushNow();
    else this.timer ??= setTimeout(() => this.flushNow(), FLUSH_AFTER_MS);
    return batch.stored;
  }

  /** True when so much is queued that a producer should wait for `flush()` before adding more. */
  get backedUp(): boolean {
    return this.queue.items.length >= MAX_QUEUED;
  }

  /** Stores everything queued so far; resolves once it is (whether or not it could be). */
  async flush(): Promise<void> {
    while (this.queue.items.length > 0 || this.flushing) {
      if (!this.flushing) this.flushNow();
      await this.flushing;
    }
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing || this.queue.items.length === 0) return;
    const batch = this.queue;
    this.queue = newBatch();
    this.flushing = this.store
      .appendEvents(batch.items)
      .then(
        () => batch.settle(null),
        (error: unknown) => batch.settle(error instanceof Error ? error : new Error(String(error))),
      )
      .finally(() => {
        this.flushing = null;
        // What queued meanwhile goes once its first event has waited FLUSH_AFTER_MS, not at once: a
        // busy daemon flushing back to back made a transaction (and its pages written) of every few lines.
        const { items, since } = this.queue;
        if (items.length === 0) return;
        const waitMs = FLUSH_AFTER_MS - (performance.now() - since);
        if (waitMs <= 0 || items.length >= FLUSH_AT) this.flushNow();
        else this.timer ??= setTimeout(() => this.flushNow(), waitMs);
      });
  }
}

const writers = new WeakMap<object, EventWriter>();

/** The writer of this process for `store`, made on first use. */
export function eventWriterOf(store: Pick<Store, 'appendEvents'>): EventWriter {
  let writer = writers.get(store);
  if (!writer) {
    writer = new EventWriter(store);
    writers.set(store, writer);
  }
  return writer;
}

/** Stores what this process's writer for `store` still holds (before a shutdown closes it). */
export async function flushEvents(store: Pick<Store, 'appendEvents'>): Promise<void> {
  await writers.get(store)?.flush();
}

/**
 * The events of one run, queued with the process's writer. A failed batch is the run's storage error,
 * as a failed single write was: `add` throws it from then on, and `settled` returns it.
 */
export class RunEvents {
  private last: Promise<void> = Promise.resolve();
  private lastBatch: Promise<void> | null = null;
  private error: Error | null = null;

  constructor(private readonly writer: EventWriter) {}

  /**
   * Queues the event. Returns a promise to wait for only when the writer is backed up (nothing to wait
   * for otherwise: no promise per event). Throws once an earlier batch failed.
   */
  add(item: TimedEvent): Promise<void> | undefined {
    if (this.error) throw this.error;
    // Batches are stored in order, so the last batch's fate comes after every earlier one's.
    const batch = this.writer.append(item);
    if (batch !== this.lastBatch) {
      this.lastBatch = batch;
      this.last = batch.catch((error: Error) => {
        this.error ??= error;
      });
    }
    return this.writer.backedUp ? this.last : undefined;
  }

  /** Waits until every event added is stored or failed; returns the first failure, if any. */
  async settled(): Promise<Error | null> {
    await this.last;
    return this.error;
  }
}
