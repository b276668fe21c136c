// One SSE subscriber: catch up from the store, then read it again each time the event feed says events
// may have been stored (event-feed.ts): by any process sharing the database, such as a CLI command run
// beside the daemon, or another host. Events are always read from the store, so every subscriber sees
// them in the order the store gives to a resuming reader, whoever wrote them.

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

/**
 * Writes the subscription's events to `stream` until the client goes away (or the server closes it).
 * Each event goes out as `id: <event id>`, `event: <type>`, `data: <the event as JSON>`, so a browser's
 * EventSource resumes with Last-Event-ID. It starts with a `ready` event carrying the starting cursor
 * as its id: a client that reconnects before any event arrived still resumes from where it began.
 */
export async function followEvents(store: Pick<StoreOps, 'listEvents'>, feed: EventFeed, stream: SSEStreamingApi, subscription: EventSubscription, options: FollowOptions): Promise<void> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  let afterId = subscription.afterId;
  let lastWriteAt = Date.now();
  // One listener for the stream's life: the client leaving (or the server closing) ends the wait at once.
  const gone = new AbortController();
  stream.onAbort(() => gone.abort());
  try {
    await stream.writeSSE({ event: 'ready', id: String(afterId), data: JSON.stringify({ after: afterId }) });
    let read = true;
    // A wake-up whose read found nothing: on PostgreSQL the events can show a moment later (an older
    // transaction still open), so the stream looks once more after `feed.settleMs`.
    let settling = false;
    while (!stream.aborted) {
      const seen = feed.generation;
      if (read) {
        const events = await store.listEvents({ afterId, project: subscription.project, taskId: subscription.taskId, limit: batchSize });
        if (stream.aborted) return;
        if (events.length > 0) {
          // One write for all of them: a write per event cost more than the rest of the stream.
          await stream.write(events.map((event) => sseFrame(event, subscription.unnamed === true)).join(''));
          afterId = events.at(-1)!.id;
          lastWriteAt = Date.now();
        }
        if (events.length === batchSize) continue; // still catching up
        settling = feed.settleMs > 0 && events.length === 0 && !settling;
      }
      // A comment line now and then keeps proxies and idle timeouts from cutting a quiet stream.
      if (Date.now() - lastWriteAt >= options.heartbeatMs) {
        await stream.write(': heartbeat\n\n');
        lastWriteAt = Date.now();
      }
      const waitMs = settling ? feed.settleMs : feed.pushed ? options.heartbeatMs : options.pollMs;
      const woken = await feed.after(seen, waitMs, gone.signal);
      // Pushed, a wait that ran out is only the heartbeat's: nothing new was stored.
      read = woken || settling || !feed.pushed;
    }
  } catch (error) {
    if (stream.aborted) return; // the store or socket went away with the client: nothing to tell
    await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: describeFailure(error) }) });
  }
}

/** An event as an SSE frame, as `writeSSE` writes it: `event:` (unless unnamed), `data:`, `id:`. */
function sseFrame(event: OrchEvent, unnamed: boolean): string {
  // JSON escapes every line break, so the data is one `data:` line; a type is one line by construction.
  const name = unnamed ? '' : `event: ${event.type.replace(/[\r\n]/g, ' ')}\n`;
  return `${name}data: ${JSON.stringify(event)}\nid: ${event.id}\n\n`;
}
