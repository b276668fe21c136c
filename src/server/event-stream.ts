// One SSE subscriber: catch up from the store, then poll it for what comes next. Polling the store
// (rather than listening in-process) sees events written by any process sharing the database, such
// as a CLI command run beside the daemon.

import type { SSEStreamingApi } from 'hono/streaming';
import { describeFailure } from '../cli/output.js';
import type { StoreOps } from '../store/store.js';

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
  pollMs: number;
  heartbeatMs: number;
  /** Events read per query: a long catch-up goes out in slices rather than one huge read. */
  batchSize?: number;
}

const DEFAULT_BATCH = 500;

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', wake);
      resolve();
    }, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}

/**
 * Writes the subscription's events to `stream` until the client goes away (or the server closes it).
 * Each event goes out as `id: <event id>`, `event: <type>`, `data: <the event as JSON>`, so a browser's
 * EventSource resumes with Last-Event-ID. It starts with a `ready` event carrying the starting cursor
 * as its id: a client that reconnects before any event arrived still resumes from where it began.
 */
export async function followEvents(store: Pick<StoreOps, 'listEvents'>, stream: SSEStreamingApi, subscription: EventSubscription, options: FollowOptions): Promise<void> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  let afterId = subscription.afterId;
  let lastWriteAt = Date.now();
  // One listener for the stream's life: the client leaving (or the server closing) ends the wait at once.
  const gone = new AbortController();
  stream.onAbort(() => gone.abort());
  try {
    await stream.writeSSE({ event: 'ready', id: String(afterId), data: JSON.stringify({ after: afterId }) });
    while (!stream.aborted) {
      const events = await store.listEvents({ afterId, project: subscription.project, taskId: subscription.taskId, limit: batchSize });
      for (const event of events) {
        if (stream.aborted) return;
        await stream.writeSSE({ id: String(event.id), ...(subscription.unnamed ? {} : { event: event.type }), data: JSON.stringify(event) });
        afterId = event.id;
        lastWriteAt = Date.now();
      }
      if (events.length === batchSize) continue; // still catching up
      // A comment line now and then keeps proxies and idle timeouts from cutting a quiet stream.
      if (Date.now() - lastWriteAt >= options.heartbeatMs) {
        await stream.write(': heartbeat\n\n');
        lastWriteAt = Date.now();
      }
      await pause(options.pollMs, gone.signal);
    }
  } catch (error) {
    if (stream.aborted) return; // the store or socket went away with the client: nothing to tell
    await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: describeFailure(error) }) });
  }
}
