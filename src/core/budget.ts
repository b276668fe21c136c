/** Spending caps in USD; an absent cap means no limit. */
export interface BudgetCaps {
  dailyUsd?: number | null;
  taskUsd?: number | null;
  runUsd?: number | null;
}

export interface Spend {
  /** The project's spend since the start of the current day. */
  todayUsd: number;
  /** What the task has cost over all its attempts. */
  taskUsd: number;
}

export type BudgetVerdict =
  | { ok: true; runCapUsd: number | null }
  | { ok: false; reason: 'daily_budget_exhausted' | 'task_budget_exhausted'; detail: string };

const usd = (n: number) => `$${n.toFixed(2)}`;

/**
 * Whether a new run may start, and the most it may spend: the smallest of the per-run cap and what
 * is left of the daily and per-task caps. The supervisor enforces that cap live.
 */
export function checkBudget(caps: BudgetCaps, spend: Spend): BudgetVerdict {
  const leftToday = caps.dailyUsd == null ? null : caps.dailyUsd - spend.todayUsd;
  const leftTask = caps.taskUsd == null ? null : caps.taskUsd - spend.taskUsd;
  if (leftToday !== null && leftToday <= 0) {
    return { ok: false, reason: 'daily_budget_exhausted', detail: `spent ${usd(spend.todayUsd)} of ${usd(caps.dailyUsd!)} today` };
  }
  if (leftTask !== null && leftTask <= 0) {
    return { ok: false, reason: 'task_budget_exhausted', detail: `task spent ${usd(spend.taskUsd)} of ${usd(caps.taskUsd!)}` };
  }
  const limits = [caps.runUsd ?? null, leftToday, leftTask].filter((n): n is number => n !== null);
  return { ok: true, runCapUsd: limits.length === 0 ? null : Math.min(...limits) };
}

/** True once a running run's accumulated cost passes its cap (the live budget check). */
export function runOverBudget(spentUsd: number, runCapUsd: number | null): boolean {
  return runCapUsd !== null && spentUsd > runCapUsd;
}
