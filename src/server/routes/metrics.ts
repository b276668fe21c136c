import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { collectMetrics } from '../metrics.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from '../prometheus.js';

/** `GET /metrics` in the Prometheus text format. */
export function metricsRoutes({ orch, tickStats, now = orch.now }: ServerDeps): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const families = await collectMetrics(orch, tickStats(), now());
    return c.body(renderExposition(families), 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE });
  });
  return app;
}
