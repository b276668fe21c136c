import { Hono } from 'hono';
import { orchVersion } from '../../cli/orch-version.js';
import type { TickStats } from '../deps.js';

/**
 * Liveness for supervisors and load balancers; public, so it says little: that Orch answers, whether
 * it starts new work or is held back by a full disk (`storage: "full"`, `dispatching: false`;
 * /metrics says since when and why), and whether its notifications get through (`notifications:
 * "failing"` while a channel's last send failed; `orch doctor` says which and why).
 */
export function healthRoutes(tickStats: () => TickStats, failingChannels?: () => string[]): Hono {
  const app = new Hono();
  const version = orchVersion();
  app.get('/healthz', (c) => {
    const full = (tickStats().storageFull ?? null) !== null;
    const notifications = failingChannels ? { notifications: failingChannels().length > 0 ? 'failing' : 'ok' } : {};
    return c.json({ ok: true, version, storage: full ? 'full' : 'ok', dispatching: !full, ...notifications });
  });
  return app;
}
