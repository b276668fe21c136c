// What /metrics reports, read from the store on every scrape: the store is the truth, and any process
// sharing it (the CLI included) is counted. The database totals it in a few grouped queries
// (`metricTotals`); no run or task is loaded. Counters derived from runs only grow, because runs are
// never deleted except with their project.

import { TASK_STATES } from '../core/types.js';
import type { Orch } from '../engine/context.js';
import type { TickStats } from './deps.js';
import type { MetricTotals } from '../store/store.js';
import { histogramFromCounts, type Labels, type MetricFamily, type Sample } from './prometheus.js';

/** Run durations from seconds to hours: agent attempts range from a quick fix to a long refactor. */
const RUN_DURATION_BOUNDS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] as const;

type RunTotals = MetricTotals['runs'][number];

/** Sums `value(row)` per distinct label set. */
function sumBy(rows: RunTotals[], labelsOf: (row: RunTotals) => Labels, value: (row: RunTotals) => number): Sample[] {
  const sums = new Map<string, Sample>();
  for (const row of rows) {
    const labels = labelsOf(row);
    const key = JSON.stringify(labels);
    const sample = sums.get(key) ?? { labels, value: 0 };
    sample.value += value(row);
    sums.set(key, sample);
  }
  return [...sums.values()];
}

function runDurationSamples(durations: MetricTotals['durations']): Sample[] {
  return durations.flatMap(({ agent, atMost, count, sumS }) => histogramFromCounts({ agent }, RUN_DURATION_BOUNDS, atMost, count, sumS));
}

/** Pull requests Orch opened that were merged, and the fix rounds it ran on its pull requests, per project (zeros included). */
function pullRequestSamples(projects: string[], totals: MetricTotals['pullRequests']): { merged: Sample[]; rounds: Sample[] } {
  const byProject = new Map(totals.map((row) => [row.project, row]));
  return {
    merged: projects.map((project) => ({ labels: { project }, value: byProject.get(project)?.merged ?? 0 })),
    rounds: projects.flatMap((project) => [
      { labels: { project, kind: 'ci' }, value: byProject.get(project)?.ciRounds ?? 0 },
      { labels: { project, kind: 'review' }, value: byProject.get(project)?.reviewRounds ?? 0 },
    ]),
  };
}

function taskSamples(projects: string[], totals: MetricTotals['tasks']): { tasks: Sample[]; queue: Sample[] } {
  const countOf = new Map(totals.map((row) => [`${row.project}\0${row.state}`, row.count]));
  const count = (project: string, state: string) => countOf.get(`${project}\0${state}`) ?? 0;
  return {
    // Every state is reported, zeros included, so a series never vanishes when its count drops to 0.
    tasks: projects.flatMap((project) => TASK_STATES.map((state) => ({ labels: { project, state }, value: count(project, state) }))),
    queue: projects.map((project) => ({ labels: { project }, value: count(project, 'new') + count(project, 'routed') })),
  };
}

export async function collectMetrics(orch: Orch, ticks: TickStats, now: number): Promise<MetricFamily[]> {
  const projects = (await orch.store.listProjects()).map((project) => project.name);
  const totals = await orch.store.metricTotals(now, RUN_DURATION_BOUNDS);
  const { tasks, queue } = taskSamples(projects, totals.tasks);
  const pullRequests = pullRequestSamples(projects, totals.pullRequests);
  const runs = totals.runs;
  const byProjectAgent = (row: RunTotals): Labels => ({ project: row.project, agent: row.agent });

  return [
    { name: 'orch_tasks', type: 'gauge', help: 'Tasks by project and state.', samples: tasks },
    { name: 'orch_queue_depth', type: 'gauge', help: 'Tasks waiting to be dispatched (new or routed) per project.', samples: queue },
    {
      name: 'orch_runs_total',
      type: 'counter',
      help: 'Agent runs that have ended, by project, agent and outcome.',
      // A run has an outcome once it has ended.
      samples: sumBy(runs.filter((row) => row.outcome !== null), (row) => ({ ...byProjectAgent(row), outcome: row.outcome! }), (row) => row.count),
    },
    {
      name: 'orch_runs_ended_total',
      type: 'counter',
      help: 'Runs that have ended, by project, agent and end reason (merged, pr_opened, judge_failed, ...).',
      samples: sumBy(runs.filter((row) => row.endReason !== null), (row) => ({ ...byProjectAgent(row), end_reason: row.endReason! }), (row) => row.count),
    },
    { name: 'orch_run_duration_seconds', type: 'histogram', help: 'Wall-clock time of ended agent runs, per agent.', samples: runDurationSamples(totals.durations) },
    { name: 'orch_cost_usd_total', type: 'counter', help: 'Money spent on agent runs, in US dollars.', samples: sumBy(runs, byProjectAgent, (run) => run.costUsd) },
    {
      name: 'orch_tokens_total',
      type: 'counter',
      help: 'Model tokens used by agent runs, by direction.',
      samples: [
        ...sumBy(runs, (run) => ({ ...byProjectAgent(run), direction: 'in' }), (run) => run.tokensIn),
        ...sumBy(runs, (run) => ({ ...byProjectAgent(run), direction: 'out' }), (run) => run.tokensOut),
      ],
    },
    {
      name: 'orch_pull_requests_opened_total',
      type: 'counter',
      help: 'Pull requests Orch opened for tasks, per project.',
      samples: sumBy(runs.filter((row) => row.endReason === 'pr_opened'), (row) => ({ project: row.project }), (row) => row.count),
    },
    { name: 'orch_pull_requests_merged_total', type: 'counter', help: "Tasks finished by their pull request's merge, per project.", samples: pullRequests.merged },
    { name: 'orch_pull_request_fix_rounds_total', type: 'counter', help: 'Fix rounds Orch ran on its open pull requests, per project and kind (ci, review).', samples: pullRequests.rounds },
    { name: 'orch_claims', type: 'gauge', help: 'Claims held on tasks (one per live run).', samples: [{ value: totals.claims.held }] },
    {
      name: 'orch_claims_expired',
      type: 'gauge',
      help: 'Claims whose lease has run out and that wait to be reclaimed.',
      samples: [{ value: totals.claims.expired }],
    },
    {
      name: 'orch_tick_duration_seconds',
      type: 'gauge',
      help: 'How long the last scheduler tick took.',
      samples: ticks.lastTickMs === null ? [] : [{ value: ticks.lastTickMs / 1000 }],
    },
    {
      name: 'orch_last_tick_timestamp_seconds',
      type: 'gauge',
      help: 'When the last scheduler tick ended, in Unix seconds.',
      samples: ticks.lastTickAt === null ? [] : [{ value: ticks.lastTickAt / 1000 }],
    },
    { name: 'orch_ticks_total', type: 'counter', help: 'Scheduler ticks since the daemon started.', samples: [{ value: ticks.ticks }] },
    {
      name: 'orch_storage_full',
      type: 'gauge',
      help: 'Whether the disk is full, so nothing new starts (1) or not (0).',
      samples: [{ value: ticks.storageFull ? 1 : 0 }],
    },
    {
      name: 'orch_storage_full_since_timestamp_seconds',
      type: 'gauge',
      help: 'Since when the disk has been full, in Unix seconds; absent while there is room.',
      samples: ticks.storageFull ? [{ value: ticks.storageFull.since / 1000 }] : [],
    },
  ];
}
