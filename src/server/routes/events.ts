import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ServerDeps } from '../deps.js';
import { eventFeed } from '../event-feed.js';
import { followEvents } from '../event-stream.js';
import { optionalFlag, optionalWholeNumber, wholeNumber } from '../validation.js';

const POLL_MS = 200;
const HEARTBEAT_MS = 15_000;

/**
 * Where a subscriber starts: after `Last-Event-ID` (a browser reconnecting), else after `?after=`,
 * else at the newest event, so a plain connect sees only what happens from now on (`?after=0` replays
 * the whole log).
 */
async function startingCursor(c: Context, deps: ServerDeps): Promise<number> {
  const lastEventId = c.req.header('Last-Event-ID');
  if (lastEventId !== undefined && lastEventId.trim() !== '') return wholeNumber(lastEventId.trim(), 'Last-Event-ID', 0);
  return optionalWholeNumber(c, 'after', 0) ?? (await deps.orch.store.latestEventId());
}

/** `GET /events`: the event log as Server-Sent Events, optionally for one project or task. */
export function eventRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const pollMs = deps.events?.pollMs ?? POLL_MS;
  const feed = eventFeed(deps.orch, { pollMs });
  app.get('/events', async (c) => {
    // Everything is checked before the stream opens, so a bad parameter is an ordinary JSON 400.
    const subscription = {
      afterId: await startingCursor(c, deps),
      project: c.req.query('project') || undefined,
      taskId: optionalWholeNumber(c, 'task'),
      unnamed: optionalFlag(c, 'unnamed'),
    };
    const options = { pollMs, heartbeatMs: deps.events?.heartbeatMs ?? HEARTBEAT_MS };
    c.header('X-Accel-Buffering', 'no'); // nginx would otherwise hold events back in its buffer
    return streamSSE(c, (stream) => followEvents(deps.orch.store, feed, stream, subscription, options));
  });
  return app;
}
