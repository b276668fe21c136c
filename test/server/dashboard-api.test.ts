// The routes the dashboard added to the API: the portfolio and stats figures, resolving a task that
// needs review, a task's diff (live from Orch's clone, else the judge's saved copy), a run's verdict,
// and the event stream with every event unnamed for EventSource.onmessage.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PortfolioReport, StatsReport } from '../../src/core/run-stats.js';
import type { Run, Task } from '../../src/core/types.js';
import { runDirectory } from '../../src/engine/attempt.js';
import type { TaskDiff } from '../../src/engine/task-diff.js';
import { clonePath } from '../../src/workspace/layout.js';
import { git } from '../helpers/git.js';
import { json, useServer } from './harness.js';
import { SseClient } from './sse-client.js';
import { endReasonFor } from '../store/fixtures.js';

const h = useServer();

async function createTask(title: string): Promise<Task> {
  const response = await h.call('/tasks', { body: { project: 'app', title } });
  expect(response.status).toBe(201);
  return json<Task>(response);
}

/** A run of `task` that ended with `outcome`, as the supervisor would record it. */
async function endedRun(task: Task, agent: string, outcome: Run['outcome'], costUsd: number, seconds: number, result: unknown = null): Promise<Run> {
  const { store } = h.orch;
  const startedAt = h.orch.now() - seconds * 1000;
  const claim = (await store.claimTask({ taskId: task.id, owner: 'test', leaseMs: 60_000, now: startedAt }))!;
  const run = await store.createRun({ taskId: task.id, project: task.project, attempt: 1, agent, model: 'm1', startedAt }, claim.token);
  const ended = await store.updateRun(run.id, claim.token, { endedAt: startedAt + seconds * 1000, outcome, endReason: endReasonFor(outcome, (result as { failure?: unknown } | null)?.failure), costUsd, result }, startedAt);
  await store.releaseClaim(task.id, claim.token, h.orch.now());
  return ended;
}

/**
 * Orch's clock held at noon UTC of today: figures per day must not depend on whether the test runs a
 * few minutes after midnight, when a run started 400 s earlier belongs to yesterday.
 */
function holdClockAtNoon(): number {
  const noon = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 43_200_000;
  h.orch.now = () => noon;
  return noon;
}

async function moveTo(task: Task, state: Task['state'], blockedReason: string | null = null): Promise<void> {
  const current = (await h.orch.store.getTask(task.id))!;
  await h.orch.store.updateTask(task.id, { expectedVersion: current.version }, { state, blockedReason }, h.orch.now(), { type: 'task.test_move', data: {} });
}

describe('GET /portfolio', () => {
  it('counts running, queued and waiting tasks per project, with spend today and the success rate', async () => {
    holdClockAtNoon();
    const [a, b, c] = [await createTask('One'), await createTask('Two'), await createTask('Three')];
    await createTask('Four');
    await moveTo(a, 'running');
    await moveTo(b, 'needs_review', 'attempts exhausted');
    await endedRun(c, 'claude', 'succeeded', 0.5, 30);
    await endedRun(c, 'claude', 'failed', 0.25, 60);
    await endedRun(c, 'claude', 'cancelled', 1, 5);
    const report = await json<PortfolioReport>(await h.call('/portfolio'));
    expect(report.successWindowDays).toBe(7);
    expect(report.spentTodayUsd).toBeCloseTo(1.75);
    expect(report.projects).toEqual([
      expect.objectContaining({ name: 'app', paused: false, running: 1, queued: 2, needsReview: 1, total: 4, success: { succeeded: 1, ended: 2, rate: 0.5 } }),
    ]);
  });
});

describe('GET /stats', () => {
  it('reports spend per day and agent, success per agent and model, durations, queue and ticks', async () => {
    const noon = holdClockAtNoon();
    const task = await createTask('Measured');
    await endedRun(task, 'claude', 'succeeded', 1, 45);
    await endedRun(task, 'codex', 'succeeded', 2, 400, { failure: 'judge: failed: tests' });
    h.tickStats = { ticks: 7, lastTickMs: 12, lastTickAt: Date.now() };
    const report = await json<StatsReport>(await h.call('/stats?days=3'));
    expect(report.days).toBe(3);
    expect(report.spendByDay.map((d) => d.day)).toHaveLength(3);
    expect(report.spendByDay.at(-1)).toEqual(expect.objectContaining({ day: new Date(noon).toISOString().slice(0, 10), costUsd: 3, runs: 2, byAgent: { claude: 1, codex: 2 } }));
    expect(report.agents.map((a) => [a.agent, a.success.rate])).toEqual([
      ['codex', 0],
      ['claude', 1],
    ]);
    expect(report.models).toContainEqual(expect.objectContaining({ agent: 'claude', model: 'm1', runs: 1 }));
    expect(report.durationHistogram.find((b) => b.upToMs === 60_000)!.count).toBe(1);
    expect(report.durationHistogram.find((b) => b.upToMs === 600_000)!.count).toBe(1);
    expect(report.queue).toEqual([{ project: 'app', paused: false, queued: 1, running: 0 }]);
    expect(report.tick).toEqual({ ticks: 7, lastTickMs: 12, lastTickAt: expect.any(Number), intervalS: expect.any(Number) });
    expect((await h.call('/stats?days=0')).status).toBe(400);
    expect((await h.call('/stats?days=1000')).status).toBe(400);
  });
});

