import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareForDispatch } from '../../src/core/ordering.js';
import { planTick, type TickAgent, type TickInput, type TickProject, type TickTask } from '../../src/core/plan-tick.js';
import { TASK_STATES } from '../../src/core/types.js';

const NOW = 1_000_000;
const AGENTS = ['claude', 'codex', 'gemini'];
const PROJECTS = ['api', 'web', 'docs', 'infra'];

const projectArb = (name: string) =>
  fc.record({
    name: fc.constant(name),
    priority: fc.integer({ min: -1, max: 3 }),
    paused: fc.boolean(),
    maxAgents: fc.integer({ min: 1, max: 4 }),
    agents: fc.subarray(AGENTS, { minLength: 0 }),
    running: fc.integer({ min: 0, max: 5 }),
    budget: fc.record({
      dailyUsd: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      taskUsd: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
      runUsd: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
    }),
    spentTodayUsd: fc.integer({ min: 0, max: 20 }),
    backpressure: fc.record({
      openPrs: fc.integer({ min: 0, max: 5 }),
      maxOpenPrs: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
      needsReview: fc.integer({ min: 0, max: 5 }),
      maxNeedsReview: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
    }),
  }) satisfies fc.Arbitrary<TickProject>;

const agentArb: fc.Arbitrary<TickAgent> = fc.record({
  maxConcurrent: fc.integer({ min: 0, max: 5 }),
  running: fc.integer({ min: 0, max: 5 }),
  coolingUntil: fc.option(fc.integer({ min: NOW - 1000, max: NOW + 1000 }), { nil: null }),
});

const taskArb = (id: number): fc.Arbitrary<TickTask> =>
  fc.record({
    id: fc.constant(id),
    project: fc.constantFrom(...PROJECTS, 'unregistered'),
    state: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('new', 'routed') }, { weight: 1, arbitrary: fc.constantFrom(...TASK_STATES) }),
    priority: fc.integer({ min: -2, max: 2 }),
    createdAt: fc.integer({ min: 0, max: 50 }),
    agent: fc.option(fc.constantFrom(...AGENTS, 'unknown-agent'), { nil: null, freq: 2 }),
    nextAttemptAt: fc.option(fc.integer({ min: NOW - 5000, max: NOW + 5000 }), { nil: null, freq: 2 }),
    costUsd: fc.integer({ min: 0, max: 6 }),
    waitingOn: fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.nat(100), { minLength: 1, maxLength: 2 }) }),
  });

const inputArb: fc.Arbitrary<TickInput> = fc
  .record({
    maxAgents: fc.integer({ min: 0, max: 12 }),
    running: fc.integer({ min: 0, max: 8 }),
    projects: fc.tuple(...PROJECTS.map(projectArb)),
    agents: fc.tuple(...AGENTS.map(() => agentArb)),
    taskCount: fc.integer({ min: 0, max: 60 }),
    claimSeed: fc.array(fc.nat(70), { maxLength: 20 }),
  })
  .chain((r) =>
    fc.tuple(...Array.from({ length: r.taskCount }, (_, i) => taskArb(i + 1))).map((tasks) => ({
      now: NOW,
      maxAgents: r.maxAgents,
      running: r.running,
      tasks,
      claimedTaskIds: new Set(r.claimSeed),
      projects: new Map(r.projects.map((p) => [p.name, p])),
      agents: new Map(AGENTS.map((name, i) => [name, r.agents[i]!])),
    })),
  );

