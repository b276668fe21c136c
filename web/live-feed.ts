// The daemon's event log, live, over one EventSource (`GET /events?unnamed=1`, with the session
// cookie). EventSource reconnects by itself and resumes with Last-Event-ID; when the browser gives up
// (the daemon answered with an error rather than not at all) we open a new one from the last id seen.

import { connection } from './connection.js';
import type { OrchEvent } from './types.js';

type Listener = (event: OrchEvent) => void;

/** An outage shorter than this (a reconnect) is no news; longer, and the page says so. */
const DOWN_AFTER_MS = 3000;
const REOPEN_MS = 3000;

export class LiveFeed {
  private source: EventSource | null = null;
  private readonly listeners = new Set<Listener>();
  private lastId: number | null;
  private downTimer: ReturnType<typeof setTimeout> | null = null;
  private reopenTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  /**
   * @param query what to follow (`task=3`); `after` replays the log from that id (0: all of it),
   *   else the feed starts at the newest event.
   * @param reportsConnection whether this feed's health is the page's (one feed speaks for it).
   */
  constructor(
    private readonly query: Record<string, string>,
    after: number | null,
    private readonly reportsConnection: boolean,
  ) {
    this.lastId = after;
    this.open();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.source?.close();
    this.clearTimers();
  }

  private open(): void {
    const params = new URLSearchParams({ ...this.query, unnamed: '1' });
    if (this.lastId !== null) params.set('after', String(this.lastId));
    const source = new EventSource(`/events?${params.toString()}`, { withCredentials: true });
    this.source = source;
    source.addEventListener('ready', (message) => {
      this.remember(message as MessageEvent<string>);
      this.up();
    });
    source.onmessage = (message: MessageEvent<string>) => {
      this.remember(message);
      this.up();
      const event = JSON.parse(message.data) as OrchEvent;
      for (const listener of this.listeners) listener(event);
    };
    source.onerror = () => {
      if (this.closed) return;
      this.downTimer ??= setTimeout(() => {
        if (this.reportsConnection) connection.unreachable();
      }, DOWN_AFTER_MS);
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.reopenTimer ??= setTimeout(() => {
          this.reopenTimer = null;
          if (!this.closed) this.open();
        }, REOPEN_MS);
      }
    };
  }

  private remember(message: MessageEvent<string>): void {
    const id = Number(message.lastEventId);
    if (message.lastEventId !== '' && Number.isFinite(id)) this.lastId = id;
  }

  private up(): void {
    if (this.downTimer !== null) clearTimeout(this.downTimer);
    this.downTimer = null;
    if (this.reportsConnection) connection.reachable();
  }

  private clearTimers(): void {
    if (this.downTimer !== null) clearTimeout(this.downTimer);
    if (this.reopenTimer !== null) clearTimeout(this.reopenTimer);
    this.downTimer = this.reopenTimer = null;
  }
}

/** The page-wide feed every view listens to: from now on, for all projects. */
let pageFeed: LiveFeed | null = null;
export function liveFeed(): LiveFeed {
  return (pageFeed ??= new LiveFeed({}, null, true));
}
