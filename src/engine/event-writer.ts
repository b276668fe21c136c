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

interface Queued {
  item: TimedEvent;
  stored: () => void;
  failed: (error: Error) => void;
}

/** One process's writer of batched events to one store. */
export class EventWriter {
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The flush in progress: flushes run one after another, so events are stored in the order queued. */
  private flushing: Promise<void> | null = null;

  constructor(private readonly store: Pick<Store, 'appendEvents'>) {}

  /** Queues an event; resolves once it is stored, rejects with the store's error if its batch was not. */
  append(item: TimedEvent): Promise<void> {
    return new Promise<void>((stored, failed) => {
      this.queue.push({ item, stored, failed });
      if (this.queue.length >= FLUSH_AT) this.flushNow();
      else this.timer ??= setTimeout(() => this.flushNow(), FLUSH_AFTER_MS);
    });
  }

  /** True when so much is queued that a producer should wait for `flush()` before adding more. */
  get backedUp(): boolean {
    return this.queue.length >= MAX_QUEUED;
  }

  /** Stores everything queued so far; resolves once it is (whether or not it could be). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      if (!this.flushing) this.flushNow();
      await this.flushing;
    }
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.store
      .appendEvents(batch.map((queued) => queued.item))
      .then(
        () => {
          for (const queued of batch) queued.stored();
        },
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const queued of batch) queued.failed(failure);
        },
      )
      .finally(() => {
        this.flushing = null;
        // What queued meanwhile goes at once: it has waited for this flush already.
        if (this.queue.length > 0) this.flushNow();
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
  private error: Error | null = null;

  constructor(private readonly writer: EventWriter) {}

  /** Queues the event; waits only when the writer is backed up. Throws once an earlier batch failed. */
  async add(item: TimedEvent): Promise<void> {
    if (this.error) throw this.error;
    // Batches are stored in order, so the last event's fate comes after every earlier one's.
    this.last = this.writer.append(item).catch((error: Error) => {
      this.error ??= error;
    });
    if (this.writer.backedUp) await this.last;
  }

  /** Waits until every event added is stored or failed; returns the first failure, if any. */
  async settled(): Promise<Error | null> {
    await this.last;
    return this.error;
  }
}
