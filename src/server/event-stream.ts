// One SSE subscriber: catch up from the store, then take this process's events from the event feed's
// window as they commit (event-feed.ts), and read the store again only when the feed says events may
// have been stored that the window does not hold: by another process sharing the database, such as a
// CLI command run beside the daemon, or another host. The window holds events in the order the store
// gives to a resuming reader, so every subscriber sees them in that order, whoever wrote them.

import type { SSEStreamingApi } from 'hono/streaming';
import { describeFailure } from '../cli/output.js';
import type { OrchEvent } from '../core/types.js';
import type { StoreOps } from '../store/store.js';
import type { EventFeed } from './event-feed.js';

export interface EventSubscription {
  /** Send events with an id above this. */
  afterId: number;
  project?: string;
  taskId?: number;
  /**
   * Send store events without an `event:` line, so a browser's EventSource hands every one to
   * `onmessage` (a named event reaches only a listener for that name); the type is in the data.
   */
  unnamed?: boolean;
}

export interface FollowOptions {
  /** How often to look when the feed is not pushed (events of other processes wake no one). */
  pollMs: number;
  heartbeatMs: number;
  /** Events read per query: a long catch-up goes out in slices rather than one huge read. */
  batchSize?: number;
}

const DEFAULT_BATCH = 500;
/** Looks once more after a wake-up whose read found nothing, up to this many times (see `EventFeed.settleMs`). */
const SETTLE_LOOKS = 10;

/**
 * Writes the subscription's events to `stream` until the client goes away (or the server closes it).
 * Each event goes out as `id: <event id>`, `event: <type>`, `data: <the event as JSON>`, so a browser's
 * EventSource resumes with Last-Event-ID. It starts with a `ready` event carrying the starting cursor
 * as its id: a client that reconnects before any event arrived still resumes from where it began.
 */
export async function followEvents(store: Pick<StoreOps, 'listEvents'>, feed: EventFeed, stream: SSEStreamingApi, subscription: EventSubscription, options: FollowOptions): Promise<void> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const unnamed = subscription.unnamed === true;
  const wanted = (event: OrchEvent) =>
    (subscription.project === undefined || event.project === subscription.project) && (subscription.taskId === undefined || event.taskId === subscription.taskId);
  // Where the subscriber is in the store's order: after the last event it was sent or, taking events
  // from the window, passed over (not its to see). Reading the store after it gives what follows.
  let cursor = subscription.afterId;
  /** The feed's `unseen` when this stream last read the store to its end; -1 before the first read. */
  let readThrough = -1;
  let lastWriteAt = Date.now();
  // One listener for the stream's life: the client leaving (or the server closing) ends the wait at once.
  const gone = new AbortController();
  stream.onAbort(() => gone.abort());
  feed.open();
  try {
    await stream.writeSSE({ event: 'ready', id: String(cursor), data: JSON.stringify({ after: cursor }) });
    let read = true;
    // A wake-up whose read found nothing: on PostgreSQL the events can show a moment later (an older
    // transaction still open), so the stream looks again after `feed.settleMs`, a few times.
    let settling = false;
    /** Looks made since a wake-up whose reads found nothing: a busy database can take a few. */
    let settleLooks = 0;
    while (!stream.aborted) {
      const seen = feed.generation;
      const unseen = feed.unseen;
      const held = read && readThrough === unseen ? feed.window.after(cursor) : null;
      if (held) {
        let frames = '';
        held.events.forEach((event, i) => {
          if (wanted(event)) frames += sseFrame(event, held.serialised(i), unnamed);
        });
        if (held.events.length > 0) cursor = held.events.at(-1)!.id;
        if (frames !== '') {
          await stream.write(frames);
          lastWriteAt = Date.now();
        }
        settling = false;
        settleLooks = 0;
      } else if (read) {
        const events = await store.listEvents({ afterId: cursor, project: subscription.project, taskId: subscription.taskId, limit: batchSize });
        if (stream.aborted) return;
        if (events.length > 0) {
          // One write for all of them: a write per event cost more than the rest of the stream.
          await stream.write(events.map((event) => sseFrame(event, JSON.stringify(event), unnamed)).join(''));
          cursor = events.at(-1)!.id;
          lastWriteAt = Date.now();
        }
        if (events.length === batchSize) continue; // still catching up
        // The first read was woken by no one: nothing to wait for.
        settleLooks = events.length === 0 && (settling || readThrough !== unseen) ? settleLooks + 1 : 0;
        settling = feed.settleMs > 0 && readThrough !== -1 && settleLooks > 0 && settleLooks <= SETTLE_LOOKS;
        readThrough = unseen;
      }
      // A comment line now and then keeps proxies and idle timeouts from cutting a quiet stream.
      if (Date.now() - lastWriteAt >= options.heartbeatMs) {
        await stream.write(': heartbeat\n\n');
        lastWriteAt = Date.now();
      }
      const waitMs = settling ? feed.settleMs : feed.pushed ? options.heartbeatMs : options.pollMs;
      const woken = await feed.after(seen, waitMs, gone.signal);
      // Pushed, a wait that ran out is only the heartbeat's: nothing new was stored. Not pushed, the
      // store is read each time: other processes' events wake no one.
      read = woken || settling || !feed.pushed;
      if (!woken && !feed.pushed) readThrough = -1;
    }
  } catch (error) {
    if (stream.aborted) return; // the store or socket went away with the client: nothing to tell
    await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: describeFailure(error) }) });
  }
}

/** An event (and its JSON) as an SSE frame, as `writeSSE` writes it: `event:` (unless unnamed), `data:`, `id:`. */
function sseFrame(event: OrchEvent, json: string, unnamed: boolean): string {
  // JSON escapes every line break, so the data is one `data:` line; a type is one line by construction.
  const name = unnamed ? '' : `event: ${event.type.replace(/[\r\n]/g, ' ')}\n`;
  return `${name}data: ${json}\nid: ${event.id}\n\n`;
}
