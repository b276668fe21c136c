import { Hono } from 'hono';
import { requireCredentials } from './auth.js';
import { limitBody } from './body-limit.js';
import { defaultDashboardDir, loadDashboardAssets } from './dashboard-assets.js';
import type { ServerDeps } from './deps.js';
import { respondNotFound, respondToError } from './http-errors.js';
import { boardRoutes } from './routes/board.js';
import { approvalRoutes } from './routes/approvals.js';
import { dashboardRoutes, logoutRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { loginCodeRoutes } from './routes/login-codes.js';
import { metricsRoutes } from './routes/metrics.js';
import { projectRoutes } from './routes/projects.js';
import { runRoutes } from './routes/runs.js';
import { schedulerRoutes } from './routes/scheduler.js';
import { statsRoutes } from './routes/stats.js';
import { taskRoutes } from './routes/tasks.js';
import { webhookRoutes } from './routes/webhooks.js';
import { securityHeaders } from './security-headers.js';
import { LoginCodes, SessionSigner } from './session.js';

export type { ServerDeps, TickStats } from './deps.js';

/**
 * The HTTP face: REST over the engine's use cases, the event log as SSE, Prometheus metrics, and the
 * dashboard. Only /healthz, the login page, the dashboard's stylesheet and the webhooks (which carry
 * their senders' signatures instead) are public; everything else requires the bearer token or a
 * dashboard session cookie. The server sets no CORS headers, so a web page from another origin cannot
 * send the Authorization header at all.
 */
export function createApp(deps: ServerDeps): Hono {
  const now = deps.now ?? deps.orch.now;
  const sessions = new SessionSigner(deps.token, now);
  const logins = deps.logins ?? new LoginCodes(now);
  const assets = loadDashboardAssets(deps.dashboardDir === undefined ? defaultDashboardDir() : deps.dashboardDir);

  const app = new Hono();
  app.onError(respondToError);
  app.notFound(respondNotFound);
  app.use('*', securityHeaders());

  // Registered before the credentials check, and they answer without calling on: the public routes.
  app.route('/', healthRoutes(deps.tickStats, deps.failingChannels));
  // GitHub and Linear cannot send the token; each delivery must carry its sender's signature instead.
  app.route('/', webhookRoutes(deps));
  app.route('/', dashboardRoutes({ token: deps.token, sessions, logins, assets }));

  app.use('*', requireCredentials(deps.token, sessions));
  app.use('*', limitBody());

  app.route('/', loginCodeRoutes(deps.token, logins));
  app.route('/', logoutRoutes(sessions));
  app.route('/', projectRoutes(deps));
  app.route('/', taskRoutes(deps));
  app.route('/', boardRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/', approvalRoutes(deps));
  app.route('/', schedulerRoutes(deps));
  app.route('/', hostRoutes(deps));
  app.route('/', eventRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', statsRoutes(deps));
  return app;
}
