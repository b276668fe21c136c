// Figures about runs that the dashboard shows: success rates, duration summaries and histograms, and
// the shape of the portfolio and stats reports. Pure: the engine gathers the runs and the day keys.

import { countsForSuccessRate, endedInSuccess } from './end-reasons.js';
import { ACTIVE_STATES, type EpochMs, type Run, type TaskState } from './types.js';
import type { HeldDelivery } from './delivery.js';

export interface SuccessRate {
  succeeded: number;
  /** Ended runs that count: every ended run whose end reason says something about its agent. */
  ended: number;
  /** succeeded / ended, or null when nothing ended. */
  rate: number | null;
}

/** A run that did what it was for: it ended for a reason core/end-reasons.ts names a success. */
export function runSucceeded(run: Pick<Run, 'endReason'>): boolean {
  return endedInSuccess(run.endReason);
}

/** Runs still going say nothing yet; nor do runs a person cancelled, Orch's crash cut or a rate limit stopped. */
export function successRate(runs: readonly Run[]): SuccessRate {
  const counted = runs.filter((run) => countsForSuccessRate(run.endReason));
  const succeeded = counted.filter(runSucceeded).length;
  return { succeeded, ended: counted.length, rate: counted.length === 0 ? null : succeeded / counted.length };
}

export interface DurationSummary {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

/** The value below which `share` of the sorted values lie (nearest rank). */
function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))]!;
}

export function summarizeDurations(durationsMs: readonly number[]): DurationSummary {
  if (durationsMs.length === 0) return { count: 0, medianMs: null, p90Ms: null, maxMs: null };
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return { count: sorted.length, medianMs: percentile(sorted, 0.5), p90Ms: percentile(sorted, 0.9), maxMs: sorted.at(-1)! };
}

/** How long an ended run took; null for a run still going. */
export const runDurationMs = (run: Run): number | null => (run.endedAt === null ? null : Math.max(0, run.endedAt - run.startedAt));

/** Upper bounds of the duration histogram: a quick fix to a long refactor. */
export const DURATION_BUCKETS_MS = [30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000] as const;

export interface HistogramBucket {
  /** Runs up to this long (and longer than the bucket before); null for the last, open bucket. */
  upToMs: number | null;
  count: number;
}

export function durationHistogram(durationsMs: readonly number[], bounds: readonly number[] = DURATION_BUCKETS_MS): HistogramBucket[] {
  const buckets: HistogramBucket[] = [...bounds.map((upToMs) => ({ upToMs, count: 0 })), { upToMs: null, count: 0 }];
  for (const duration of durationsMs) {
    const index = bounds.findIndex((bound) => duration <= bound);
    buckets[index < 0 ? bounds.length : index]!.count++;
  }
  return buckets;
}

/** One project as the portfolio shows it. */
export interface ProjectSummary {
  name: string;
  paused: boolean;
  pausedReason: string | null;
  /** Tasks an agent or the judge is on now (running, judging, merging). */
  running: number;
  /** Tasks waiting to be dispatched (new, routed). */
  queued: number;
  needsReview: number;
  blocked: number;
  done: number;
  total: number;
  spentTodayUsd: number;
  /** Over the runs of the success window. */
  success: SuccessRate;
}

/** A project as the portfolio shows it: its summary and what waits for its checkout. */
export interface PortfolioProject extends ProjectSummary {
  delivery: HeldDelivery | null;
}

export interface PortfolioReport {
  /** How many days (up to now) the success rates cover. */
  successWindowDays: number;
  spentTodayUsd: number;
  projects: PortfolioProject[];
}

export function summarizeProject(
  project: { name: string; paused: boolean; pausedReason: string | null },
  counts: Partial<Record<TaskState, number>>,
  runsToday: readonly Run[],
  recentRuns: readonly Run[],
): ProjectSummary {
  const count = (state: TaskState) => counts[state] ?? 0;
  return {
    name: project.name,
    paused: project.paused,
    pausedReason: project.pausedReason,
    running: [...ACTIVE_STATES].reduce((sum, state) => sum + count(state), 0),
    queued: count('new') + count('routed'),
    needsReview: count('needs_review'),
    blocked: count('blocked'),
    done: count('done'),
    total: Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0),
    spentTodayUsd: runsToday.reduce((sum, run) => sum + run.costUsd, 0),
    success: successRate(recentRuns),
  };
}

