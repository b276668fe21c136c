// planTick's side of routing: the weighted round robin for tasks without an agent, and tasks of a
// project with a router handed to it instead of started.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planTick, type TickAgent, type TickInput, type TickProject, type TickTask } from '../../src/core/plan-tick.js';

const NOW = 1_000_000;
const AGENTS = ['claude', 'codex', 'gemini'];

const project = (name: string, extra: Partial<TickProject> = {}): TickProject => ({
  name, priority: 0, paused: false, maxAgents: 10, agents: AGENTS, running: 0, budget: {}, spentTodayUsd: 0, backpressure: { openPrs: 0, needsReview: 0 }, ...extra,
});
const task = (id: number, extra: Partial<TickTask> = {}): TickTask => ({
  id, project: 'app', state: 'new', priority: 0, createdAt: id, agent: null, nextAttemptAt: null, costUsd: 0, waitingOn: [], ...extra,
});
const agent = (extra: Partial<TickAgent> = {}): TickAgent => ({ maxConcurrent: 10, running: 0, coolingUntil: null, ...extra });
const input = (tasks: TickTask[], projects: TickProject[], agents: Record<string, TickAgent> = {}, maxAgents = 20): TickInput => ({
  now: NOW,
  maxAgents,
  running: 0,
  tasks,
  claimedTaskIds: new Set(),
  projects: new Map(projects.map((p) => [p.name, p])),
  agents: new Map(AGENTS.map((name) => [name, agents[name] ?? agent()])),
});

