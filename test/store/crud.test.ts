import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { OrchEvent } from '../../src/core/types.js';
import { AlreadyExistsError, NotFoundError } from '../../src/store/store.js';
import { T0, addProject, createTask, expectRejection, storeKinds, useTempStore } from './fixtures.js';

describe.each(storeKinds)('on %s', (kind) => {
  const ctx = useTempStore(kind);

  describe('projects', () => {
    it('adds, reads, lists, pauses and removes a project', async () => {
      const { store } = ctx;
      const added = await store.addProject(
        {
          name: 'web',
          repoPath: '/repos/web',
          remoteUrl: 'git@example.com:web.git',
          defaultBranch: 'main',
        },
        T0,
      );
      expect(added).toEqual({
        name: 'web',
        repoPath: '/repos/web',
        remoteUrl: 'git@example.com:web.git',
        defaultBranch: 'main',
        paused: false,
        pausedReason: null,
        createdAt: T0,
        version: 1,
      });
      await addProject(store, 'api');
      expect(await store.getProject('web')).toEqual(added);
      expect((await store.listProjects()).map((project) => project.name)).toEqual(['api', 'web']);

      const paused = await store.setProjectPaused('web', true, 'budget spent', T0 + 1);
      expect(paused).toMatchObject({ paused: true, pausedReason: 'budget spent', version: 2 });
      const resumed = await store.setProjectPaused('web', false, null, T0 + 2, {
        type: 'project.unpaused',
      });
      expect(resumed).toMatchObject({ paused: false, pausedReason: null, version: 3 });

      expect(await store.removeProject('web', T0 + 3)).toBe(true);
      expect(await store.removeProject('web', T0 + 4)).toBe(false);
      expect(await store.getProject('web')).toBeUndefined();

      const events = await store.listEvents({ project: 'web' });
      expect(events.map((event) => [event.type, event.at])).toEqual([
        ['project.added', T0],
        ['project.paused', T0 + 1],
        ['project.unpaused', T0 + 2],
        ['project.removed', T0 + 3],
      ]);
    });

    it('refuses a duplicate name and names it', async () => {
      await addProject(ctx.store);
      await expectRejection(
        addProject(ctx.store),
        AlreadyExistsError,
        'project "web" already exists',
      );
    });

    it('refuses to pause an unknown project', async () => {
      await expectRejection(
        ctx.store.setProjectPaused('ghost', true, null, T0),
        NotFoundError,
        'project "ghost" not found',
      );
    });
  });

  describe('tasks', () => {
    it('creates a task with defaults and appends task.created', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      expect(task).toEqual({
        id: task.id,
        project: 'web',
        externalRef: null,
        title: 'Fix the login form',
        body: '',
        labels: [],
        priority: 0,
        role: 'implement',
        parentId: null,
        dependsOn: [],
        state: 'new',
        blockKind: null,
        blockedReason: null,
        agent: null,
        model: null,
        complexity: null,
        attempts: 0,
        nextAttemptAt: null,
        costUsd: 0,
        createdAt: T0,
        updatedAt: T0,
        pullRequest: null,
        version: 1,
      });
      expect(await store.getTask(task.id)).toEqual(task);
      const [event] = await store.listEvents({ taskId: task.id });
      expect(event).toMatchObject({ type: 'task.created', project: 'web', taskId: task.id, at: T0 });
    });

    it('stores every field given, with parent and dependencies', async () => {
      const { store } = ctx;
      await addProject(store);
      const parent = await createTask(store, { title: 'Epic' });
      const first = await createTask(store, { title: 'Schema' });
      const second = await createTask(store, { title: 'API' });
      const task = await store.createTask(
        {
          project: 'web',
          externalRef: 'GH-12',
          title: 'UI',
          body: 'Build the form',
          labels: ['frontend', 'orch'],
          priority: 5,
          role: 'test',
          parentId: parent.id,
          dependsOn: [second.id, first.id, second.id],
          state: 'blocked',
          blockKind: 'dependencies',
          blockedReason: 'waits on schema and API',
        },
        T0,
        { type: 'task.imported', data: { tracker: 'github' } },
      );
      expect(task).toMatchObject({
        externalRef: 'GH-12',
        body: 'Build the form',
        labels: ['frontend', 'orch'],
        priority: 5,
        role: 'test',
        parentId: parent.id,
        dependsOn: [first.id, second.id],
        state: 'blocked',
        blockKind: 'dependencies',
        blockedReason: 'waits on schema and API',
      });
      const events = await store.listEvents({ taskId: task.id });
      expect(events).toMatchObject([{ type: 'task.imported', data: { tracker: 'github' } }]);
    });

    it('names what is missing when creating a task', async () => {
      const { store } = ctx;
      await expectRejection(
        createTask(store, { project: 'ghost' }),
        NotFoundError,
        'project "ghost" not found',
      );
      await addProject(store);
      await expectRejection(
        createTask(store, { parentId: 41 }),
        NotFoundError,
        'parent task 41 not found',
      );
      const real = await createTask(store);
      await expectRejection(
        createTask(store, { dependsOn: [real.id, 42] }),
        NotFoundError,
        'dependency task 42 not found',
      );
      expect(await store.listTasks()).toHaveLength(1);
    });

    it('updates fields, bumps version and updated_at, and rewrites dependencies', async () => {
      const { store } = ctx;
      await addProject(store);
      const first = await createTask(store);
      const second = await createTask(store);
      const task = await createTask(store, { dependsOn: [first.id] });

      const updated = await store.updateTask(
        task.id,
        { expectedVersion: 1 },
        {
          state: 'routed',
          agent: 'claude',
          model: 'opus',
          complexity: 'medium',
          labels: ['x'],
          attempts: 2,
          nextAttemptAt: T0 + 60_000,
          costUsd: 1.25,
          dependsOn: [second.id],
        },
        T0 + 10,
        { type: 'task.routed', data: { agent: 'claude' } },
      );
      expect(updated).toMatchObject({
        state: 'routed',
        agent: 'claude',
        model: 'opus',
        complexity: 'medium',
        labels: ['x'],
        attempts: 2,
        nextAttemptAt: T0 + 60_000,
        costUsd: 1.25,
        dependsOn: [second.id],
        createdAt: T0,
        updatedAt: T0 + 10,
        version: 2,
      });
      expect(await store.getTask(task.id)).toEqual(updated);
      expect((await store.listTasks({ dependsOn: first.id })).map((t) => t.id)).toEqual([]);
      expect((await store.listTasks({ dependsOn: second.id })).map((t) => t.id)).toEqual([task.id]);

      const cleared = await store.updateTask(task.id, {}, { dependsOn: [] }, T0 + 20, {
        type: 'task.edited',
      });
      expect(cleared).toMatchObject({ dependsOn: [], version: 3 });
    });

    it('refuses to update an unknown task', async () => {
      const edit = { type: 'task.edited' };
      await expectRejection(
        ctx.store.updateTask(99, { expectedVersion: 1 }, { title: 'x' }, T0, edit),
        NotFoundError,
        'task 99 not found',
      );
      await expectRejection(
        ctx.store.updateTask(99, { fence: 1 }, { title: 'x' }, T0, edit),
        NotFoundError,
        'task 99 not found',
      );
    });

    it('filters tasks and counts them by state', async () => {
      const { store } = ctx;
      await addProject(store);
      await addProject(store, 'api');
      const parent = await createTask(store);
      const child = await createTask(store, { parentId: parent.id, state: 'routed' });
      const other = await createTask(store, { project: 'api', state: 'routed' });
      const ids = (tasks: { id: number }[]) => tasks.map((task) => task.id);

      expect(ids(await store.listTasks())).toEqual([parent.id, child.id, other.id]);
      expect(ids(await store.listTasks({ project: 'web' }))).toEqual([parent.id, child.id]);
      expect(ids(await store.listTasks({ states: ['routed'] }))).toEqual([child.id, other.id]);
      expect(ids(await store.listTasks({ states: [] }))).toEqual([]);
      expect(ids(await store.listTasks({ ids: [other.id, parent.id] }))).toEqual([
        parent.id,
        other.id,
      ]);
      expect(ids(await store.listTasks({ parentId: parent.id }))).toEqual([child.id]);
      expect(ids(await store.listTasks({ limit: 2 }))).toEqual([parent.id, child.id]);
      expect(ids(await store.listTasks({ project: 'web', states: ['routed'] }))).toEqual([child.id]);

      expect(await store.countTasksByState()).toEqual({ new: 1, routed: 2 });
      expect(await store.countTasksByState('api')).toEqual({ routed: 1 });
      expect(await store.countTasksByState('none')).toEqual({});
    });

    it('reads the tasks in some states narrowly, with their dependencies and children', async () => {
      const { store } = ctx;
      await addProject(store);
      const done = await createTask(store, { state: 'done' });
      const running = await createTask(store, { state: 'running' });
      const parent = await createTask(store, { labels: ['agent:claude'], priority: 3 });
      const child = await createTask(store, { parentId: parent.id, state: 'running' });
      const waiter = await createTask(store, { dependsOn: [running.id, done.id], state: 'blocked', blockKind: 'dependencies', blockedReason: `waits on #${running.id}` });

      expect(await store.listTaskSummaries(['new', 'blocked'])).toEqual([
        { id: parent.id, project: 'web', state: 'new', priority: 3, createdAt: T0, agent: null, labels: ['agent:claude'], nextAttemptAt: null, costUsd: 0, blockKind: null, blockedReason: null, parentId: null },
        { id: waiter.id, project: 'web', state: 'blocked', priority: 0, createdAt: T0, agent: null, labels: [], nextAttemptAt: null, costUsd: 0, blockKind: 'dependencies', blockedReason: `waits on #${running.id}`, parentId: null },
      ]);
      expect(await store.listWaits(['new', 'blocked'])).toEqual({
        dependencies: [
          { taskId: waiter.id, id: done.id, state: 'done', parentId: null },
          { taskId: waiter.id, id: running.id, state: 'running', parentId: null },
        ],
        children: [{ id: child.id, state: 'running', parentId: parent.id }],
      });
      expect(await store.listWaits(['running'])).toEqual({ dependencies: [], children: [] });
      expect(await store.listTaskSummaries([])).toEqual([]);
    });
  });

  describe('runs', () => {
    it('creates, updates, reads and lists runs', async () => {
      const { store } = ctx;
      await addProject(store);
      const task = await createTask(store);
      const claim = await store.claimTask({ taskId: task.id, owner: 'w1', leaseMs: 1000, now: T0 });
      if (!claim) throw new Error('claim refused');

      const run = await store.createRun(
        {
          taskId: task.id,
          project: 'web',
          attempt: 1,
          agent: 'claude',
          startedAt: T0 + 1,
          branch: 'orch/1',
        },
        claim.token,
      );
      expect(run).toEqual({
        id: run.id,
        taskId: task.id,
        project: 'web',
        attempt: 1,
        agent: 'claude',
        model: null,
        worktree: null,
        branch: 'orch/1',
        pid: null,
        host: null,
        sessionId: null,
        startedAt: T0 + 1,
        endedAt: null,
        outcome: null,
        endReason: null,
        exitCode: null,
        tokensIn: 0,
        tokensOut: 0,
        costUsd: 0,
        logPath: null,
        result: null,
      });
      expect((await store.getClaim(task.id))?.runId).toBe(run.id);

      const ended = await store.updateRun(run.id, claim.token, {
        pid: 4242,
        sessionId: 'sess-1',
        endedAt: T0 + 500,
        outcome: 'succeeded',
        endReason: 'merged',
        exitCode: 0,
        tokensIn: 1200,
        tokensOut: 300,
        costUsd: 0.42,
        result: { summary: 'done', files: ['a.ts'] },
      }, T0 + 500);
      expect(ended).toMatchObject({
        pid: 4242,
        sessionId: 'sess-1',
        endedAt: T0 + 500,
        outcome: 'succeeded',
        endReason: 'merged',
        tokensIn: 1200,
        result: { summary: 'done', files: ['a.ts'] },
      });
      expect(await store.getRun(run.id)).toEqual(ended);
      expect(await store.getRun(999)).toBeUndefined();

      const second = await store.createRun(
        { taskId: task.id, project: 'web', attempt: 2, agent: 'codex', startedAt: T0 + 600 },
        claim.token,
      );
      const ids = (runs: { id: number }[]) => runs.map((r) => r.id);
      expect(ids(await store.listRuns({ taskId: task.id }))).toEqual([run.id, second.id]);
      expect(ids(await store.listRuns({ open: true }))).toEqual([second.id]);
      expect(ids(await store.listRuns({ outcomes: ['succeeded'] }))).toEqual([run.id]);
      expect(ids(await store.listRuns({ outcomes: [null] }))).toEqual([second.id]);
      expect(ids(await store.listRuns({ outcomes: ['failed', null] }))).toEqual([second.id]);
      expect(ids(await store.listRuns({ outcomes: [] }))).toEqual([]);
      expect(ids(await store.listRuns({ project: 'web', limit: 1 }))).toEqual([run.id]);
      expect(ids(await store.listRuns({ startedAfter: T0 + 600 }))).toEqual([second.id]);

      const runEvents = await store.listEvents({ types: ['run.created', 'run.updated'] });
      expect(runEvents.map((event) => [event.type, event.runId, event.at])).toEqual([
        ['run.created', run.id, T0 + 1],
        ['run.updated', run.id, T0 + 500],
        ['run.created', second.id, T0 + 600],
      ]);
    });

    it('refuses to update an unknown run', async () => {
      await expectRejection(
        ctx.store.updateRun(7, null, { outcome: 'crashed' }, T0),
        NotFoundError,
        'run 7 not found',
      );
    });
  });

  describe('events', () => {
    it('appends events and filters them by cursor, project, task and type', async () => {
      const { store } = ctx;
      const first = await store.appendEvent({ type: 'daemon.started', data: { pid: 1 } }, T0);
      const second = await store.appendEvent({ type: 'note', project: 'web', taskId: 3 }, T0 + 1);
      const third = await store.appendEvent({ type: 'note', project: 'api', runId: 9 }, T0 + 2);

      expect(first).toEqual({
        id: first.id,
        at: T0,
        type: 'daemon.started',
        project: null,
        taskId: null,
        runId: null,
        data: { pid: 1 },
      });
      const ids = (events: { id: number }[]) => events.map((event) => event.id);
      expect(ids(await store.listEvents())).toEqual([first.id, second.id, third.id]);
      expect(ids(await store.listEvents({ afterId: first.id }))).toEqual([second.id, third.id]);
      expect(ids(await store.listEvents({ project: 'api' }))).toEqual([third.id]);
      expect(ids(await store.listEvents({ taskId: 3 }))).toEqual([second.id]);
      expect(ids(await store.listEvents({ types: ['note'] }))).toEqual([second.id, third.id]);
      expect(ids(await store.listEvents({ types: [] }))).toEqual([]);
      expect(ids(await store.listEvents({ afterId: first.id, limit: 1 }))).toEqual([second.id]);
    });

    it('appends many events in one call, each at its own time, in the order given', async () => {
      const { store } = ctx;
      const before = await store.appendEvent({ type: 'daemon.started' }, T0);
      // More than one INSERT's worth of rows, so the slices keep their order too.
      const batch = Array.from({ length: 1203 }, (_, i) => ({ event: { type: 'agent.assistant_text', project: 'web', taskId: 3, runId: 7, data: { text: `line ${i}` } }, at: T0 + 1 + i }));
      let committed = 0;
      const stop = store.onCommitted(() => committed++);
      const returned = await store.appendEvents(batch);
      stop();
      expect(committed).toBe(1); // one transaction
      expect(await store.appendEvents([])).toEqual([]);

      const stored = await store.listEvents({ afterId: before.id, limit: 2000 });
      expect(returned).toEqual(stored); // with their ids, as a read gives them
      expect(stored.map((event) => event.data.text)).toEqual(batch.map((item) => item.event.data.text));
      expect(stored.map((event) => event.at)).toEqual(batch.map((item) => item.at));
      expect(stored.every((event, i) => i === 0 || event.id > stored[i - 1]!.id)).toBe(true);
      expect(stored[0]).toMatchObject({ type: 'agent.assistant_text', project: 'web', taskId: 3, runId: 7 });
      expect(await store.latestEventId()).toBe(stored.at(-1)!.id);
    });

    it('tells its commit listeners the events each write stored, and after which cursor a reader reads each next', async () => {
      const { store } = ctx;
      const heard: (readonly OrchEvent[] | null)[] = [];
      const stop = store.onCommitted((stored) => heard.push(stored));
      const single = await store.appendEvent({ type: 'note', data: { n: 1 } }, T0);
      const batch = await store.appendEvents([1, 2, 3].map((n) => ({ event: { type: 'note', data: { n } }, at: T0 + n })));
      stop();
      expect(heard).toEqual([[single], batch]);

      for (const event of [single, ...batch]) {
        const before = await store.cursorBefore(event.id);
        expect(before).not.toBeNull();
        expect((await store.listEvents({ afterId: before!, limit: 1 }))[0]).toEqual(event);
      }
    });

    if (kind === 'postgres') {
      it('does not place an event while an older transaction that could add one before it is open', async () => {
        const { store } = ctx;
        const older = new pg.Client({ connectionString: ctx.location });
        await older.connect();
        try {
          await older.query('begin');
          await older.query("insert into events (at, type) values (1, 'older')");
          const [mine] = await store.appendEvents([{ event: { type: 'mine' }, at: T0 }]);
          expect(await store.cursorBefore(mine!.id)).toBeNull();
          await older.query('commit');
          const before = await store.cursorBefore(mine!.id);
          expect((await store.listEvents({ afterId: before!, limit: 1 }))[0]).toEqual(mine);
          expect((await store.listEvents({ afterId: before! }))).toEqual([mine]);
          expect((await store.listEvents({ afterId: 0 })).map((event) => event.type)).toEqual(['older', 'mine']);
        } finally {
          await older.end();
        }
      });
    }
  });

  describe('jobs', () => {
    it('adds, reads, lists, toggles, marks and removes jobs', async () => {
      const { store } = ctx;
      await addProject(store);
      const job = await store.addJob(
        {
          name: 'nightly-deps',
          project: 'web',
          schedule: '0 3 * * *',
          kind: 'task',
          spec: { title: 'Bump deps' },
        },
        T0,
      );
      expect(job).toEqual({
        id: job.id,
        name: 'nightly-deps',
        project: 'web',
        schedule: '0 3 * * *',
        kind: 'task',
        spec: { title: 'Bump deps' },
        enabled: true,
        lastRunAt: null,
        createdAt: T0,
      });
      await store.addJob(
        {
          name: 'audit',
          project: 'web',
          schedule: '@daily',
          kind: 'command',
          spec: {},
          enabled: false,
        },
        T0,
      );
      expect(await store.getJob('nightly-deps')).toEqual(job);
      expect((await store.listJobs('web')).map((j) => j.name)).toEqual(['audit', 'nightly-deps']);
      expect(await store.listJobs('api')).toEqual([]);

      expect((await store.setJobEnabled('audit', true, T0 + 4)).enabled).toBe(true);
      await store.markJobRun('nightly-deps', T0 + 5);
      expect((await store.getJob('nightly-deps'))?.lastRunAt).toBe(T0 + 5);

      expect(await store.removeJob('audit', T0 + 6)).toBe(true);
      expect(await store.removeJob('audit', T0 + 6)).toBe(false);
      expect((await store.listJobs()).map((j) => j.name)).toEqual(['nightly-deps']);

      const events = await store.listEvents({ project: 'web', types: ['job.added', 'job.ran'] });
      expect(events.map((event) => [event.type, event.data['name']])).toEqual([
        ['job.added', 'nightly-deps'],
        ['job.added', 'audit'],
        ['job.ran', 'nightly-deps'],
      ]);
    });

    it('refuses a duplicate name, an unknown project and unknown jobs', async () => {
      const { store } = ctx;
      const job = {
        name: 'nightly',
        project: 'web',
        schedule: '@daily',
        kind: 'task' as const,
        spec: {},
      };
      await expectRejection(store.addJob(job, T0), NotFoundError, 'project "web" not found');
      await addProject(store);
      await store.addJob(job, T0);
      await expectRejection(
        store.addJob(job, T0),
        AlreadyExistsError,
        'job "nightly" already exists',
      );
      await expectRejection(
        store.setJobEnabled('ghost', false, T0),
        NotFoundError,
        'job "ghost" not found',
      );
      await expectRejection(store.markJobRun('ghost', T0), NotFoundError, 'job "ghost" not found');
    });
  });

  describe('cooldowns', () => {
    it('keeps the longest cooldown per key and lists only those in force', async () => {
      const { store } = ctx;
      await store.setCooldown('claude', T0 + 60_000, 'HTTP 429', T0);
      await store.setCooldown('claude', T0 + 30_000, 'HTTP 429 again', T0 + 1);
      await store.setCooldown('codex/gpt-5', T0 + 10_000, 'quota', T0);
      expect((await store.activeCooldowns(T0 + 5_000)).map((c) => [c.key, c.until, c.reason])).toEqual([
        ['claude', T0 + 60_000, 'HTTP 429'],
        ['codex/gpt-5', T0 + 10_000, 'quota'],
      ]);
      expect((await store.activeCooldowns(T0 + 20_000)).map((c) => c.key)).toEqual(['claude']);
      const events = await store.listEvents({ types: ['agent.cooldown'] });
      expect(events.map((e) => e.data.key)).toEqual(['claude', 'codex/gpt-5']);
    });
  });

  describe('webhook deliveries', () => {
    const received = { type: 'webhook.received', data: { source: 'github', delivery: 'd-1' } };

    it('records a delivery once, with its event, and refuses the same id again without writing', async () => {
      const { store } = ctx;
      expect(await store.recordWebhookDelivery({ source: 'github', deliveryId: 'd-1' }, T0, { ...received, project: 'web' })).toBe(true);
      expect(await store.recordWebhookDelivery({ source: 'github', deliveryId: 'd-1' }, T0 + 1, received)).toBe(false);
      // Delivery ids are unique per sender only.
      expect(await store.recordWebhookDelivery({ source: 'linear', deliveryId: 'd-1' }, T0 + 2)).toBe(true);
      const events = await store.listEvents({ types: ['webhook.received'] });
      expect(events.map((e) => [e.project, e.data.delivery, e.at])).toEqual([['web', 'd-1', T0]]);
    });

    it('forgets deliveries received before a cutoff, so an old id is accepted again', async () => {
      const { store } = ctx;
      await store.recordWebhookDelivery({ source: 'github', deliveryId: 'old' }, T0);
      await store.recordWebhookDelivery({ source: 'github', deliveryId: 'new' }, T0 + 10);
      expect(await store.pruneWebhookDeliveries(T0 + 10)).toBe(1);
      expect(await store.pruneWebhookDeliveries(T0 + 10)).toBe(0);
      expect(await store.recordWebhookDelivery({ source: 'github', deliveryId: 'new' }, T0 + 20)).toBe(false);
      expect(await store.recordWebhookDelivery({ source: 'github', deliveryId: 'old' }, T0 + 20)).toBe(true);
    });

    it('records inside a caller transaction and rolls back with it', async () => {
      const { store } = ctx;
      await expect(
        store.transaction(async (tx) => {
          await tx.recordWebhookDelivery({ source: 'github', deliveryId: 'lost' }, T0, received);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.listEvents({ types: ['webhook.received'] })).toEqual([]);
      expect(await store.recordWebhookDelivery({ source: 'github', deliveryId: 'lost' }, T0)).toBe(true);
    });
  });
});
