import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';

/** The daemon's own schedule: cron jobs, and a tick on request. */
export function schedulerRoutes({ orch, requestTick }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/jobs', async (c) => c.json(await orch.store.listJobs(c.req.query('project') || undefined)));

  // 202: the tick is asked for, not waited on; its effects arrive on /events.
  app.post('/tick', (c) => {
    requestTick();
    return c.json({ requested: true }, 202);
  });

  return app;
}
