import { Hono } from 'hono';
import { OrchError } from '../../core/errors.js';
import { MAX_STATS_DAYS, portfolioReport, statsReport } from '../../engine/stats.js';
import type { ServerDeps } from '../deps.js';
import { optionalWholeNumber } from '../validation.js';

const DEFAULT_DAYS = 14;

/** The dashboard's figures as JSON: the portfolio, and costs and health with the daemon's tick figures. */
export function statsRoutes({ orch, tickStats }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/portfolio', async (c) => c.json(await portfolioReport(orch)));

  app.get('/stats', async (c) => {
    const days = optionalWholeNumber(c, 'days') ?? DEFAULT_DAYS;
    if (days > MAX_STATS_DAYS) throw new OrchError('invalid_input', `days: expected at most ${MAX_STATS_DAYS}, got ${days}`);
    const { ticks, lastTickMs, lastTickAt } = tickStats();
    return c.json(await statsReport(orch, days, { ticks, lastTickMs, lastTickAt, intervalS: orch.config.scheduler.tickIntervalS }));
  });

  return app;
}