describe('POST /tasks/:id/resolve', () => {
  it('settles a task that needs review as done, and refuses any other', async () => {
    const task = await createTask('Waits for a person');
    expect((await h.call(`/tasks/${task.id}/resolve`, { body: {} })).status).toBe(409);
    await moveTo(task, 'needs_review', 'merge conflict');
    const before = h.ticksRequested;
    const response = await h.call(`/tasks/${task.id}/resolve`, { body: { reason: 'merged by hand' } });
    expect(response.status).toBe(200);
    expect(await json<Task>(response)).toEqual(expect.objectContaining({ state: 'done', blockedReason: null }));
    expect(h.ticksRequested).toBe(before + 1);
    expect((await h.call(`/tasks/${task.id}/resolve`, { body: { bogus: 1 } })).status).toBe(400);
  });
});

describe('GET /tasks/:id/diff', () => {
  it('diffs the branch against its base in Orch clone, then falls back to the saved diff, then to none', async () => {
    const task = await createTask('Add a file');
    const repo = h.orch.config.projects.app!.path!;
    git(repo, ['checkout', '-q', '-b', `orch/${task.id}-add-a-file`]);
    writeFileSync(join(repo, 'added.txt'), 'hello\n');
    git(repo, ['add', 'added.txt']);
    git(repo, ['commit', '-q', '-m', 'add a file']);
    git(repo, ['checkout', '-q', 'main']);
    writeFileSync(join(repo, 'later.txt'), 'landed on main later\n');
    git(repo, ['add', 'later.txt']);
    git(repo, ['commit', '-q', '-m', 'main moves on']);
    const clone = clonePath(h.orch.home, 'app');
    mkdirSync(join(clone, '..'), { recursive: true });
    git(h.orch.home, ['clone', '-q', '--bare', repo, clone]);

    const live = await json<TaskDiff>(await h.call(`/tasks/${task.id}/diff`));
    expect(live).toEqual(expect.objectContaining({ source: 'branch', branch: `orch/${task.id}-add-a-file`, base: 'main', truncated: false }));
    expect(live.diff).toContain('+++ b/added.txt');
    expect(live.diff).not.toContain('later.txt');

    git(clone, ['branch', '-q', '-D', `orch/${task.id}-add-a-file`]);
    expect((await json<TaskDiff>(await h.call(`/tasks/${task.id}/diff`))).source).toBe('none');
    const run = await endedRun(task, 'claude', 'succeeded', 0, 1);
    mkdirSync(runDirectory(h.orch.home, run.id), { recursive: true });
    writeFileSync(join(runDirectory(h.orch.home, run.id), 'diff.patch'), 'diff --git a/x b/x\n');
    expect(await json<TaskDiff>(await h.call(`/tasks/${task.id}/diff`))).toEqual(expect.objectContaining({ source: 'saved', runId: run.id, diff: 'diff --git a/x b/x\n' }));
    // Merged, its branch not yet removed: main holds it, the branch shows nothing, and the judged diff is shown.
    git(clone, ['branch', '-q', `orch/${task.id}-add-a-file`, 'main']);
    expect(await json<TaskDiff>(await h.call(`/tasks/${task.id}/diff`))).toEqual(expect.objectContaining({ source: 'saved', runId: run.id }));
    expect((await h.call('/tasks/9999/diff')).status).toBe(404);
  });
});

describe('GET /runs/:id/verdict', () => {
  it('returns verdict.md as markdown, or 404 for a run never judged', async () => {
    const task = await createTask('Judged');
    const run = await endedRun(task, 'claude', 'succeeded', 0, 1);
    expect((await h.call(`/runs/${run.id}/verdict`)).status).toBe(404);
    mkdirSync(runDirectory(h.orch.home, run.id), { recursive: true });
    writeFileSync(join(runDirectory(h.orch.home, run.id), 'verdict.md'), '# Task #1\n\n**Verdict: passed**\n');
    const response = await h.call(`/runs/${run.id}/verdict`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await response.text()).toContain('**Verdict: passed**');
    expect((await h.call('/runs/9999/verdict')).status).toBe(404);
  });
});

describe('GET /runs/:id/log/:line', () => {
  it('returns one whole line of the agent output an event holds the start of, or 404 past its end', async () => {
    const task = await createTask('Talkative');
    const run = await endedRun(task, 'claude', 'succeeded', 0, 1);
    expect((await h.call(`/runs/${run.id}/log/1`)).status).toBe(404);
    mkdirSync(runDirectory(h.orch.home, run.id), { recursive: true });
    writeFileSync(join(runDirectory(h.orch.home, run.id), 'agent.jsonl'), `first\n${'z'.repeat(50_000)}\n`);
    const response = await h.call(`/runs/${run.id}/log/2`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('z'.repeat(50_000));
    expect((await h.call(`/runs/${run.id}/log/3`)).status).toBe(404);
    expect((await h.call(`/runs/${run.id}/log/0x1`)).status).toBe(400);
  });
});

describe('GET /events?unnamed=1', () => {
  it('sends store events without an event name, so EventSource.onmessage sees them all', async () => {
    await createTask('Streamed');
    const stream = await SseClient.connect(`${h.server.url}/events?after=0&unnamed=1`, { Authorization: `Bearer ${'a'.repeat(64)}` });
    try {
      const frame = await stream.waitFor((f) => f.data?.includes('task.created') ?? false);
      expect(frame.event).toBeUndefined();
      expect(JSON.parse(frame.data!)).toEqual(expect.objectContaining({ type: 'task.created' }));
      expect(stream.received()[0]!.event).toBe('ready');
    } finally {
      stream.close();
    }
    expect((await h.call('/events?unnamed=maybe')).status).toBe(400);
  });
});
