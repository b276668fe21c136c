import { Hono } from 'hono';
import { orchVersion } from '../../cli/orch-version.js';

/** Liveness for supervisors and load balancers; public, so it says nothing but that Orch answers. */
export function healthRoutes(): Hono {
  const app = new Hono();
  const version = orchVersion();
  app.get('/healthz', (c) => c.json({ ok: true, version }));
  return app;
}
