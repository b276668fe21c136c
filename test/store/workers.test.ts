import { describe, expect, it } from 'vitest';
import { T0, addProject, createTask, storeKinds, useTempStore } from './fixtures.js';

describe.each(storeKinds)('pull workers in the store (%s)', (kind) => {
  const ctx = useTempStore(kind);

  it('records a worker from start to end, with an event at each step', async () => {
    const { store } = ctx;
    await addProject(store);
    const worker = await store.createWorker({ project: 'web', agent: 'claude', owner: 'host:1', host: 'host', startedAt: T0 });
    expect(worker).toMatchObject({ id: 1, project: 'web', agent: 'claude', owner: 'host:1', taskId: null, runId: null, endedAt: null, outcome: null });
    await store.updateWorker(worker.id, { pid: 42, worktree: '/w/1', branch: 'orch/w1' }, T0 + 1);
    const ended = await store.updateWorker(worker.id, { endedAt: T0 + 2, outcome: 'no_work', reason: 'nothing left' }, T0 + 2, { type: 'worker.ended' });
    expect(ended).toMatchObject({ pid: 42, worktree: '/w/1', branch: 'orch/w1', outcome: 'no_work', reason: 'nothing left', endedAt: T0 + 2 });
    expect((await store.listEvents({ project: 'web' })).filter((e) => e.type.startsWith('worker.')).map((e) => [e.type, e.data.worker])).toEqual([
      ['worker.started', 1],
      ['worker.updated', 1],
      ['worker.ended', 1],
    ]);
    expect(await store.listWorkers({ open: true })).toEqual([]);
    expect(await store.listWorkers({ open: false, endedAfter: T0 + 1 })).toEqual([ended]);
    expect(await store.listWorkers({ endedAfter: T0 + 2 })).toEqual([]);
  });

  it('gives a worker one task: a second assignment, or one after it ended, writes nothing', async () => {
    const { store } = ctx;
    await addProject(store);
    const [a, b] = [await createTask(store), await createTask(store, { title: 'Second' })];
    const worker = await store.createWorker({ project: 'web', agent: 'claude', owner: 'host:1', startedAt: T0 });
    const claim = (await store.claimTask({ taskId: a.id, owner: 'host:1', leaseMs: 1000, now: T0 }))!;
    const run = await store.createRun({ taskId: a.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 }, claim.token);
    expect(await store.assignWorkerTask(worker.id, { taskId: a.id, runId: run.id }, T0 + 5)).toMatchObject({ taskId: a.id, runId: run.id, claimedAt: T0 + 5 });
    expect(await store.assignWorkerTask(worker.id, { taskId: b.id, runId: run.id }, T0 + 6)).toBeNull();
    expect((await store.getWorker(worker.id))!.taskId).toBe(a.id);
    expect((await store.listEvents({ types: ['worker.claimed'] })).map((e) => [e.taskId, e.runId])).toEqual([[a.id, run.id]]);

    const other = await store.createWorker({ project: 'web', agent: 'claude', owner: 'host:1', startedAt: T0 });
    await store.updateWorker(other.id, { endedAt: T0 + 1, outcome: 'no_work' }, T0 + 1);
    expect(await store.assignWorkerTask(other.id, { taskId: b.id, runId: run.id }, T0 + 2)).toBeNull();
  });

  it('removes a project with its workers', async () => {
    const { store } = ctx;
    await addProject(store);
    await store.createWorker({ project: 'web', agent: 'claude', owner: 'host:1', startedAt: T0 });
    await store.removeProject('web', T0 + 1);
    expect(await store.listWorkers()).toEqual([]);
  });
});
