import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareForDispatch } from '../../src/core/ordering.js';
import { claimableTasks, planTick, type TickAgent, type TickInput, type TickProject, type TickTask } from '../../src/core/plan-tick.js';
import { TASK_STATES } from '../../src/core/types.js';

// Pull mode in the tick: a pull project's tasks are never started; it gets workers instead, as many as
// its ready tasks exceed the workers already looking, within the same limits as tasks.

const NOW = 1_000_000;
const AGENTS = ['claude', 'codex'];
const PROJECTS = ['api', 'web', 'docs'];

const projectArb = (name: string): fc.Arbitrary<TickProject> =>
  fc
    .record({
      priority: fc.integer({ min: -1, max: 2 }),
      paused: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      maxAgents: fc.integer({ min: 1, max: 5 }),
      agents: fc.subarray(AGENTS, { minLength: 0 }),
      running: fc.integer({ min: 0, max: 4 }),
      mode: fc.constantFrom('push' as const, 'pull' as const),
      idle: fc.integer({ min: 0, max: 3 }),
      dailyUsd: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      taskUsd: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
      spentTodayUsd: fc.integer({ min: 0, max: 20 }),
    })
    .map((r) => ({
      name,
      priority: r.priority,
      paused: r.paused,
      maxAgents: r.maxAgents,
      agents: r.agents,
      running: r.running,
      mode: r.mode,
      // Idle workers are part of what runs, and only pull projects have them.
      idleWorkers: r.mode === 'pull' ? Math.min(r.idle, r.running) : 0,
      budget: { dailyUsd: r.dailyUsd, taskUsd: r.taskUsd, runUsd: null },
      spentTodayUsd: r.spentTodayUsd,
      backpressure: { openPrs: 0, needsReview: 0 },
    }));

const agentArb: fc.Arbitrary<TickAgent> = fc.record({
  maxConcurrent: fc.integer({ min: 0, max: 6 }),
  running: fc.integer({ min: 0, max: 4 }),
  coolingUntil: fc.option(fc.integer({ min: NOW - 1000, max: NOW + 1000 }), { nil: null, freq: 4 }),
});

const taskArb = (id: number): fc.Arbitrary<TickTask> =>
  fc.record({
    id: fc.constant(id),
    project: fc.constantFrom(...PROJECTS),
    state: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('new' as const, 'routed' as const) }, { weight: 1, arbitrary: fc.constantFrom(...TASK_STATES) }),
    priority: fc.integer({ min: -1, max: 2 }),
    createdAt: fc.integer({ min: 0, max: 50 }),
    agent: fc.option(fc.constantFrom(...AGENTS), { nil: null, freq: 2 }),
    nextAttemptAt: fc.option(fc.integer({ min: NOW - 5000, max: NOW + 5000 }), { nil: null, freq: 3 }),
    costUsd: fc.integer({ min: 0, max: 6 }),
    waitingOn: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.nat(40), { minLength: 1, maxLength: 2 }) }),
  });

const inputArb: fc.Arbitrary<TickInput> = fc
  .record({
    maxAgents: fc.integer({ min: 0, max: 12 }),
    extraRunning: fc.integer({ min: 0, max: 3 }),
    projects: fc.tuple(...PROJECTS.map(projectArb)),
    agents: fc.tuple(...AGENTS.map(() => agentArb)),
    taskCount: fc.integer({ min: 0, max: 40 }),
    claimSeed: fc.array(fc.nat(45), { maxLength: 10 }),
  })
  .chain((r) =>
    fc.tuple(...Array.from({ length: r.taskCount }, (_, i) => taskArb(i + 1))).map((tasks) => ({
      now: NOW,
      maxAgents: r.maxAgents,
      running: r.projects.reduce((sum, p) => sum + p.running, 0) + r.extraRunning,
      tasks,
      claimedTaskIds: new Set(r.claimSeed),
      projects: new Map(r.projects.map((p) => [p.name, p])),
      agents: new Map(AGENTS.map((name, i) => [name, r.agents[i]!])),
    })),
  );

const claimableIn = (input: TickInput, project: string) => claimableTasks(input).claimable.filter((t) => t.project === project).length;

