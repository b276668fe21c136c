import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { Registry, type Metric } from 'prom-client';
import { CountedHistogram } from '../../src/server/metrics.js';
import { json, useServer } from './harness.js';

const h = useServer();

/** A sample line of the text exposition format: name, optional labels, value, optional timestamp. */
const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)( -?\d+)?$/;
const COMMENT_LINE = /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/;

function expectWellFormed(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  // Families are separated by blank lines, which the format allows.
  const lines = text.trimEnd().split('\n').filter((line) => line !== '');
  for (const line of lines) {
    if (line.startsWith('#')) expect(line).toMatch(COMMENT_LINE);
    else expect(line).toMatch(SAMPLE_LINE);
  }
  return lines;
}

async function createTask(title: string): Promise<Task> {
  return json<Task>(await h.call('/tasks', { body: { project: 'app', title } }));
}

/** A run through the store: claimed, started, and (unless `open`) ended with an outcome and usage. */
async function recordRun(task: Task, agent: string, end?: { outcome: 'succeeded' | 'failed'; seconds: number; tokensIn: number; tokensOut: number; costUsd: number }) {
  const { store } = h.orch;
  const startedAt = Date.now();
  const claim = (await store.claimTask({ taskId: task.id, owner: 'metrics-test', leaseMs: 60_000, now: startedAt }))!;
  const run = await store.createRun({ taskId: task.id, project: task.project, attempt: 1, agent, startedAt }, claim.token);
  if (!end) return;
  const { seconds, ...usage } = end;
  await store.updateRun(run.id, claim.token, { endedAt: startedAt + seconds * 1000, exitCode: 0, ...usage }, startedAt);
  await store.releaseClaim(task.id, claim.token, startedAt);
}

describe('GET /metrics', () => {
  it('requires the token and serves the Prometheus text format', async () => {
    expect((await h.call('/metrics', { token: null })).status).toBe(401);
    const response = await h.call('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = expectWellFormed(await response.text());
    expect(lines).toContain('orch_tasks{project="app",state="new"} 0');
    expect(lines).toContain('orch_ticks_total 0');
    expect(lines.some((line) => line.startsWith('orch_tick_duration_seconds '))).toBe(false);
  });

  it('reports tasks, queue, runs, durations, cost, tokens, claims and ticks', async () => {
    const [a, b, c] = [await createTask('A'), await createTask('B'), await createTask('C')];
    await h.call(`/tasks/${c.id}/cancel`, { method: 'POST' });
    await recordRun(a, 'claude', { outcome: 'succeeded', seconds: 42, tokensIn: 1000, tokensOut: 200, costUsd: 0.25 });
    await recordRun(b, 'claude', { outcome: 'failed', seconds: 5, tokensIn: 10, tokensOut: 2, costUsd: 0.5 });
    await recordRun(b, 'codex', { outcome: 'succeeded', seconds: 700, tokensIn: 1, tokensOut: 1, costUsd: 0 });
    await recordRun(a, 'claude'); // still running, and holding a claim
    h.tickStats = { lastTickMs: 12.5, lastTickAt: 1_700_000_000_000, ticks: 7 };

    const lines = expectWellFormed(await (await h.call('/metrics')).text());
    expect(lines).toEqual(
      expect.arrayContaining([
        '# TYPE orch_tasks gauge',
        'orch_tasks{project="app",state="new"} 2',
        'orch_tasks{project="app",state="cancelled"} 1',
        'orch_queue_depth{project="app"} 2',
        '# TYPE orch_runs_total counter',
        'orch_runs_total{project="app",agent="claude",outcome="succeeded"} 1',
        'orch_runs_total{project="app",agent="claude",outcome="failed"} 1',
        'orch_runs_total{project="app",agent="codex",outcome="succeeded"} 1',
        '# TYPE orch_run_duration_seconds histogram',
        'orch_run_duration_seconds_bucket{agent="claude",le="10"} 1',
        'orch_run_duration_seconds_bucket{agent="claude",le="60"} 2',
        'orch_run_duration_seconds_bucket{agent="claude",le="+Inf"} 2',
        'orch_run_duration_seconds_sum{agent="claude"} 47',
        'orch_run_duration_seconds_count{agent="claude"} 2',
        'orch_run_duration_seconds_bucket{agent="codex",le="600"} 0',
        'orch_run_duration_seconds_bucket{agent="codex",le="1200"} 1',
        'orch_cost_usd_total{project="app",agent="claude"} 0.75',
        'orch_tokens_total{project="app",agent="claude",direction="in"} 1010',
        'orch_tokens_total{project="app",agent="claude",direction="out"} 202',
        'orch_claims 1',
        'orch_claims_expired 0',
        'orch_tick_duration_seconds 0.0125',
        'orch_last_tick_timestamp_seconds 1700000000',
        'orch_ticks_total 7',
      ]),
    );
    // the open run has no outcome yet: it is not counted as ended
    expect(lines.filter((line) => line.startsWith('orch_runs_total{'))).toHaveLength(3);
  });

  it('counts pull requests opened and merged, and the fix rounds run on them', async () => {
    const { store } = h.orch;
    const [merged, open] = [await createTask('Merged'), await createTask('Open')];
    for (const [task, number, state, ciRounds, reviewRounds] of [[merged, 7, 'done', 2, 1], [open, 8, 'in_review', 1, 0]] as const) {
      const startedAt = Date.now();
      const claim = (await store.claimTask({ taskId: task.id, owner: 'metrics-test', leaseMs: 60_000, now: startedAt }))!;
      const run = await store.createRun({ taskId: task.id, project: task.project, attempt: 1, agent: 'claude', startedAt }, claim.token);
      await store.updateRun(run.id, claim.token, { endedAt: startedAt + 1000, outcome: 'succeeded', endReason: 'pr_opened' }, startedAt);
      await store.releaseClaim(task.id, claim.token, startedAt);
      const pullRequest = { number, url: `https://github.test/acme/app/pull/${number}`, branch: `orch/${task.id}`, headSha: null, checks: null, ciRounds, reviewRounds };
      await store.updateTask(task.id, {}, { state, pullRequest }, startedAt, { type: 'task.test' });
    }
    const lines = expectWellFormed(await (await h.call('/metrics')).text());
    expect(lines).toEqual(
      expect.arrayContaining([
        'orch_pull_requests_opened_total{project="app"} 2',
        'orch_pull_requests_merged_total{project="app"} 1',
        'orch_pull_request_fix_rounds_total{project="app",kind="ci"} 3',
        'orch_pull_request_fix_rounds_total{project="app",kind="review"} 1',
        'orch_tasks{project="app",state="in_review"} 1',
        'orch_runs_ended_total{project="app",agent="claude",end_reason="pr_opened"} 2',
      ]),
    );
  });
});

describe('CountedHistogram', () => {
  it('writes cumulative buckets, sum and count from counts already made', async () => {
    // Observed: 1, 5, 5, 50.
    const registry = new Registry();
    registry.registerMetric(new CountedHistogram('x_seconds', 'A test histogram.', [1, 10], [{ labels: { agent: 'a' }, atMost: [1, 3], count: 4, sum: 61 }]) as unknown as Metric);
    const lines = expectWellFormed(await registry.metrics());
    expect(lines).toEqual([
      '# HELP x_seconds A test histogram.',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{agent="a",le="1"} 1',
      'x_seconds_bucket{agent="a",le="10"} 3',
      'x_seconds_bucket{agent="a",le="+Inf"} 4',
      'x_seconds_sum{agent="a"} 61',
      'x_seconds_count{agent="a"} 4',
    ]);
  });
});
