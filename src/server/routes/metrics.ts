import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { EXPOSITION_CONTENT_TYPE, renderMetrics } from '../metrics.js';

/** `GET /metrics` in the Prometheus text format. */
export function metricsRoutes({ orch, tickStats, now = orch.now }: ServerDeps): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await renderMetrics(orch, tickStats(), now()), 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE }));
  return app;
}
