import type { ModelPrice } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import type { EpochMs, Run } from '../core/types.js';
import { foldUsage, priceRun, type UsageEvent } from '../core/usage.js';
import type { StoreOps } from '../store/store.js';

/** What spend can be grouped by. `day` is the UTC day a run started, like the daily budget's. */
export const COST_DIMENSIONS = ['project', 'agent', 'day', 'model'] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

export interface CostTotals {
  runs: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
}

export interface CostRow extends CostTotals {
  key: string;
}

export interface CostReport {
  by: CostDimension;
  /** Most expensive first. */
  rows: CostRow[];
  total: CostTotals;
}

/** Runs started without a model of their own used whatever their CLI defaults to: one bucket for those. */
export const DEFAULT_MODEL_KEY = '(agent default)';

const keyOf: Record<CostDimension, (run: Run) => string> = {
  project: (run) => run.project,
  agent: (run) => run.agent,
  day: (run) => new Date(run.startedAt).toISOString().slice(0, 10),
  model: (run) => run.model ?? DEFAULT_MODEL_KEY,
};

const emptyTotals = (): CostTotals => ({ runs: 0, costUsd: 0, tokensIn: 0, tokensOut: 0 });

function add(totals: CostTotals, run: Run): void {
  totals.runs += 1;
  totals.costUsd += run.costUsd;
  totals.tokensIn += run.tokensIn;
  totals.tokensOut += run.tokensOut;
}

/** Groups runs by one dimension: rows sorted by cost (then key, so ties read the same every time), and the total. */
export function aggregateCost(runs: readonly Run[], by: CostDimension): CostReport {
  const groups = new Map<string, CostRow>();
  const total = emptyTotals();
  for (const run of runs) {
    const key = keyOf[by](run);
    let row = groups.get(key);
    if (!row) groups.set(key, (row = { key, ...emptyTotals() }));
    add(row, run);
    add(total, run);
  }
  const rows = [...groups.values()].sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
  return { by, rows, total };
}

/** `YYYY-MM-DD` as the start of that UTC day; anything else (or a date that does not exist) is refused. */
export function parseDay(value: string): EpochMs {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const at = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  // Date.UTC rolls 2024-02-31 over into March: a round trip catches it.
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== value) {
    throw new OrchError('invalid_input', `"${value}" is not a date: use YYYY-MM-DD`);
  }
  return at;
}

export interface CostQuery {
  by: CostDimension;
  /** Only runs started at or after this time. */
  since?: EpochMs;
  project?: string;
}

/** Spend and tokens of the runs the query selects, from the run rows (what each run was charged when it ended). */
export async function costReport(store: Pick<StoreOps, 'listRuns' | 'getProject'>, query: CostQuery): Promise<CostReport> {
  if (query.project !== undefined && !(await store.getProject(query.project))) throw new OrchError('not_found', `project "${query.project}" not found`);
  const runs = await store.listRuns({ project: query.project, startedAfter: query.since });
  return aggregateCost(runs, query.by);
}

/**
 * What a run has cost so far. An ended run carries its charged cost; an open one has not been charged
 * yet, so its agent's usage and cost events are folded and priced the way the supervisor will.
 */
export async function runCostSoFar(store: Pick<StoreOps, 'listEvents'>, run: Run, prices: Record<string, ModelPrice>): Promise<number> {
  if (run.endedAt !== null) return run.costUsd;
  const events = await store.listEvents({ taskId: run.taskId, types: ['agent.usage', 'agent.cost'] });
  const totals = foldUsage(events.filter((e) => e.runId === run.id).map((e) => e.data as unknown as UsageEvent));
  return priceRun(totals, prices, run.model) ?? 0;
}