describe('planTick', () => {
  const fairProject = (name: string, priority: number): TickProject => ({
    name, priority, paused: false, maxAgents: 10, agents: ['claude'], running: 0, budget: {}, spentTodayUsd: 0, backpressure: { openPrs: 0, needsReview: 0 },
  });
  const queue = (project: string, from: number, count: number, createdAt: number): TickTask[] =>
    Array.from({ length: count }, (_, i) => ({
      id: from + i, project, state: 'new', priority: 0, createdAt: createdAt + i, agent: null, nextAttemptAt: null, costUsd: 0, waitingOn: [],
    }));
  const fairInput = (projects: TickProject[], tasks: TickTask[], maxAgents: number): TickInput => ({
    now: NOW, maxAgents, running: 0, tasks, claimedTaskIds: new Set(),
    projects: new Map(projects.map((p) => [p.name, p])),
    agents: new Map([['claude', { maxConcurrent: 100, running: 0, coolingUntil: null }]]),
  });

  it('gives every project with work its fair share of the slots, weighted by project priority', () => {
    // api's ten tasks are all older, yet web gets its share.
    const even = planTick(fairInput([fairProject('api', 0), fairProject('web', 0)], [...queue('api', 1, 10, 0), ...queue('web', 100, 10, 1000)], 4));
    expect(even.starts.map((s) => s.project).sort()).toEqual(['api', 'api', 'web', 'web']);
    const weighted = planTick(fairInput([fairProject('api', 1), fairProject('web', 0)], [...queue('api', 1, 10, 0), ...queue('web', 100, 10, 1000)], 6));
    expect(weighted.starts.filter((s) => s.project === 'api')).toHaveLength(4);
    expect(weighted.starts.filter((s) => s.project === 'web')).toHaveLength(2);
    // Shares are not caps: slots nobody else wants go to whoever has work.
    const alone = planTick(fairInput([fairProject('api', 0), fairProject('web', 0)], [...queue('api', 1, 10, 0), ...queue('web', 100, 1, 1000)], 4));
    expect(alone.starts.map((s) => s.project).sort()).toEqual(['api', 'api', 'api', 'web']);
  });

  it('starts tasks in order until the slots are full and says why the rest wait', () => {
    const project: TickProject = {
      name: 'api', priority: 0, paused: false, maxAgents: 2, agents: ['claude'], running: 0,
      budget: {}, spentTodayUsd: 0, backpressure: { openPrs: 0, needsReview: 0 },
    };
    const task = (id: number, extra: Partial<TickTask> = {}): TickTask => ({
      id, project: 'api', state: 'new', priority: 0, createdAt: id, agent: null, nextAttemptAt: null, costUsd: 0, waitingOn: [], ...extra,
    });
    const plan = planTick(
      {
        now: NOW, maxAgents: 4, running: 0,
        tasks: [task(1, { waitingOn: [9] }), task(2), task(3, { priority: 5 }), task(4, { nextAttemptAt: NOW + 30_000 }), task(5)],
        claimedTaskIds: new Set(),
        projects: new Map([['api', project]]),
        agents: new Map([['claude', { maxConcurrent: 4, running: 0, coolingUntil: null }]]),
      },
      { explain: true },
    );
    expect(plan.starts.map((s) => s.taskId)).toEqual([3, 2]);
    expect(plan.waiting.map((w) => [w.taskId, w.reason, w.detail])).toEqual([
      [1, 'waiting_on_dependencies', 'waits on #9'],
      [4, 'backoff', 'retry in 30s'],
      [5, 'project_full', 'project api runs its maximum of 2'],
    ]);
  });

  it('never exceeds the global, per-project or per-agent limits', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { starts } = planTick(input);
        expect(starts.length).toBeLessThanOrEqual(Math.max(0, input.maxAgents - input.running));
        for (const [name, project] of input.projects) {
          const n = starts.filter((s) => s.project === name).length;
          if (n > 0) expect(project.running + n).toBeLessThanOrEqual(project.maxAgents);
        }
        for (const [name, agent] of input.agents) {
          const n = starts.filter((s) => s.agent === name).length;
          if (n > 0) expect(agent.running + n).toBeLessThanOrEqual(agent.maxConcurrent);
        }
        expect(new Set(starts.map((s) => s.taskId)).size).toBe(starts.length);
      }),
      { numRuns: 300 },
    );
  });

  it('never plans a claimed, waiting, backing-off, undispatchable, paused, cooling or over-pressure task', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const byId = new Map(input.tasks.map((t) => [t.id, t]));
        for (const start of planTick(input).starts) {
          const task = byId.get(start.taskId)!;
          const project = input.projects.get(task.project)!;
          const agent = input.agents.get(start.agent)!;
          expect(['new', 'routed']).toContain(task.state);
          expect(input.claimedTaskIds.has(task.id)).toBe(false);
          expect(task.waitingOn).toEqual([]);
          expect(task.nextAttemptAt === null || task.nextAttemptAt <= input.now).toBe(true);
          expect(project.paused).toBe(false);
          expect(agent.coolingUntil === null || agent.coolingUntil <= input.now).toBe(true);
          if (task.agent !== null) expect(start.agent).toBe(task.agent);
          else expect(project.agents).toContain(start.agent);
          const bp = project.backpressure;
          if (bp.maxOpenPrs != null) expect(bp.openPrs).toBeLessThan(bp.maxOpenPrs);
          if (bp.maxNeedsReview != null) expect(bp.needsReview).toBeLessThan(bp.maxNeedsReview);
          if (project.budget.dailyUsd != null) expect(project.spentTodayUsd).toBeLessThan(project.budget.dailyUsd);
          if (project.budget.taskUsd != null) expect(task.costUsd).toBeLessThan(project.budget.taskUsd);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: any order of the same input gives the same plan', () => {
    fc.assert(
      fc.property(inputArb, fc.infiniteStream(fc.nat()), (input, stream) => {
        const keys = input.tasks.map(() => stream.next().value as number);
        const shuffled = input.tasks.map((t, i) => ({ t, k: keys[i]! })).sort((a, b) => a.k - b.k).map((x) => x.t);
        expect(planTick({ ...input, tasks: shuffled }, { explain: true })).toEqual(planTick(input, { explain: true }));
      }),
      { numRuns: 200 },
    );
  });

  it('honours the ordering within each project, and nothing ahead of a start waits only for a slot', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planTick(input, { explain: true });
        const byId = new Map(input.tasks.map((t) => [t.id, t]));
        const started = plan.starts.map((s) => byId.get(s.taskId)!);
        for (const project of PROJECTS) {
          const mine = started.filter((t) => t.project === project);
          for (let i = 1; i < mine.length; i++) expect(compareForDispatch(mine[i - 1]!, mine[i]!)).toBeLessThan(0);
          const lastStart = mine.at(-1);
          for (const w of plan.waiting) {
            if (w.reason !== 'global_full' || w.project !== project || !lastStart) continue;
            expect(compareForDispatch(lastStart, byId.get(w.taskId)!)).toBeLessThan(0);
          }
        }
        // Every task is accounted for exactly once, and explaining does not change the decision.
        expect(plan.starts.length + plan.waiting.length).toBe(input.tasks.length);
        expect(planTick(input).starts).toEqual(plan.starts);
      }),
      { numRuns: 300 },
    );
  });
});
