// The scoreboard: how each agent, model and role has done — success rate, cost and duration — from
// the store's per-group run totals. Also the smoothed success rates the round robin can weigh by.

import type { Role } from './types.js';

/** Totals of the ended runs of one project, agent, model and task role (what the store aggregates). */
export interface RunStatsRow {
  project: string;
  agent: string;
  model: string | null;
  role: Role;
  runs: number;
  /** Runs that ended `succeeded` and that no later step (judge, merge) found wanting. */
  succeeded: number;
  /** Runs a person cancelled, Orch's crash interrupted or a rate limit stopped: no verdict on the agent. */
  interrupted: number;
  costUsd: number;
  durationMs: number;
  tokensIn: number;
  tokensOut: number;
}

export interface ScoreLine {
  key: string;
  runs: number;
  succeeded: number;
  /** Runs that count for the success rate: all but the interrupted ones. */
  judged: number;
  /** succeeded / judged; null when no run counts. */
  successRate: number | null;
  costUsd: number;
  avgCostUsd: number;
  avgDurationMs: number;
  tokensIn: number;
  tokensOut: number;
}

export interface Scoreboard {
  byAgent: ScoreLine[];
  byModel: ScoreLine[];
  byRole: ScoreLine[];
  total: ScoreLine;
}

/** Runs started without a model of their own used whatever their CLI defaults to: one bucket for those. */
export const DEFAULT_MODEL_KEY = '(agent default)';

interface Sums {
  runs: number;
  succeeded: number;
  interrupted: number;
  costUsd: number;
  durationMs: number;
  tokensIn: number;
  tokensOut: number;
}

const emptySums = (): Sums => ({ runs: 0, succeeded: 0, interrupted: 0, costUsd: 0, durationMs: 0, tokensIn: 0, tokensOut: 0 });

function add(sums: Sums, row: RunStatsRow): void {
  sums.runs += row.runs;
  sums.succeeded += row.succeeded;
  sums.interrupted += row.interrupted;
  sums.costUsd += row.costUsd;
  sums.durationMs += row.durationMs;
  sums.tokensIn += row.tokensIn;
  sums.tokensOut += row.tokensOut;
}

function line(key: string, sums: Sums): ScoreLine {
  const judged = sums.runs - sums.interrupted;
  return {
    key,
    runs: sums.runs,
    succeeded: sums.succeeded,
    judged,
    successRate: judged > 0 ? sums.succeeded / judged : null,
    costUsd: sums.costUsd,
    avgCostUsd: sums.runs > 0 ? sums.costUsd / sums.runs : 0,
    avgDurationMs: sums.runs > 0 ? sums.durationMs / sums.runs : 0,
    tokensIn: sums.tokensIn,
    tokensOut: sums.tokensOut,
  };
}

function group(rows: readonly RunStatsRow[], keyOf: (row: RunStatsRow) => string): ScoreLine[] {
  const groups = new Map<string, Sums>();
  for (const row of rows) {
    const key = keyOf(row);
    let sums = groups.get(key);
    if (!sums) groups.set(key, (sums = emptySums()));
    add(sums, row);
  }
  // Most runs first, then by name, so the table reads the same every time.
  return [...groups].map(([key, sums]) => line(key, sums)).sort((a, b) => b.runs - a.runs || a.key.localeCompare(b.key));
}

/** The scoreboard of the given rows, by agent, by model and by role, with the total. */
export function buildScoreboard(rows: readonly RunStatsRow[]): Scoreboard {
  const total = emptySums();
  for (const row of rows) add(total, row);
  return {
    byAgent: group(rows, (r) => r.agent),
    byModel: group(rows, (r) => r.model ?? DEFAULT_MODEL_KEY),
    byRole: group(rows, (r) => r.role),
    total: line('total', total),
  };
}

/** The success rate assumed of an agent with no judged run: neither favoured nor shunned. */
export const PRIOR_SUCCESS_RATE = 0.5;

/**
 * Each agent's success rate, smoothed as (succeeded + 1) / (judged + 2): an agent with no record counts
 * as 50 %, and a few runs move it only so far — weights from it never drop to zero.
 */
export function smoothedSuccessRates(rows: readonly RunStatsRow[]): Map<string, number> {
  const rates = new Map<string, number>();
  for (const score of group(rows, (r) => r.agent)) rates.set(score.key, (score.succeeded + 1) / (score.judged + 2));
  return rates;
}
