// What /metrics reports, read from the store on every scrape: the store is the truth, and any process
// sharing it (the CLI included) is counted. The database keeps the totals as tasks and runs are
// written (`metricTotals`), so a scrape reads a few small tables, whatever the store holds. Counters
// derived from runs only grow, because runs are never deleted except with their project.
//
// prom-client writes the exposition. Its metrics count what this process observes; these numbers
// are the store's, so each scrape fills a registry of its own with them (no state shared between
// scrapes, none lost when the daemon restarts).

import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { TASK_STATES } from '../core/types.js';
import type { Orch } from '../engine/context.js';
import type { TickStats } from './deps.js';
import { RUN_DURATION_BOUNDS_S, type MetricTotals } from '../store/store.js';

export const EXPOSITION_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

type Labels = Record<string, string>;
type HistogramCounts = { labels: Labels; atMost: readonly number[]; count: number; sum: number };

/**
 * A histogram from counts already made (prom-client's Histogram counts only the observations this
 * process makes): `atMost[i]` observations at most `bounds[i]`, `count` in all, summing to `sum`.
 */
export class CountedHistogram {
  readonly type = 'histogram';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    private readonly series: readonly HistogramCounts[],
  ) {}

  get() {
    const { name, help, type } = this;
    const values = this.series.flatMap(({ labels, atMost, count, sum }) => [
      ...this.bounds.map((bound, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: atMost[i] ?? 0 })),
      { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
      { metricName: `${name}_sum`, labels, value: sum },
      { metricName: `${name}_count`, labels, value: count },
    ]);
    return Promise.resolve({ name, help, type, values, aggregator: 'sum' as const });
  }

  reset(): void {}
}

/** Tasks per project and state, every state reported (zeros included) so a series never vanishes when its count drops to 0. */
function taskCounts(projects: string[], totals: MetricTotals['tasks']) {
  const countOf = new Map(totals.map((row) => [`${row.project}\0${row.state}`, row.count]));
  return (project: string, state: string) => countOf.get(`${project}\0${state}`) ?? 0;
}

export async function renderMetrics(orch: Orch, ticks: TickStats, now: number): Promise<string> {
  const projects = (await orch.store.listProjects()).map((project) => project.name);
  const totals = await orch.store.metricTotals(now);
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers });
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers });
  // Sums that may carry a float's rounding below zero are counted from zero.
  const add = (metric: Counter, labels: Labels, value: number) => metric.inc(labels, Math.max(0, value));

  const tasks = gauge('orch_tasks', 'Tasks by project and state.', ['project', 'state']);
  const queue = gauge('orch_queue_depth', 'Tasks waiting to be dispatched (new or routed) per project.', ['project']);
  const count = taskCounts(projects, totals.tasks);
  for (const project of projects) {
    for (const state of TASK_STATES) tasks.set({ project, state }, count(project, state));
    queue.set({ project }, count(project, 'new') + count(project, 'routed'));
  }

  const runs = counter('orch_runs_total', 'Agent runs that have ended, by project, agent and outcome.', ['project', 'agent', 'outcome']);
  const ended = counter('orch_runs_ended_total', 'Runs that have ended, by project, agent and end reason (merged, pr_opened, judge_failed, ...).', ['project', 'agent', 'end_reason']);
  const durations = new CountedHistogram(
    'orch_run_duration_seconds',
    'Wall-clock time of ended agent runs, per agent.',
    RUN_DURATION_BOUNDS_S,
    totals.durations.map(({ agent, atMost, count, sumS }) => ({ labels: { agent }, atMost, count, sum: sumS })),
  );
  registry.registerMetric(durations as unknown as Metric);
  const cost = counter('orch_cost_usd_total', 'Money spent on agent runs, in US dollars.', ['project', 'agent']);
  const tokens = counter('orch_tokens_total', 'Model tokens used by agent runs, by direction.', ['project', 'agent', 'direction']);
  const opened = counter('orch_pull_requests_opened_total', 'Pull requests Orch opened for tasks, per project.', ['project']);
  for (const row of totals.runs) {
    const { project, agent } = row;
    // A run has an outcome once it has ended.
    if (row.outcome !== null) add(runs, { project, agent, outcome: row.outcome }, row.count);
    if (row.endReason !== null) add(ended, { project, agent, end_reason: row.endReason }, row.count);
    if (row.endReason === 'pr_opened') add(opened, { project }, row.count);
    add(cost, { project, agent }, row.costUsd);
    add(tokens, { project, agent, direction: 'in' }, row.tokensIn);
    add(tokens, { project, agent, direction: 'out' }, row.tokensOut);
  }

  const merged = counter('orch_pull_requests_merged_total', "Tasks finished by their pull request's merge, per project.", ['project']);
  const rounds = counter('orch_pull_request_fix_rounds_total', 'Fix rounds Orch ran on its open pull requests, per project and kind (ci, review).', ['project', 'kind']);
  const pullRequests = new Map(totals.pullRequests.map((row) => [row.project, row]));
  for (const project of projects) {
    const row = pullRequests.get(project);
    add(merged, { project }, row?.merged ?? 0);
    add(rounds, { project, kind: 'ci' }, row?.ciRounds ?? 0);
    add(rounds, { project, kind: 'review' }, row?.reviewRounds ?? 0);
  }

  gauge('orch_claims', 'Claims held on tasks (one per live run).').set(totals.claims.held);
  gauge('orch_claims_expired', 'Claims whose lease has run out and that wait to be reclaimed.').set(totals.claims.expired);
  // A gauge without a value yet is left out: prom-client would report it as 0.
  if (ticks.lastTickMs !== null) gauge('orch_tick_duration_seconds', 'How long the last scheduler tick took.').set(ticks.lastTickMs / 1000);
  if (ticks.lastTickAt !== null) gauge('orch_last_tick_timestamp_seconds', 'When the last scheduler tick ended, in Unix seconds.').set(ticks.lastTickAt / 1000);
  counter('orch_ticks_total', 'Scheduler ticks since the daemon started.').inc(ticks.ticks);
  gauge('orch_storage_full', 'Whether the disk is full, so nothing new starts (1) or not (0).').set(ticks.storageFull ? 1 : 0);
  if (ticks.storageFull) {
    gauge('orch_storage_full_since_timestamp_seconds', 'Since when the disk has been full, in Unix seconds; absent while there is room.').set(ticks.storageFull.since / 1000);
  }
  return registry.metrics();
}
