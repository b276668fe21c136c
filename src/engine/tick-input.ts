import type { OrchConfig, ProjectConfig } from '../config/schema.js';
import { probeSandbox } from '../sandbox/probe.js';
import { claimableTasks, planTick, type SpawnPlan, type TickAgent, type TickInput, type TickProject, type Waiting } from '../core/plan-tick.js';
import { blockChanges, readinessOf, type BlockChange } from '../core/readiness.js';
import { routingLabels } from '../core/routing.js';
import { countRunningWork } from '../core/running-work.js';
import type { Task, TaskState } from '../core/types.js';
import type { Store, TaskSummary } from '../store/store.js';
import { claimOwner } from './hosts.js';
import { roundRobinTallies, routingWeightsFor } from './scoreboard.js';
import { loadWaitsOf } from './wait-graph.js';

/** Midnight UTC of the day `now` falls in: budgets count spend per UTC day. */
/** Why a project with the sandbox on cannot start agents on this machine; null when it can (or it is off). */
export function sandboxRefusal(project: ProjectConfig, env: NodeJS.ProcessEnv = process.env): string | null {
  if (project.sandbox === 'off') return null;
  const probe = probeSandbox(env);
  return probe.ok ? null : probe.reason;
}

export function startOfDayUtc(now: number): number {
  return now - (now % 86_400_000);
}

/**
 * What each project spent today: its runs, and its pull workers that ended without claiming a task
 * (a worker that claimed one has its cost on that task's run).
 */
export async function spentToday(store: Pick<Store, 'runCostSince' | 'listWorkers'>, now: number, project?: string): Promise<Map<string, number>> {
  const since = startOfDayUtc(now);
  const spent = await store.runCostSince(since, project);
  const add = (name: string, usd: number) => spent.set(name, (spent.get(name) ?? 0) + usd);
  for (const worker of await store.listWorkers({ project, open: false, endedAfter: since })) if (worker.taskId === null) add(worker.project, worker.costUsd);
  return spent;
}

/**
 * Gathers what the tick decides on: the dispatchable tasks with their readiness, the live claims, the
 * running counts per project and agent across every host sharing the store (pull workers still looking
 * for a task included), the slots taken on this host (claims and workers whose owner is `self`), and
 * each project's mode, limits, budget spend and back-pressure.
 * Only projects in config.yaml take part; a project known to the store alone is left out (its tasks
 * then wait with `unknown_project`).
 */
export async function gatherTickInput(store: Store, config: OrchConfig, now: number, self: string = claimOwner()): Promise<TickInput> {
  return (await gather(store, config, now, ['new', 'routed'], self)).input;
}

