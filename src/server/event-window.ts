import type { OrchEvent } from '../core/types.js';

// The events this process stored last, in the order a resuming reader reads them from the store and
// with nothing missing between them: a subscriber whose cursor is among them takes what follows from
// here instead of reading the store. Each event is serialised once, for every subscriber.

/** Events kept at least (a subscriber further behind reads the store); twice as many at most. */
const KEEP = 1024;

export class EventWindow {
  private events: OrchEvent[] = [];
  /** Each event's JSON, made when a subscriber first needs it. */
  private json: (string | undefined)[] = [];
  /** Index in `events` after which a reader at each cursor continues: an event's id, or the base. */
  private readonly positions = new Map<number, number>();
  private last: number | null = null;

  /** The cursor a reader is at after the last event held (null when nothing is held). */
  get end(): number | null {
    return this.last;
  }

  /** Forgets everything (events may have been stored that it never heard of). */
  clear(): void {
    this.events = [];
    this.json = [];
    this.positions.clear();
    this.last = null;
  }

  /**
   * Adds `events`, which a reader at cursor `before` reads next with nothing between (and which
   * follow each other so): after what it holds when `before` is its end, else in place of it.
   */
  add(before: number, events: readonly OrchEvent[]): void {
    if (events.length === 0) return;
    if (before !== this.last) {
      this.clear();
      this.positions.set(before, -1);
    }
    for (const event of events) {
      this.positions.set(event.id, this.events.length);
      this.events.push(event);
      this.json.push(undefined);
    }
    this.last = events.at(-1)!.id;
    if (this.events.length >= 2 * KEEP) this.dropOldest(this.events.length - KEEP);
  }

  /**
   * The events after `cursor`, or null when it holds no such cursor (the reader reads the store).
   * `serialised(i)` gives the i-th one's JSON.
   */
  after(cursor: number): { events: readonly OrchEvent[]; serialised: (i: number) => string } | null {
    const at = this.positions.get(cursor);
    if (at === undefined) return null;
    const from = at + 1;
    return {
      events: this.events.slice(from),
      serialised: (i) => (this.json[from + i] ??= JSON.stringify(this.events[from + i])),
    };
  }

  private dropOldest(count: number): void {
    for (const [cursor, index] of this.positions) {
      if (index < count - 1) this.positions.delete(cursor);
      else this.positions.set(cursor, index - count);
    }
    this.events = this.events.slice(count);
    this.json = this.json.slice(count);
  }
}
