import { Hono } from 'hono';
import { listHostViews } from '../../engine/hosts.js';
import type { ServerDeps } from '../deps.js';

/** The daemons sharing the store: each one's state (alive, stale, gone), version, slots and running tasks. */
export function hostRoutes({ orch }: ServerDeps): Hono {
  const app = new Hono();
  app.get('/hosts', async (c) => c.json(await listHostViews(orch)));
  return app;
}
