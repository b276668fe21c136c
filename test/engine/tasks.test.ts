import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { OrchError } from '../../src/core/errors.js';
import { IllegalTransitionError } from '../../src/core/lifecycle.js';
import type { Task } from '../../src/core/types.js';
import { addDependencies, addTask, cancelTask, retryTask, taskTree, unblockTask } from '../../src/engine/tasks.js';
import { dryRunTick, gatherTickInput } from '../../src/engine/tick-input.js';
import { applyTransition } from '../../src/engine/transitions.js';
import { settleWaits } from '../../src/engine/wait-graph.js';
import type { Store } from '../../src/store/store.js';
import { T0, addProject, useTempStore } from '../store/fixtures.js';

const ctx = useTempStore();

async function finish(store: Store, id: number): Promise<Task> {
  let task = (await store.getTask(id))!;
  for (const step of ['route', 'start', 'judge', 'merge', 'finish'] as const) {
    task = await applyTransition(store, task, step, { now: T0 + 10 });
  }
  await settleWaits(store, T0 + 10);
  return task;
}

const state = async (store: Store, id: number) => (await store.getTask(id))!.state;

describe('the local backlog', () => {
  it('blocks a task on its dependencies and unblocks it once they are done', async () => {
    const { store } = ctx;
    await addProject(store);
    const a = await addTask(store, { project: 'web', title: 'A' }, T0);
    const b = await addTask(store, { project: 'web', title: 'B' }, T0);
    const c = await addTask(store, { project: 'web', title: 'C', dependsOn: [a.id, b.id] }, T0);
    expect(c).toMatchObject({ state: 'blocked', blockKind: 'dependencies', blockedReason: `waits on #${a.id}, #${b.id}` });

    await finish(store, a.id);
    await cancelTask(store, b.id, T0 + 20); // settles waits: still waiting on b, which will never be done
    expect(await store.getTask(c.id)).toMatchObject({ state: 'blocked', blockedReason: `waits on #${b.id}` });

    await retryTask(store, b.id, T0 + 30);
    await finish(store, b.id);
    expect(await state(store, c.id)).toBe('new');
    const events = await store.listEvents({ taskId: c.id });
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.waits', 'task.unblock']);
  });

  it('holds a parent until its children settle, and refuses cycles through the family', async () => {
    const { store } = ctx;
    await addProject(store);
    const epic = await addTask(store, { project: 'web', title: 'Epic' }, T0);
    const part = await addTask(store, { project: 'web', title: 'Part', parentId: epic.id }, T0);
    expect(await store.getTask(epic.id)).toMatchObject({ state: 'blocked', blockKind: 'children' });
    await expect(addTask(store, { project: 'web', title: 'Loop', parentId: epic.id, dependsOn: [epic.id] }, T0)).rejects.toThrow(
      'dependency cycle: the new task → #1 → the new task',
    );
    await expect(addDependencies(store, part.id, [epic.id], T0)).rejects.toThrow(`dependency cycle: #${part.id} → #${epic.id} → #${part.id}`);
    await finish(store, part.id);
    expect(await state(store, epic.id)).toBe('new');
    const tree = await taskTree(store, { project: 'web' });
    expect(tree.map((n) => [n.task.id, n.children.map((c) => c.task.id)])).toEqual([[epic.id, [part.id]]]);
  });

  it('refuses what cannot be done, and writes nothing when it does', async () => {
    const { store } = ctx;
    await addProject(store);
    const a = await addTask(store, { project: 'web', title: 'A' }, T0);
    const before = (await store.listEvents()).length;
    await expect(addTask(store, { project: 'nope', title: 'X' }, T0)).rejects.toThrow('project "nope" not found');
    await expect(addTask(store, { project: 'web', title: 'X\nY' }, T0)).rejects.toThrow('one line');
    await expect(addTask(store, { project: 'web', title: 'X', dependsOn: [a.id, 42] }, T0)).rejects.toThrow('dependency task 42 not found');
    await expect(unblockTask(store, a.id, T0)).rejects.toThrow(`task ${a.id} is new, not blocked`);
    await expect(retryTask(store, a.id, T0)).rejects.toThrow('already queued');
    await finish(store, a.id);
    const afterFinish = (await store.listEvents()).length;
    await expect(cancelTask(store, a.id, T0)).rejects.toBeInstanceOf(OrchError);
    await expect(applyTransition(store, (await store.getTask(a.id))!, 'start', { now: T0 })).rejects.toBeInstanceOf(IllegalTransitionError);
    expect((await store.listEvents()).length).toBe(afterFinish);
    expect(afterFinish).toBeGreaterThan(before);
  });

  it('makes a task in backoff due at once on retry', async () => {
    const { store } = ctx;
    await addProject(store);
    const a = await addTask(store, { project: 'web', title: 'A' }, T0);
    await store.updateTask(a.id, { expectedVersion: a.version }, { nextAttemptAt: T0 + 60_000 }, T0, { type: 'test.backoff' });
    expect((await retryTask(store, a.id, T0 + 1)).nextAttemptAt).toBeNull();
  });

  it('lifts an agent block on unblock, and a dependency wait only with force', async () => {
    const { store } = ctx;
    await addProject(store);
    const a = await addTask(store, { project: 'web', title: 'A' }, T0);
    const b = await addTask(store, { project: 'web', title: 'B', dependsOn: [a.id] }, T0);
    const routed = await applyTransition(store, a, 'route', { now: T0 });
    await applyTransition(store, routed, 'block', { now: T0, patch: { blockKind: 'agent', blockedReason: 'needs an API key' } });
    expect(await unblockTask(store, a.id, T0)).toMatchObject({ state: 'new', blockKind: null });
    await expect(unblockTask(store, b.id, T0)).rejects.toThrow('--force');
    expect(await unblockTask(store, b.id, T0, { force: true })).toMatchObject({ state: 'new', dependsOn: [] });
    const unblock = (await store.listEvents({ taskId: b.id, types: ['task.unblock'] }))[0]!;
    expect(unblock.data).toMatchObject({ droppedDependencies: [a.id] });
  });
});

