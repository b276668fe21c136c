import { Hono } from 'hono';
import { orchVersion } from '../../cli/orch-version.js';
import type { TickStats } from '../deps.js';

/**
 * Liveness for supervisors and load balancers; public, so it says little: that Orch answers, and
 * whether it starts new work or is held back by a full disk (`storage: "full"`, `dispatching: false`;
 * /metrics says since when and why).
 */
export function healthRoutes(tickStats: () => TickStats): Hono {
  const app = new Hono();
  const version = orchVersion();
  app.get('/healthz', (c) => {
    const full = (tickStats().storageFull ?? null) !== null;
    return c.json({ ok: true, version, storage: full ? 'full' : 'ok', dispatching: !full });
  });
  return app;
}
