import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/core/types.js';
import {
  NotFoundError,
  StaleFenceError,
  StoreError,
  VersionConflictError,
} from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { T0, addProject, createTask, expectRejection, storeKinds, useTempStore } from './fixtures.js';

describe.each(storeKinds)('on %s', (kind) => {
  const ctx = useTempStore(kind);

  async function claim(store: Store, taskId: number, now = T0, leaseMs = 30_000): Promise<Claim> {
    const claimed = await store.claimTask({ taskId, owner: 'worker-1', leaseMs, now });
    if (!claimed) throw new Error(`task ${taskId} was already claimed`);
    return claimed;
  }

  async function eventCount(store: Store): Promise<number> {
    return (await store.listEvents()).length;
  }

  const edited = { type: 'task.edited' };

  describe('compare-and-set on tasks', () => {
    it('refuses a stale version, names both versions and writes nothing', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const current = await store.updateTask(task.id, {}, { priority: 3 }, T0, edited);
      const before = await eventCount(store);

      await expectRejection(
        store.updateTask(task.id, { expectedVersion: 1 }, { title: 'lost' }, T0 + 2, edited),
        VersionConflictError,
        `task ${task.id} changed since it was read (version 1, now 2)`,
      );
      expect(await store.getTask(task.id)).toEqual(current);
      expect(await eventCount(store)).toBe(before);
    });

    it('rolls the update back when its event cannot be written', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const before = await eventCount(store);
      const unserializable = { type: 'task.edited', data: { size: 1n } };

      await expect(
        store.updateTask(task.id, { expectedVersion: 1 }, { title: 'never' }, T0 + 1, unserializable),
      ).rejects.toThrow(TypeError);
      expect(await store.getTask(task.id)).toEqual(task);
      expect(await eventCount(store)).toBe(before);
    });

    it('refuses unknown dependencies before writing anything', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const before = await eventCount(store);

      await expectRejection(
        store.updateTask(task.id, {}, { title: 'x', dependsOn: [77] }, T0 + 1, edited),
        NotFoundError,
        'dependency task 77 not found',
      );
      expect(await store.getTask(task.id)).toEqual(task);
      expect(await eventCount(store)).toBe(before);
    });
  });

  describe('transactions', () => {
    it('commits everything fn did together and returns its value', async () => {
      const { store } = ctx;
      await addProject(store);
      const id = await store.transaction(async (tx) => {
        const task = await createTask(tx);
        await tx.updateTask(task.id, { expectedVersion: 1 }, { state: 'routed' }, T0 + 1, edited);
        return task.id;
      });
      expect((await store.getTask(id))?.state).toBe('routed');
      expect((await store.listEvents({ taskId: id })).map((event) => event.type)).toEqual([
        'task.created',
        'task.edited',
      ]);
    });

    it('rolls everything back when fn throws, and rethrows', async () => {
      const { store } = ctx;
      await addProject(store);
      const before = await eventCount(store);
      await expect(
        store.transaction(async (tx) => {
          await createTask(tx);
          await tx.appendEvent({ type: 'note' }, T0);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await store.listTasks()).toEqual([]);
      expect(await eventCount(store)).toBe(before);
    });

    it('refuses a call on the store itself from inside its transaction (no deadlock)', async () => {
      const { store } = ctx;
      await addProject(store);
      await expectRejection(
        store.transaction(() => store.listTasks()),
        StoreError,
        'store called inside its own transaction; use the tx passed to fn',
      );
    });

    it('tells task listeners after commit, in order, and never of a rolled-back write', async () => {
      const { store } = ctx;
      await addProject(store);
      const heard: [number, string][] = [];
      const unsubscribe = store.onTaskWritten((task) => heard.push([task.id, task.state]));
      const task = await store.transaction(async (tx) => {
        const created = await createTask(tx);
        await tx.updateTask(created.id, { expectedVersion: 1 }, { state: 'routed' }, T0 + 1, edited);
        expect(heard).toEqual([]);
        return created;
      });
      await expect(
        store.transaction(async (tx) => {
          await createTask(tx);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      unsubscribe();
      await createTask(store);
      expect(heard).toEqual([
        [task.id, 'new'],
        [task.id, 'routed'],
      ]);
    });

    it('serializes concurrent calls on one store', async () => {
      const { store } = ctx;
      await addProject(store);
      const tasks = await Promise.all(Array.from({ length: 20 }, () => createTask(store)));
      expect(new Set(tasks.map((task) => task.id)).size).toBe(20);
    });
  });

  describe('claims', () => {
    it('grants one claim per task and refuses the next, expired or not', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const first = await claim(store, task.id, T0, 1000);
      expect(first).toEqual({
        taskId: task.id,
        runId: null,
        owner: 'worker-1',
        token: first.token,
        leaseUntil: T0 + 1000,
        claimedAt: T0,
      });
      const rival = { taskId: task.id, owner: 'worker-2', leaseMs: 1000 };
      expect(await store.claimTask({ ...rival, now: T0 })).toBeNull();
      expect(await store.claimTask({ ...rival, now: T0 + 5000 })).toBeNull();
      expect(await store.getClaim(task.id)).toEqual(first);

      const events = await store.listEvents({ types: ['claim.acquired'] });
      expect(events).toMatchObject([
        { project: 'web', taskId: task.id, at: T0, data: { owner: 'worker-1', token: first.token } },
      ]);
    });

    it('refuses to claim an unknown task', async () => {
      await expectRejection(
        ctx.store.claimTask({ taskId: 99, owner: 'w', leaseMs: 1000, now: T0 }),
        NotFoundError,
        'task 99 not found',
      );
    });

    it('claims the first free task of a list, in its order, and lists the tasks no one holds', async () => {
      const { store } = ctx;
      await addProject(store);
      const [a, b, c] = [await createTask(store), await createTask(store), await createTask(store)];
      await claim(store, b.id);
      const request = { owner: 'worker-2', leaseMs: 1000, now: T0 };
      // Held ones and ids that are no task are passed over.
      const first = await store.claimFirstFree({ ...request, taskIds: [999, b.id, c.id, a.id] });
      expect(first).toMatchObject({ taskId: c.id, owner: 'worker-2', leaseUntil: T0 + 1000 });
      expect((await store.listTasks({ unclaimed: true })).map((task) => task.id)).toEqual([a.id]);
      expect((await store.claimFirstFree({ ...request, taskIds: [b.id, c.id, a.id] }))?.taskId).toBe(a.id);
      expect(await store.claimFirstFree({ ...request, taskIds: [a.id, b.id, c.id] })).toBeNull();
      expect(await store.claimFirstFree({ ...request, taskIds: [] })).toBeNull();
      expect(await store.listTasks({ unclaimed: true })).toEqual([]);
      const acquired = await store.listEvents({ types: ['claim.acquired'] });
      expect(acquired.map((event) => [event.taskId, event.data['owner']])).toEqual([[b.id, 'worker-1'], [c.id, 'worker-2'], [a.id, 'worker-2']]);
    });

    it('hands out strictly increasing tokens, also after release and across reopen', async () => {
      const { store } = ctx;
      await addProject(store);
      const a = await createTask(store);
      const b = await createTask(store);
      const tokens: number[] = [];
      for (const taskId of [a.id, b.id, a.id]) {
        const claimed = await claim(store, taskId);
        tokens.push(claimed.token);
        expect(await store.releaseClaim(taskId, claimed.token, T0)).toBe(true);
      }
      await store.close();
      ctx.store = await ctx.open();
      tokens.push((await claim(ctx.store, b.id)).token);

      expect(new Set(tokens).size).toBe(tokens.length);
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    });

    it('renews and releases only with the live token', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const live = await claim(store, task.id, T0, 1000);

      expect(await store.renewClaim(task.id, live.token + 1, T0 + 9000)).toBe(false);
      expect(await store.renewClaim(task.id, live.token, T0 + 2000)).toBe(true);
      expect((await store.getClaim(task.id))?.leaseUntil).toBe(T0 + 2000);

      expect(await store.releaseClaim(task.id, live.token + 1, T0)).toBe(false);
      expect(await store.getClaim(task.id)).toBeDefined();
      const expired = { type: 'claim.expired' };
      expect(await store.releaseClaim(task.id, live.token, T0 + 3000, expired)).toBe(true);
      expect(await store.getClaim(task.id)).toBeUndefined();
      expect(await store.releaseClaim(task.id, live.token, T0 + 3000)).toBe(false);
      expect(await store.renewClaim(task.id, live.token, T0 + 9000)).toBe(false);

      const [released] = await store.listEvents({ types: ['claim.expired'] });
      expect(released).toMatchObject({ project: 'web', taskId: task.id, at: T0 + 3000 });
    });

    it('lists claims by project and finds the expired ones', async () => {
      const { store } = ctx;
      await addProject(store);
      await addProject(store, 'api');
      const short = await createTask(store);
      const long = await createTask(store);
      const elsewhere = await createTask(store, { project: 'api' });
      await claim(store, short.id, T0, 1000);
      await claim(store, long.id, T0, 5000);
      await claim(store, elsewhere.id, T0, 500);

      const taskIds = (claims: Claim[]) => claims.map((c) => c.taskId);
      expect(taskIds(await store.listClaims())).toEqual([short.id, long.id, elsewhere.id]);
      expect(taskIds(await store.listClaims('web'))).toEqual([short.id, long.id]);
      expect(await store.expiredClaims(T0 + 500)).toEqual([]);
      expect(taskIds(await store.expiredClaims(T0 + 501))).toEqual([elsewhere.id]);
      expect(taskIds(await store.expiredClaims(T0 + 1001))).toEqual([elsewhere.id, short.id]);
    });
  });

  describe('fencing', () => {
    it('refuses a task write with a stale token or without a claim, writing nothing', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      await expectRejection(
        store.updateTask(task.id, { fence: 1 }, { state: 'running' }, T0, edited),
        StaleFenceError,
        `fencing token 1 is stale for task ${task.id}: the task has no claim`,
      );
      const live = await claim(store, task.id);
      const before = await eventCount(store);

      const staleGuard = { fence: live.token - 1, expectedVersion: 1 };
      await expectRejection(
        store.updateTask(task.id, staleGuard, { state: 'running' }, T0, edited),
        StaleFenceError,
        `fencing token ${live.token - 1} is stale for task ${task.id}: ` +
          `the live claim has token ${live.token}`,
      );
      expect(await store.getTask(task.id)).toEqual(task);
      expect(await eventCount(store)).toBe(before);

      const liveGuard = { fence: live.token };
      const running = await store.updateTask(task.id, liveGuard, { state: 'running' }, T0, edited);
      expect(running).toMatchObject({ state: 'running', version: 2 });
    });

    it('refuses to create or update a run with a stale token, writing nothing', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const first = await claim(store, task.id);
      const newRun = { taskId: task.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 };
      const run = await store.createRun(newRun, first.token);
      await store.releaseClaim(task.id, first.token, T0 + 1);
      const second = await claim(store, task.id, T0 + 2);
      const before = await eventCount(store);

      const refusal =
        `fencing token ${first.token} is stale for task ${task.id}: ` +
        `the live claim has token ${second.token}`;
      await expectRejection(
        store.createRun({ ...newRun, attempt: 2 }, first.token),
        StaleFenceError,
        refusal,
      );
      await expectRejection(
        store.updateRun(run.id, first.token, { outcome: 'succeeded', endedAt: T0 + 3 }, T0 + 3),
        StaleFenceError,
        refusal,
      );
      expect(await store.listRuns()).toEqual([run]);
      expect((await store.getClaim(task.id))?.runId).toBeNull();
      expect(await eventCount(store)).toBe(before);
    });

    it('lets recovery close a run with a null fence after its claim is gone', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const live = await claim(store, task.id);
      const run = await store.createRun(
        { taskId: task.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 },
        live.token,
      );
      await store.releaseClaim(task.id, live.token, T0 + 1);

      const closed = await store.updateRun(
        run.id,
        null,
        { outcome: 'crashed', endedAt: T0 + 2 },
        T0 + 2,
        { type: 'run.recovered' },
      );
      expect(closed).toMatchObject({ outcome: 'crashed', endedAt: T0 + 2 });
      const [event] = await store.listEvents({ types: ['run.recovered'] });
      expect(event).toMatchObject({ runId: run.id, taskId: task.id, project: 'web', at: T0 + 2 });
    });

    it('refuses the first holder once its expired lease was released and reclaimed', async () => {
      const { store: holder } = ctx;
      await addProject(holder);
      const task = await createTask(holder);
      const stale = await claim(holder, task.id, T0, 1000);
      const run = await holder.createRun(
        { taskId: task.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 },
        stale.token,
      );

      // A second connection to the same file stands for another process: patrol, then a new owner.
      const other = await ctx.open();
      try {
        const later = T0 + 5000;
        const [expired] = await other.expiredClaims(later);
        expect(expired).toMatchObject({ taskId: task.id, token: stale.token, runId: run.id });
        const expiry = { type: 'claim.expired' };
        expect(await other.releaseClaim(task.id, stale.token, later, expiry)).toBe(true);
        const fresh = await other.claimTask({
          taskId: task.id,
          owner: 'worker-2',
          leaseMs: 1000,
          now: later,
        });
        expect(fresh?.token).toBeGreaterThan(stale.token);

        await expect(
          holder.updateTask(task.id, { fence: stale.token }, { state: 'judging' }, later, edited),
        ).rejects.toBeInstanceOf(StaleFenceError);
        await expect(
          holder.updateRun(run.id, stale.token, { outcome: 'succeeded' }, later),
        ).rejects.toBeInstanceOf(StaleFenceError);
        await expect(
          holder.createRun(
            { taskId: task.id, project: 'web', attempt: 2, agent: 'claude', startedAt: later },
            stale.token,
          ),
        ).rejects.toBeInstanceOf(StaleFenceError);
        expect(await holder.renewClaim(task.id, stale.token, later + 1000)).toBe(false);
        expect(await holder.releaseClaim(task.id, stale.token, later)).toBe(false);

        expect(await other.getTask(task.id)).toEqual(task);
        expect(await other.getClaim(task.id)).toEqual(fresh);
      } finally {
        await other.close();
      }
    });
  });

  describe('removing a project', () => {
    it('cascades to its tasks, deps, runs, claims and jobs, and keeps its events', async () => {
      const { store } = ctx;
      await addProject(store);
      await addProject(store, 'api');
      const parent = await createTask(store);
      const child = await createTask(store, { parentId: parent.id, dependsOn: [parent.id] });
      const live = await claim(store, child.id);
      await store.createRun(
        { taskId: child.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 },
        live.token,
      );
      await store.addJob(
        { name: 'nightly', project: 'web', schedule: '@daily', kind: 'task', spec: {} },
        T0,
      );
      const survivor = await createTask(store, { project: 'api', dependsOn: [parent.id] });
      const webEvents = await store.listEvents({ project: 'web' });

      expect(await store.removeProject('web', T0 + 10)).toBe(true);

      for (const table of ['task_deps', 'runs', 'claims', 'jobs']) expect(await ctx.countRows(table), table).toBe(0);
      expect(await ctx.countRows('tasks')).toBe(1);
      expect(await store.getTask(survivor.id)).toMatchObject({ project: 'api', dependsOn: [] });

      const after = await store.listEvents({ project: 'web' });
      expect(after.slice(0, webEvents.length)).toEqual(webEvents);
      expect(after.slice(webEvents.length)).toMatchObject([
        { type: 'project.removed', project: 'web', at: T0 + 10 },
      ]);
    });
  });
});
