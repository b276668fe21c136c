import { Hono } from 'hono';
import { requireBearerToken } from './auth.js';
import { limitBody } from './body-limit.js';
import type { ServerDeps } from './deps.js';
import { respondNotFound, respondToError } from './http-errors.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { projectRoutes } from './routes/projects.js';
import { runRoutes } from './routes/runs.js';
import { schedulerRoutes } from './routes/scheduler.js';
import { taskRoutes } from './routes/tasks.js';
import { webhookRoutes } from './routes/webhooks.js';

export type { ServerDeps, TickStats } from './deps.js';

/**
 * The HTTP face: REST over the engine's use cases, the event log as SSE, and Prometheus metrics. Only
 * /healthz and the webhooks (which carry their senders' signatures instead) go without the bearer token.
 * The server sets no CORS headers, so a web page from another origin cannot send the Authorization
 * header at all.
 */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  app.onError(respondToError);
  app.notFound(respondNotFound);

  // Registered before the token check, and it answers without calling on: the one public route.
  app.route('/', healthRoutes());
  // GitHub and Linear cannot send the token; each delivery must carry its sender's signature instead.
  app.route('/', webhookRoutes(deps));

  app.use('*', requireBearerToken(deps.token));
  app.use('*', limitBody());

  app.route('/', projectRoutes(deps));
  app.route('/', taskRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/', schedulerRoutes(deps));
  app.route('/', eventRoutes(deps));
  app.route('/', metricsRoutes(deps));
  return app;
}