describe('gathering the tick', () => {
  it('counts runs, claims, spend and review load per project', async () => {
    const { store } = ctx;
    await addProject(store, 'web');
    await addProject(store, 'api');
    const config = resolveConfig({
      home: '/h',
      path: '/h/config.yaml',
      data: {
        scheduler: { max_agents: 3 },
        projects: {
          web: { path: '/repos/web', budget: { daily_usd: 5 } },
          api: { path: '/repos/api', backpressure: { max_needs_review: 1 } },
        },
      },
    });
    const added = await addTask(store, { project: 'web', title: 'running' }, T0);
    const running = await applyTransition(store, added, 'route', { now: T0, patch: { agent: 'claude' } });
    const claim = (await store.claimTask({ taskId: running.id, owner: 'test', leaseMs: 60_000, now: T0 }))!;
    const run = await store.createRun({ taskId: running.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 }, claim.token);
    await store.updateRun(run.id, claim.token, { costUsd: 2.5 }, T0);
    const review = await addTask(store, { project: 'api', title: 'review me' }, T0);
    await applyTransition(store, review, 'escalate', { now: T0 });
    const waiting = await addTask(store, { project: 'api', title: 'waits' }, T0);
    const web = await addTask(store, { project: 'web', title: 'ready' }, T0);

    // The claim's owner is this host: it takes one of its slots.
    const input = await gatherTickInput(store, config, T0 + 1000, 'test');
    expect(input.running).toBe(1);
    // Another host's claim takes none of this one's slots, but counts for its project and agent all the same.
    const elsewhere = await gatherTickInput(store, config, T0 + 1000, 'other-host:1');
    expect(elsewhere.running).toBe(0);
    expect(elsewhere.projects.get('web')).toMatchObject({ running: 1 });
    expect(elsewhere.agents.get('claude')).toMatchObject({ running: 1 });
    expect(input.maxAgents).toBe(3);
    expect(input.claimedTaskIds).toEqual(new Set([running.id]));
    expect(input.projects.get('web')).toMatchObject({ running: 1, spentTodayUsd: 2.5, budget: { dailyUsd: 5 } });
    expect(input.projects.get('api')!.backpressure).toMatchObject({ needsReview: 1, maxNeedsReview: 1 });
    expect(input.agents.get('claude')).toMatchObject({ running: 1 });

    const dry = await dryRunTick(store, config, T0 + 1000);
    expect(dry.plan.starts.map((s) => s.taskId)).toEqual([running.id, web.id].filter((id) => id === web.id));
    expect(dry.plan.waiting).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ taskId: running.id, reason: 'claimed' }),
        expect.objectContaining({ taskId: waiting.id, reason: 'backpressure' }),
      ]),
    );
    const apiOnly = await dryRunTick(store, config, T0 + 1000, 'api');
    expect(apiOnly.plan.starts).toEqual([]);
    expect(apiOnly.plan.waiting.map((w) => w.taskId)).toEqual([waiting.id]);
  });
});
