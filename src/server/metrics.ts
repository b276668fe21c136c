// What /metrics reports, read from the store on every scrape: the store is the truth, and any process
// sharing it (the CLI included) is counted. Counters derived from runs only grow, because runs are
// never deleted except with their project.

import { TASK_STATES, type Run } from '../core/types.js';
import type { Orch } from '../engine/context.js';
import type { TickStats } from './deps.js';
import { histogramSamples, type Labels, type MetricFamily, type Sample } from './prometheus.js';

/** Run durations from seconds to hours: agent attempts range from a quick fix to a long refactor. */
const RUN_DURATION_BOUNDS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] as const;

/** Sums `value(run)` per distinct label set. */
function sumBy(runs: Run[], labelsOf: (run: Run) => Labels, value: (run: Run) => number): Sample[] {
  const sums = new Map<string, Sample>();
  for (const run of runs) {
    const labels = labelsOf(run);
    const key = JSON.stringify(labels);
    const sample = sums.get(key) ?? { labels, value: 0 };
    sample.value += value(run);
    sums.set(key, sample);
  }
  return [...sums.values()];
}

function runDurationSamples(ended: Run[]): Sample[] {
  const byAgent = new Map<string, number[]>();
  for (const run of ended) {
    const durations = byAgent.get(run.agent) ?? [];
    durations.push((run.endedAt! - run.startedAt) / 1000);
    byAgent.set(run.agent, durations);
  }
  return [...byAgent].flatMap(([agent, durations]) => histogramSamples({ agent }, durations, RUN_DURATION_BOUNDS));
}

/** Pull requests Orch opened that were merged, and the fix rounds it ran on its pull requests, per project. */
async function pullRequestSamples(orch: Orch): Promise<{ merged: Sample[]; rounds: Sample[] }> {
  const merged: Sample[] = [];
  const rounds: Sample[] = [];
  for (const { name: project } of await orch.store.listProjects()) {
    const withPr = (await orch.store.listTasks({ project })).filter((t) => t.pullRequest !== null);
    merged.push({ labels: { project }, value: withPr.filter((t) => t.state === 'done').length });
    rounds.push({ labels: { project, kind: 'ci' }, value: withPr.reduce((sum, t) => sum + t.pullRequest!.ciRounds, 0) });
    rounds.push({ labels: { project, kind: 'review' }, value: withPr.reduce((sum, t) => sum + t.pullRequest!.reviewRounds, 0) });
  }
  return { merged, rounds };
}

async function taskSamples(orch: Orch): Promise<{ tasks: Sample[]; queue: Sample[] }> {
  const tasks: Sample[] = [];
  const queue: Sample[] = [];
  for (const { name: project } of await orch.store.listProjects()) {
    const counts = await orch.store.countTasksByState(project);
    // Every state is reported, zeros included, so a series never vanishes when its count drops to 0.
    for (const state of TASK_STATES) tasks.push({ labels: { project, state }, value: counts[state] ?? 0 });
    queue.push({ labels: { project }, value: (counts.new ?? 0) + (counts.routed ?? 0) });
  }
  return { tasks, queue };
}

export async function collectMetrics(orch: Orch, ticks: TickStats, now: number): Promise<MetricFamily[]> {
  const { tasks, queue } = await taskSamples(orch);
  const pullRequests = await pullRequestSamples(orch);
  const runs = await orch.store.listRuns();
  const ended = runs.filter((run) => run.endedAt !== null && run.outcome !== null);
  const claims = await orch.store.listClaims();
  const byProjectAgent = (run: Run): Labels => ({ project: run.project, agent: run.agent });

  return [
    { name: 'orch_tasks', type: 'gauge', help: 'Tasks by project and state.', samples: tasks },
    { name: 'orch_queue_depth', type: 'gauge', help: 'Tasks waiting to be dispatched (new or routed) per project.', samples: queue },
    {
      name: 'orch_runs_total',
      type: 'counter',
      help: 'Agent runs that have ended, by project, agent and outcome.',
      samples: sumBy(ended, (run) => ({ ...byProjectAgent(run), outcome: run.outcome! }), () => 1),
    },
    {
      name: 'orch_runs_ended_total',
      type: 'counter',
      help: 'Runs that have ended, by project, agent and end reason (merged, pr_opened, judge_failed, ...).',
      samples: sumBy(runs.filter((run) => run.endReason !== null), (run) => ({ ...byProjectAgent(run), end_reason: run.endReason! }), () => 1),
    },
    { name: 'orch_run_duration_seconds', type: 'histogram', help: 'Wall-clock time of ended agent runs, per agent.', samples: runDurationSamples(ended) },
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
      samples: sumBy(runs.filter((run) => run.endReason === 'pr_opened'), (run) => ({ project: run.project }), () => 1),
    },
    { name: 'orch_pull_requests_merged_total', type: 'counter', help: "Tasks finished by their pull request's merge, per project.", samples: pullRequests.merged },
    { name: 'orch_pull_request_fix_rounds_total', type: 'counter', help: 'Fix rounds Orch ran on its open pull requests, per project and kind (ci, review).', samples: pullRequests.rounds },
    { name: 'orch_claims', type: 'gauge', help: 'Claims held on tasks (one per live run).', samples: [{ value: claims.length }] },
    {
      name: 'orch_claims_expired',
      type: 'gauge',
      help: 'Claims whose lease has run out and that wait to be reclaimed.',
      samples: [{ value: claims.filter((claim) => claim.leaseUntil < now).length }],
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