describe('planTick in pull mode', () => {
  const pullProject = (extra: Partial<TickProject> = {}): TickProject => ({
    name: 'api', priority: 0, paused: false, maxAgents: 3, agents: ['claude'], running: 0, mode: 'pull', idleWorkers: 0,
    budget: {}, spentTodayUsd: 0, backpressure: { openPrs: 0, needsReview: 0 }, ...extra,
  });
  const task = (id: number, extra: Partial<TickTask> = {}): TickTask => ({
    id, project: 'api', state: 'new', priority: 0, createdAt: id, agent: null, nextAttemptAt: null, costUsd: 0, waitingOn: [], ...extra,
  });
  const input = (project: TickProject, tasks: TickTask[], maxAgents = 4): TickInput => ({
    now: NOW, maxAgents, running: project.running, tasks, claimedTaskIds: new Set([5]),
    projects: new Map([[project.name, project]]),
    agents: new Map([['claude', { maxConcurrent: 10, running: project.running, coolingUntil: null }]]),
  });

  it('starts workers instead of tasks, one per ready task beyond the workers already looking', () => {
    const tasks = [task(1), task(2), task(3, { waitingOn: [9] }), task(4, { nextAttemptAt: NOW + 1000 }), task(5), task(6)];
    const plan = planTick(input(pullProject({ running: 1, idleWorkers: 1 }), tasks), { explain: true });
    // Ready and unclaimed: 1, 2, 6. One worker already looks; the project has room for two more.
    expect(plan.starts).toEqual([]);
    expect(plan.workers).toEqual([
      { project: 'api', agent: 'claude', runCapUsd: null },
      { project: 'api', agent: 'claude', runCapUsd: null },
    ]);
    expect(plan.waiting.map((w) => [w.taskId, w.reason])).toEqual([
      [1, 'awaiting_worker'],
      [2, 'awaiting_worker'],
      [3, 'waiting_on_dependencies'],
      [4, 'backoff'],
      [5, 'claimed'],
      [6, 'awaiting_worker'],
    ]);
  });

  it('starts no worker while the workers already looking outnumber the ready tasks', () => {
    expect(planTick(input(pullProject({ running: 2, idleWorkers: 2 }), [task(1), task(2)])).workers).toEqual([]);
    expect(planTick(input(pullProject({ paused: true }), [task(1), task(2)])).workers).toEqual([]);
  });

  it('lists what a worker may claim in dispatch order, whatever the slots', () => {
    const tasks = [task(1), task(2, { priority: 3 }), task(3, { state: 'running' }), task(5), task(6)];
    const full = input(pullProject({ running: 3, idleWorkers: 3, maxAgents: 3 }), tasks, 3);
    expect(planTick(full).workers).toEqual([]);
    const { claimable, waiting } = claimableTasks(full);
    expect(claimable.map((t) => t.id)).toEqual([2, 1, 6]);
    expect(waiting.map((w) => [w.taskId, w.reason])).toEqual([
      [3, 'not_dispatchable'],
      [5, 'claimed'],
    ]);
  });

  it('never exceeds the global, per-project or per-agent limits, tasks and workers together', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { starts, workers } = planTick(input);
        const all = [...starts, ...workers];
        expect(all.length).toBeLessThanOrEqual(Math.max(0, input.maxAgents - input.running));
        for (const [name, project] of input.projects) {
          const n = all.filter((s) => s.project === name).length;
          if (n > 0) expect(project.running + n).toBeLessThanOrEqual(project.maxAgents);
        }
        for (const [name, agent] of input.agents) {
          const n = all.filter((s) => s.agent === name).length;
          if (n > 0) expect(agent.running + n).toBeLessThanOrEqual(agent.maxConcurrent);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never starts a pull project task, and starts workers only for pull projects that may run', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { starts, workers } = planTick(input);
        const byId = new Map(input.tasks.map((t) => [t.id, t]));
        for (const start of starts) expect(input.projects.get(byId.get(start.taskId)!.project)!.mode).toBe('push');
        for (const worker of workers) {
          const project = input.projects.get(worker.project)!;
          expect(project.mode).toBe('pull');
          expect(project.paused).toBe(false);
          expect(project.agents).toContain(worker.agent);
          const agent = input.agents.get(worker.agent)!;
          expect(agent.coolingUntil === null || agent.coolingUntil <= NOW).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('starts at most as many workers as ready tasks exceed the idle workers, per pull project', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { workers } = planTick(input);
        for (const [name, project] of input.projects) {
          const n = workers.filter((w) => w.project === name).length;
          expect(n).toBeLessThanOrEqual(Math.max(0, claimableIn(input, name) - (project.idleWorkers ?? 0)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('alone and with agents to spare, starts exactly min(free slots, ready tasks − idle workers) workers', () => {
    fc.assert(
      fc.property(inputArb, (generated) => {
        const project = { ...generated.projects.get('api')!, mode: 'pull' as const, agents: ['claude'] };
        project.idleWorkers = Math.min(project.idleWorkers ?? 0, project.running);
        const input: TickInput = {
          ...generated,
          running: project.running,
          tasks: generated.tasks.filter((t) => t.project === 'api'),
          projects: new Map([['api', project]]),
          agents: new Map([['claude', { maxConcurrent: 100, running: 0, coolingUntil: null }]]),
        };
        const free = Math.min(input.maxAgents - input.running, project.maxAgents - project.running);
        const wanted = claimableIn(input, 'api') - (project.idleWorkers ?? 0);
        expect(planTick(input).workers).toHaveLength(Math.max(0, Math.min(free, wanted)));
      }),
      { numRuns: 300 },
    );
  });

  it('accounts for every task once: started, or waiting with its reason (a worker, for pull tasks it plans for)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planTick(input, { explain: true });
        expect(plan.starts.length + plan.waiting.length).toBe(input.tasks.length);
        for (const [name, project] of input.projects) {
          if (project.mode !== 'pull') continue;
          const awaiting = plan.waiting.filter((w) => w.project === name && w.reason === 'awaiting_worker').length;
          const leftToIdle = Math.min(project.idleWorkers ?? 0, claimableIn(input, name));
          expect(awaiting).toBe(leftToIdle + plan.workers.filter((w) => w.project === name).length);
        }
        expect(planTick(input).workers).toEqual(plan.workers);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic with pull projects: any order of the same input gives the same plan', () => {
    fc.assert(
      fc.property(inputArb, fc.infiniteStream(fc.nat()), (input, stream) => {
        const keys = input.tasks.map(() => stream.next().value as number);
        const shuffled = input.tasks.map((t, i) => ({ t, k: keys[i]! })).sort((a, b) => a.k - b.k).map((x) => x.t);
        expect(planTick({ ...input, tasks: shuffled }, { explain: true })).toEqual(planTick(input, { explain: true }));
        expect(claimableTasks({ ...input, tasks: shuffled })).toEqual(claimableTasks(input));
      }),
      { numRuns: 200 },
    );
  });

  it('claimable tasks are exactly those the tick would start with slots to spare, in dispatch order', () => {
    fc.assert(
      fc.property(inputArb, (generated) => {
        const roomy: TickInput = {
          ...generated,
          maxAgents: 1000,
          running: 0,
          projects: new Map([...generated.projects].map(([name, p]) => [name, { ...p, mode: 'push' as const, idleWorkers: 0, running: 0, maxAgents: 1000 }])),
          agents: new Map([...generated.agents].map(([name, a]) => [name, { ...a, running: 0, maxConcurrent: a.maxConcurrent > 0 ? 1000 : 0 }])),
        };
        const { claimable, waiting } = claimableTasks(roomy);
        for (let i = 1; i < claimable.length; i++) expect(compareForDispatch(claimable[i - 1]!, claimable[i]!)).toBeLessThan(0);
        expect(claimable.length + waiting.length).toBe(roomy.tasks.length);
        for (const t of claimable) {
          expect(['new', 'routed']).toContain(t.state);
          expect(roomy.claimedTaskIds.has(t.id)).toBe(false);
          expect(t.waitingOn).toEqual([]);
        }
        const started = planTick(roomy).starts.map((s) => s.taskId).sort((a, b) => a - b);
        expect(started).toEqual(claimable.map((t) => t.id).sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
