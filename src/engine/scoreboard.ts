import type { ProjectConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { routingWeights } from '../core/routing.js';
import { buildScoreboard, smoothedSuccessRates, type Scoreboard } from '../core/scoreboard.js';
import type { EpochMs } from '../core/types.js';
import type { StoreOps } from '../store/store.js';

const DAY_MS = 86_400_000;

/** How far back the round robin looks when it weighs agents by their success rate. */
export const SCOREBOARD_WINDOW_DAYS = 30;

export interface ScoreboardQuery {
  project?: string;
  /** Only runs started in the last this many days; absent: all runs. */
  sinceDays?: number;
}

export interface ScoreboardReport extends Scoreboard {
  project: string | null;
  sinceDays: number | null;
  /** The earliest start time counted (epoch ms), or null for all runs. */
  since: EpochMs | null;
}

/** Success rate, cost and duration per agent, model and role over the runs the query selects (`orch agents stats`). */
export async function scoreboardReport(store: Pick<StoreOps, 'runStats' | 'getProject'>, query: ScoreboardQuery, now: EpochMs): Promise<ScoreboardReport> {
  if (query.project !== undefined && !(await store.getProject(query.project))) throw new OrchError('not_found', `project "${query.project}" not found`);
  const since = query.sinceDays === undefined ? null : now - query.sinceDays * DAY_MS;
  const rows = await store.runStats({ project: query.project, startedAfter: since ?? undefined });
  return { ...buildScoreboard(rows), project: query.project ?? null, sinceDays: query.sinceDays ?? null, since };
}

/**
 * A project's round-robin weights: the configured ones, times each agent's smoothed success rate in
 * the project over the last SCOREBOARD_WINDOW_DAYS when `routing.use_scoreboard` is on.
 */
export async function routingWeightsFor(store: Pick<StoreOps, 'runStats'>, project: ProjectConfig, now: EpochMs): Promise<Record<string, number>> {
  const { weights, useScoreboard } = project.routing;
  if (!useScoreboard) return routingWeights(project.agents, weights);
  const rows = await store.runStats({ project: project.name, startedAfter: now - SCOREBOARD_WINDOW_DAYS * DAY_MS });
  return routingWeights(project.agents, weights, smoothedSuccessRates(rows));
}

/** Tasks routed to each agent so far, per project: the round robin's memory. */
export async function roundRobinTallies(store: Pick<StoreOps, 'countTasksByAgent'>, project?: string): Promise<Map<string, Record<string, number>>> {
  const tallies = new Map<string, Record<string, number>>();
  for (const row of await store.countTasksByAgent(project)) {
    let tally = tallies.get(row.project);
    if (!tally) tallies.set(row.project, (tally = {}));
    tally[row.agent] = row.tasks;
  }
  return tallies;
}
