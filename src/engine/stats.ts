// The figures the dashboard's portfolio and costs views show, read from the store on each request.

import {
  agentStats,
  durationHistogram,
  endedRunDurations,
  groupRuns,
  modelStats,
  spendByDay,
  summarizeProject,
  type PortfolioReport,
  type StatsReport,
  type TickFigures,
} from '../core/run-stats.js';
import type { EpochMs, Run } from '../core/types.js';
import type { Orch } from './context.js';
import { heldDelivery } from './delivery.js';
import { startOfDayUtc } from './tick-input.js';

const DAY_MS = 24 * 60 * 60_000;
/** The portfolio's success rates look back this far: long enough to mean something, short enough to be news. */
export const SUCCESS_WINDOW_DAYS = 7;
export const MAX_STATS_DAYS = 366;

/** `YYYY-MM-DD` of the UTC day `at` falls in, the day the daily budget counts. */
const utcDay = (at: EpochMs) => new Date(at).toISOString().slice(0, 10);

/** Every project with its task counts, spend today, recent success rate and held delivery. */
export async function portfolioReport(orch: Orch): Promise<PortfolioReport> {
  const now = orch.now();
  const today = startOfDayUtc(now);
  const recent = await orch.store.listRuns({ startedAfter: today - (SUCCESS_WINDOW_DAYS - 1) * DAY_MS });
  const recentByProject = groupRuns(recent, (run) => run.project);
  const projects = [];
  for (const project of await orch.store.listProjects()) {
    const runs = recentByProject.get(project.name) ?? [];
    const counts = await orch.store.countTasksByState(project.name);
    projects.push({ ...summarizeProject(project, counts, runs.filter((run) => run.startedAt >= today), runs), delivery: await heldDelivery(orch, project.name) });
  }
  return {
    successWindowDays: SUCCESS_WINDOW_DAYS,
    spentTodayUsd: projects.reduce((sum, project) => sum + project.spentTodayUsd, 0),
    projects,
  };
}

/**
 * Spend per day and agent, success per agent and model and run durations over the last `days` UTC
 * days (today included), with what is queued and running now. The daemon adds its tick figures.
 */
export async function statsReport(orch: Orch, days: number, tick: TickFigures): Promise<StatsReport> {
  const now = orch.now();
  const since = startOfDayUtc(now) - (days - 1) * DAY_MS;
  const runs: Run[] = await orch.store.listRuns({ startedAfter: since });
  const dayKeys = Array.from({ length: days }, (_, i) => utcDay(since + i * DAY_MS));
  const queue = [];
  for (const project of await orch.store.listProjects()) {
    const summary = summarizeProject(project, await orch.store.countTasksByState(project.name), [], []);
    queue.push({ project: project.name, paused: project.paused, queued: summary.queued, running: summary.running });
  }
  const claims = await orch.store.listClaims();
  return {
    since,
    days,
    totalCostUsd: runs.reduce((sum, run) => sum + run.costUsd, 0),
    spendByDay: spendByDay(runs, dayKeys, (run) => utcDay(run.startedAt)),
    agents: agentStats(runs),
    models: modelStats(runs),
    durationHistogram: durationHistogram(endedRunDurations(runs)),
    queue,
    runningRuns: (await orch.store.listRuns({ open: true })).length,
    claims: { held: claims.length, expired: claims.filter((claim) => claim.leaseUntil < now).length },
    tick,
  };
}