async function gather(store: Store, config: OrchConfig, now: number, states: TaskState[], self: string) {
  // The candidates and what they wait on, narrowly: not every open task, nor the candidates' bodies.
  const { graph, tasks } = await loadWaitsOf(store, states);
  const candidates = [...tasks.values()];
  const claims = await store.listClaims();
  // A slot is taken from claim to release: the agent run, the judge and the merge of a task all hold it.
  const busy = claims.length > 0 ? await store.listTasks({ ids: claims.map((c) => c.taskId) }) : [];
  const stored = new Map((await store.listProjects()).map((p) => [p.name, p]));
  const coolingUntil = new Map((await store.activeCooldowns(now)).map((c) => [c.key, c.until]));
  const tallies = await roundRobinTallies(store);
  // A worker that has claimed is counted by its claim; one still looking for a task holds a slot too.
  const idleWorkers = (await store.listWorkers({ open: true })).filter((w) => w.taskId === null);

  const work = countRunningWork(claims, busy, idleWorkers, self);
  const idleByProject = new Map<string, number>();
  for (const worker of idleWorkers) idleByProject.set(worker.project, (idleByProject.get(worker.project) ?? 0) + 1);
  const spent = await spentToday(store, now);

  const projects = new Map<string, TickProject>();
  for (const project of Object.values(config.projects)) {
    const counts = await store.countTasksByState(project.name, ['in_review', 'needs_review']);
    const openPrs = counts.in_review ?? 0;
    projects.set(project.name, {
      name: project.name,
      priority: project.priority,
      paused: stored.get(project.name)?.paused ?? false,
      sandboxRefused: sandboxRefusal(project),
      maxAgents: project.maxAgents,
      agents: project.agents,
      running: work.byProject.get(project.name) ?? 0,
      mode: project.mode,
      idleWorkers: idleByProject.get(project.name) ?? 0,
      budget: project.budget,
      spentTodayUsd: spent.get(project.name) ?? 0,
      backpressure: {
        openPrs,
        maxOpenPrs: project.backpressure.maxOpenPrs,
        needsReview: counts.needs_review ?? 0,
        maxNeedsReview: project.backpressure.maxNeedsReview,
      },
      routing: {
        router: project.routing.router !== null,
        weights: await routingWeightsFor(store, project, now),
        tally: tallies.get(project.name) ?? {},
      },
    });
  }
  const agents = new Map<string, TickAgent>();
  for (const agent of Object.values(config.agents)) {
    agents.set(agent.name, {
      maxConcurrent: agent.maxConcurrent,
      running: work.byAgent.get(agent.name) ?? 0,
      coolingUntil: coolingUntil.get(agent.name) ?? null,
    });
  }

  const input: TickInput = {
    now,
    maxAgents: config.scheduler.maxAgents,
    running: work.onThisHost,
    tasks: candidates.map((task) => {
      const readiness = readinessOf(graph.byId.get(task.id)!, graph);
      return {
        id: task.id,
        project: task.project,
        state: task.state,
        priority: task.priority,
        createdAt: task.createdAt,
        agent: boundAgent(task, config),
        nextAttemptAt: task.nextAttemptAt,
        costUsd: task.costUsd,
        waitingOn: readiness.ready ? [] : readiness.waitingOn,
        blockedReason: task.blockedReason,
      };
    }),
    claimedTaskIds: new Set(claims.map((c) => c.taskId)),
    projects,
    agents,
  };
  return { input, graph, tasks };
}

/**
 * The agent a task is bound to before the tick chooses: its routed agent, or for a task not yet routed
 * an `agent:` label naming one of its project's agents (routing will honour it).
 */
function boundAgent(task: TaskSummary, config: OrchConfig): string | null {
  if (task.state !== 'new') return task.agent;
  const label = routingLabels(task.labels).agent;
  const allowed = config.projects[task.project]?.agents ?? [];
  return label !== null && allowed.includes(label) && config.agents[label] ? label : task.agent;
}

export interface DryRun {
  plan: SpawnPlan;
  /** Block and unblock moves the next tick would make first. */
  pendingWaits: BlockChange[];
  slots: { max: number; running: number };
}

/** What the next tick would do, and why every other ready task waits, without changing anything. */
export async function dryRunTick(store: Store, config: OrchConfig, now: number, project?: string, self: string = claimOwner()): Promise<DryRun> {
  // Blocked tasks never start, but a dry run says why they wait too.
  const { input, graph, tasks } = await gather(store, config, now, ['new', 'routed', 'blocked'], self);
  const plan = planTick(input, { explain: true });
  const inProject = <T extends { project: string }>(items: T[]) => (project ? items.filter((i) => i.project === project) : items);
  return {
    plan: { starts: inProject(plan.starts), routes: inProject(plan.routes), workers: inProject(plan.workers), waiting: inProject(plan.waiting) },
    pendingWaits: blockChanges(graph).filter((c) => !project || tasks.get(c.id)?.project === project),
    slots: { max: input.maxAgents, running: input.running },
  };
}

/**
 * The tasks a pull worker may claim now, in dispatch order: the tick's own rules (ready, unclaimed,
 * not backing off, project not paused or over budget) without the slot counting, since a worker
 * already holds its slot. The rest come with the reason they may not be claimed.
 */
export async function claimableNow(store: Store, config: OrchConfig, now: number, project?: string): Promise<{ claimable: Task[]; waiting: Waiting[] }> {
  const { input } = await gather(store, config, now, ['new', 'routed'], claimOwner());
  const { claimable, waiting } = claimableTasks(project ? { ...input, tasks: input.tasks.filter((t) => t.project === project) } : input);
  const whole = new Map((claimable.length > 0 ? await store.listTasks({ ids: claimable.map((t) => t.id) }) : []).map((task) => [task.id, task]));
  // A task gone since it was weighed is left out.
  return { claimable: claimable.flatMap((t) => whole.get(t.id) ?? []), waiting };
}
