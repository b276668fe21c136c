// The portfolio's tools: status (projects, task counts, running agents) and costs, the figures of
// `orch status` and `orch cost`.

import { z } from 'zod';
import { COST_DIMENSIONS, costReport, parseDay } from '../engine/cost.js';
import { portfolioStatus } from '../engine/portfolio-status.js';
import { startOfDayUtc } from '../engine/tick-input.js';
import { orchVersion } from '../cli/orch-version.js';
import { defineTool, type OrchTool } from './tool-kit.js';

const status = defineTool({
  name: 'status',
  title: 'Orch status',
  description: 'The portfolio at a glance: each project (active, paused or unconfigured) with its tasks by state, agents running of the slots, and claims.',
  effect: 'reads',
  input: {},
  async run(ctx) {
    const portfolio = await ctx.withOrch(portfolioStatus);
    const paused = portfolio.projects.filter((p) => p.paused).length;
    return {
      summary: `${portfolio.projects.length} project(s)${paused ? ` (${paused} paused)` : ''}; agents running ${portfolio.slots.running} of ${portfolio.slots.max} slots; ${portfolio.claims} claim(s).`,
      data: { version: orchVersion(), ...portfolio },
    };
  },
});

const costs = defineTool({
  name: 'costs',
  title: 'Costs',
  description: 'Spend and tokens of agent runs, grouped by project (or agent, day, model): today by default, as the daily budgets count (UTC days).',
  effect: 'reads',
  input: {
    since: z.string().optional().describe('"today" (default), "all", or a UTC day YYYY-MM-DD: only runs started then or later'),
    by: z.enum(COST_DIMENSIONS, { error: `expected one of ${COST_DIMENSIONS.join(', ')}` }).optional().describe('group by (default project)'),
    project: z.string().optional().describe('only this project'),
  },
  async run(ctx, args) {
    const period = args.since?.trim() || 'today';
    return ctx.withOrch(async (orch) => {
      const since = period === 'all' ? undefined : period === 'today' ? startOfDayUtc(orch.now()) : parseDay(period);
      const report = await costReport(orch.store, { by: args.by ?? 'project', since, project: args.project });
      const scope = `${period === 'all' ? 'in all' : period === 'today' ? 'today' : `since ${period}`}${args.project ? ` in ${args.project}` : ''}`;
      return {
        summary: `$${report.total.costUsd.toFixed(2)} over ${report.total.runs} run(s) ${scope}.`,
        data: { ...report, since: period, project: args.project ?? null },
      };
    });
  },
});

export const PORTFOLIO_TOOLS: readonly OrchTool[] = [status, costs];
