import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireBearerToken } from './auth.js';
import type { ServerDeps } from './deps.js';
import { errorResponse, respondNotFound, respondToError } from './http-errors.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { projectRoutes } from './routes/projects.js';
import { runRoutes } from './routes/runs.js';
import { schedulerRoutes } from './routes/scheduler.js';
import { taskRoutes } from './routes/tasks.js';

export type { ServerDeps, TickStats } from './deps.js';

/** No request Orch accepts comes anywhere near this; it bounds what one request can make us hold. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The HTTP face: REST over the engine's use cases, the event log as SSE, and Prometheus metrics. Only
 * /healthz is public; everything else requires the bearer token. The server sets no CORS headers, so a
 * web page from another origin cannot send the Authorization header at all.
 */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  app.onError(respondToError);
  app.notFound(respondNotFound);

  // Registered before the token check, and it answers without calling on: the one public route.
  app.route('/', healthRoutes());

  app.use('*', requireBearerToken(deps.token));
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => errorResponse(c, 'invalid_input', `request body: larger than ${MAX_BODY_BYTES} bytes`, 413) }));

  app.route('/', projectRoutes(deps));
  app.route('/', taskRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/', schedulerRoutes(deps));
  app.route('/', eventRoutes(deps));
  app.route('/', metricsRoutes(deps));
  return app;
}