export interface DaySpend {
  /** `YYYY-MM-DD`, UTC, like the daily budget's day. */
  day: string;
  costUsd: number;
  runs: number;
  byAgent: Record<string, number>;
}

export interface AgentStats {
  agent: string;
  runs: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
  success: SuccessRate;
  durations: DurationSummary;
}

export interface ModelStats {
  agent: string;
  /** null: whatever the agent's CLI defaults to. */
  model: string | null;
  runs: number;
  costUsd: number;
  success: SuccessRate;
}

export interface QueueFigures {
  project: string;
  paused: boolean;
  queued: number;
  running: number;
}

export interface TickFigures {
  ticks: number;
  lastTickMs: number | null;
  lastTickAt: EpochMs | null;
  intervalS: number;
}

export interface StatsReport {
  /** The window the spend, success and duration figures cover: runs started at or after `since`. */
  since: EpochMs;
  days: number;
  totalCostUsd: number;
  spendByDay: DaySpend[];
  agents: AgentStats[];
  models: ModelStats[];
  durationHistogram: HistogramBucket[];
  queue: QueueFigures[];
  runningRuns: number;
  claims: { held: number; expired: number };
  tick: TickFigures;
}

/** Runs grouped by a key, in first-seen order. */
export function groupRuns<K>(runs: readonly Run[], keyOf: (run: Run) => K): Map<K, Run[]> {
  const groups = new Map<K, Run[]>();
  for (const run of runs) {
    const key = keyOf(run);
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  return groups;
}

const sum = (runs: readonly Run[], value: (run: Run) => number) => runs.reduce((total, run) => total + value(run), 0);
/** How long each ended run took. */
export const endedRunDurations = (runs: readonly Run[]): number[] => runs.map(runDurationMs).filter((ms): ms is number => ms !== null);

/** Per agent, most expensive first (then by name, so ties read the same every time). */
export function agentStats(runs: readonly Run[]): AgentStats[] {
  return [...groupRuns(runs, (run) => run.agent)]
    .map(([agent, group]) => ({
      agent,
      runs: group.length,
      costUsd: sum(group, (run) => run.costUsd),
      tokensIn: sum(group, (run) => run.tokensIn),
      tokensOut: sum(group, (run) => run.tokensOut),
      success: successRate(group),
      durations: summarizeDurations(endedRunDurations(group)),
    }))
    .sort((a, b) => b.costUsd - a.costUsd || a.agent.localeCompare(b.agent));
}

/** Per agent and model, most runs first. */
export function modelStats(runs: readonly Run[]): ModelStats[] {
  return [...groupRuns(runs, (run) => `${run.agent}\u0000${run.model ?? ''}`).values()]
    .map((group) => ({
      agent: group[0]!.agent,
      model: group[0]!.model,
      runs: group.length,
      costUsd: sum(group, (run) => run.costUsd),
      success: successRate(group),
    }))
    .sort((a, b) => b.runs - a.runs || a.agent.localeCompare(b.agent) || (a.model ?? '').localeCompare(b.model ?? ''));
}

/** Spend per day for the given day keys (oldest first), zeros included, split by agent. */
export function spendByDay(runs: readonly Run[], days: readonly string[], dayOf: (run: Run) => string): DaySpend[] {
  const rows = new Map(days.map((day) => [day, { day, costUsd: 0, runs: 0, byAgent: {} as Record<string, number> }]));
  for (const run of runs) {
    const row = rows.get(dayOf(run));
    if (!row) continue;
    row.costUsd += run.costUsd;
    row.runs += 1;
    row.byAgent[run.agent] = (row.byAgent[run.agent] ?? 0) + run.costUsd;
  }
  return [...rows.values()];
}