describe('planTick routing', () => {
  it('shares tasks without an agent by the weights, taking what was routed before into account', () => {
    const tasks = Array.from({ length: 8 }, (_, i) => task(i + 1));
    const plan = planTick(input(tasks, [project('app', { routing: { router: false, weights: { claude: 3, codex: 1, gemini: 0 }, tally: { codex: 1 } } })]));
    const counts = Object.fromEntries(AGENTS.map((a) => [a, plan.starts.filter((s) => s.agent === a).length]));
    // With codex's earlier task that makes 9, shared 3 to 1: claude 7, codex 2 — so codex gets one more.
    expect(counts).toEqual({ claude: 7, codex: 1, gemini: 0 });
    expect(plan.starts[0]).toMatchObject({ agent: 'claude', routing: { by: 'round_robin', reason: expect.stringMatching(/^round robin: claude/) } });
  });

  it('keeps an agent a task is bound to, and says nothing about routing for it', () => {
    const plan = planTick(input([task(1, { agent: 'gemini' })], [project('app', { routing: { router: true, weights: {}, tally: {} } })]));
    expect(plan.starts).toEqual([{ taskId: 1, project: 'app', agent: 'gemini', runCapUsd: null }]);
    expect(plan.routes).toEqual([]);
  });

  it('chooses only among agents with room that are not cooling down, and uses a weight-0 agent only then', () => {
    const agents = { claude: agent({ maxConcurrent: 1 }), codex: agent({ coolingUntil: NOW + 1 }) };
    const plan = planTick(input([task(1), task(2), task(3)], [project('app', { routing: { router: false, weights: { gemini: 0 }, tally: {} } })], agents));
    expect(plan.starts.map((s) => s.agent)).toEqual(['claude', 'gemini', 'gemini']);
  });

  it('hands new tasks without an agent of a project with a router to it, holding their slots, and starts the routed ones', () => {
    const tasks = [task(1, { priority: 2 }), task(2, { priority: 1 }), task(3, { state: 'routed', agent: 'codex' }), task(4, { state: 'routed' }), task(5)];
    const plan = planTick(input(tasks, [project('app', { maxAgents: 4, routing: { router: true, weights: {}, tally: {} } })]), { explain: true });
    expect(plan.routes).toEqual([{ taskId: 1, project: 'app' }, { taskId: 2, project: 'app' }]);
    // A routed task that lost its agent (a rate limit) is not sent back to the router: the round robin takes it.
    expect(plan.starts).toEqual([
      expect.objectContaining({ taskId: 3, agent: 'codex' }),
      expect.objectContaining({ taskId: 4, agent: 'claude', routing: expect.objectContaining({ by: 'round_robin' }) }),
    ]);
    expect(plan.waiting).toEqual([expect.objectContaining({ taskId: 5, reason: 'project_full' })]);
  });

  it('routes nothing of a pull project, router or not: it starts workers with its first agent with room', () => {
    const tasks = [task(1), task(2, { agent: 'codex' }), task(3, { state: 'routed', agent: 'gemini' })];
    const routing = { router: true, weights: { claude: 0, codex: 5 }, tally: {} };
    const plan = planTick(input(tasks, [project('app', { mode: 'pull', idleWorkers: 0, routing })], { claude: agent({ maxConcurrent: 2 }) }));
    expect(plan.starts).toEqual([]);
    expect(plan.routes).toEqual([]);
    expect(plan.workers.map((w) => w.agent)).toEqual(['claude', 'claude', 'codex']);
  });

  const routingArb = fc.record({
    router: fc.boolean(),
    weights: fc.dictionary(fc.constantFrom(...AGENTS), fc.integer({ min: 0, max: 4 })),
    tally: fc.dictionary(fc.constantFrom(...AGENTS), fc.nat(20)),
  });
  const inputArb = fc
    .record({
      routing: fc.option(routingArb, { nil: undefined }),
      projectAgents: fc.subarray(AGENTS, { minLength: 1 }),
      maxAgents: fc.integer({ min: 1, max: 8 }),
      projectMax: fc.integer({ min: 1, max: 6 }),
      agents: fc.tuple(...AGENTS.map(() => fc.record({ maxConcurrent: fc.integer({ min: 0, max: 4 }), running: fc.integer({ min: 0, max: 3 }), coolingUntil: fc.option(fc.constant(NOW + 1), { nil: null }) }))),
      tasks: fc.array(fc.record({ state: fc.constantFrom('new', 'routed'), agent: fc.option(fc.constantFrom(...AGENTS), { nil: null, freq: 2 }), priority: fc.integer({ min: 0, max: 2 }) }), { maxLength: 25 }),
    })
    .map((r) =>
      input(
        r.tasks.map((t, i) => task(i + 1, { ...t, state: t.state as 'new' | 'routed' })),
        [project('app', { agents: r.projectAgents, maxAgents: r.projectMax, routing: r.routing })],
        Object.fromEntries(AGENTS.map((name, i) => [name, r.agents[i]!])),
        r.maxAgents,
      ),
    );

  it('never plans an unavailable agent, never overfills a slot, routes only what the router must see', () => {
    fc.assert(
      fc.property(inputArb, (tick) => {
        const plan = planTick(tick);
        const app = tick.projects.get('app')!;
        const byId = new Map(tick.tasks.map((t) => [t.id, t]));
        expect(plan.starts.length + plan.routes.length).toBeLessThanOrEqual(Math.min(tick.maxAgents, app.maxAgents));
        for (const start of plan.starts) {
          const bound = byId.get(start.taskId)!.agent;
          const state = tick.agents.get(start.agent)!;
          expect(state.coolingUntil).toBeNull();
          if (bound === null) expect(app.agents).toContain(start.agent);
          else expect(start.agent).toBe(bound);
          expect(start.routing !== undefined).toBe(bound === null);
        }
        for (const [name, state] of tick.agents) expect(state.running + plan.starts.filter((s) => s.agent === name).length).toBeLessThanOrEqual(Math.max(state.running, state.maxConcurrent));
        for (const route of plan.routes) {
          const routed = byId.get(route.taskId)!;
          expect(app.routing?.router).toBe(true);
          expect(routed).toMatchObject({ state: 'new', agent: null });
        }
        // The same input in any order gives the same plan.
        expect(planTick({ ...tick, tasks: [...tick.tasks].reverse() })).toEqual(plan);
      }),
    );
  });
});
