import { checkBudget, type BudgetCaps } from './budget.js';
import { inDispatchOrder, sortForDispatch } from './ordering.js';
import { pickWeighted } from './routing.js';
import type { EpochMs, ProjectMode, TaskState } from './types.js';

/** A task as the tick sees it. */
export interface TickTask {
  id: number;
  project: string;
  state: TaskState;
  priority: number;
  createdAt: EpochMs;
  /**
   * The agent the task is bound to (routed, or named by an `agent:` label); null lets the tick choose
   * one by the project's weighted round robin — or, for a `new` task of a project with a router, hand
   * the task to the router first.
   */
  agent: string | null;
  nextAttemptAt: EpochMs | null;
  costUsd: number;
  /** Unfinished dependencies or children (from readiness); empty when the task may run. */
  waitingOn: readonly number[];
  /** Why a `blocked` task is blocked, for explanations. */
  blockedReason?: string | null;
}

export interface TickProject {
  name: string;
  /** Weight in the fair share of the global slots: higher gets more (1 + priority, at least 1). */
  priority: number;
  paused: boolean;
  /** Why the project's sandbox cannot run here (it is on, and bubblewrap is missing or refused): no agent starts. */
  sandboxRefused?: string | null;
  maxAgents: number;
  /** Agents the project may use, in order of preference. */
  agents: readonly string[];
  /** Runs of this project that hold a slot now, pull workers included. */
  running: number;
  /** Default push: the tick starts tasks. In pull mode it starts workers that claim tasks themselves. */
  mode?: ProjectMode;
  /** Pull workers of this project still looking for a task (already counted in `running`). */
  idleWorkers?: number;
  budget: BudgetCaps;
  spentTodayUsd: number;
  backpressure: {
    openPrs: number;
    maxOpenPrs?: number | null;
    needsReview: number;
    maxNeedsReview?: number | null;
  };
  /** How the project chooses an agent for a task without one; absent: equal weights, no history, no router. */
  routing?: TickRouting;
}

export interface TickRouting {
  /** An LLM router chooses the agent of a `new` task: such a task goes to `routes`, not `starts`. */
  router: boolean;
  /** Round-robin weight per agent (default 1). */
  weights: Readonly<Record<string, number>>;
  /** Tasks routed to each agent so far: the round robin's memory. */
  tally: Readonly<Record<string, number>>;
}

export interface TickAgent {
  maxConcurrent: number;
  running: number;
  /** The agent (or its model) is rate-limited until then. */
  coolingUntil: EpochMs | null;
}

export interface TickInput {
  now: EpochMs;
  /** Global slots across the portfolio, and how many are taken. */
  maxAgents: number;
  running: number;
  tasks: readonly TickTask[];
  claimedTaskIds: ReadonlySet<number>;
  projects: ReadonlyMap<string, TickProject>;
  agents: ReadonlyMap<string, TickAgent>;
}

export const WAIT_REASONS = [
  'blocked',
  'not_dispatchable',
  'claimed',
  'waiting_on_dependencies',
  'backoff',
  'unknown_project',
  'project_paused',
  /** The project's sandbox is on and cannot run on this machine: install bubblewrap or write `sandbox: off`. */
  'sandbox_unavailable',
  'daily_budget_exhausted',
  'task_budget_exhausted',
  'backpressure',
  'project_full',
  'global_full',
  'agent_unavailable',
  /** A pull project's task: a worker (running, or started by this tick) may claim it. */
  'awaiting_worker',
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

export interface PlannedStart {
  taskId: number;
  project: string;
  agent: string;
  /** The most the run may spend (null: no cap); the supervisor enforces it live. */
  runCapUsd: number | null;
  /** Set when the tick chose the agent (the task had none): by the round robin, and why. */
  routing?: { by: 'round_robin'; reason: string };
}

/** A task that would start now, but whose agent the project's router must choose first. */
export interface PlannedRoute {
  taskId: number;
  project: string;
}

/** A pull worker to start: it holds a slot and will claim one of its project's ready tasks itself. */
export interface PlannedWorker {
  project: string;
  agent: string;
  /** The most the worker's run may spend (null: no cap). */
  runCapUsd: number | null;
}

export interface Waiting {
  taskId: number;
  project: string;
  reason: WaitReason;
  detail: string;
}

export interface SpawnPlan {
  starts: PlannedStart[];
  /** Tasks handed to the router now; each holds a global and a project slot of this plan. */
  routes: PlannedRoute[];
  /** Workers to start for pull projects, which are never given a task by the tick. */
  workers: PlannedWorker[];
  /** Why each task that is not started waits; filled only when asked to explain. */
  waiting: Waiting[];
}

type Wait = { reason: WaitReason; detail: string };

/** What the tick knows of a project before looking at any task: a reason it waits, or its usable agents. */
interface ProjectView {
  project: TickProject;
  wait: Wait | null;
  /** The project's allowed agents that are configured and not cooling down, in preference order. */
  agents: readonly string[];
  agentProblems: string;
}

/** The tick's first pass: which tasks could start whatever else happens, and why the others cannot. */
interface Screening {
  projects: ReadonlyMap<string, ProjectView>;
  agentsFor: (task: TickTask, view: ProjectView) => { agents: readonly string[]; agentProblems: string };
  /** Tasks that may start (or be claimed) as far as anything but slots is concerned, in input order. */
  candidates: TickTask[];
  /** Why each other task cannot; filled only when asked to explain. */
  waits: Map<TickTask, Wait>;
}

/**
 * Drops every task that cannot start whatever else this tick starts (claims, readiness, backoff, pause,
 * budget, back-pressure, cooldowns), judging the project- and agent-wide conditions once each, not per task.
 */
function screen(input: TickInput, explain: boolean): Screening {
  const agentWait = new Map<string, string | null>();
  for (const [name, agent] of input.agents) {
    agentWait.set(
      name,
      agent.coolingUntil !== null && agent.coolingUntil > input.now
        ? `agent ${name} is cooling down`
        : agent.maxConcurrent <= 0
          ? `agent ${name} may run nothing (max_concurrent 0)`
          : null,
    );
  }
  const usable = (names: readonly string[]) => {
    const problems: string[] = [];
    const agents = names.filter((name) => {
      const problem = agentWait.has(name) ? agentWait.get(name)! : `agent ${name} is not configured`;
      if (problem !== null) problems.push(problem);
      return problem === null;
    });
    return { agents, agentProblems: problems.join('; ') };
  };
  const projects = new Map<string, ProjectView>();
  for (const [name, project] of input.projects) {
    const daily = checkBudget({ dailyUsd: project.budget.dailyUsd }, { todayUsd: project.spentTodayUsd, taskUsd: 0 });
    const pressure = backpressureOf(project);
    const wait: Wait | null = project.paused
      ? { reason: 'project_paused', detail: `project ${name} is paused` }
      : project.sandboxRefused
        ? { reason: 'sandbox_unavailable', detail: `project ${name}: ${project.sandboxRefused}` }
      : !daily.ok
        ? { reason: daily.reason, detail: daily.detail }
        : pressure
          ? { reason: 'backpressure', detail: pressure }
          : null;
    projects.set(name, { project, wait, ...usable(project.agents) });
  }
  const routedTo = new Map<string, ReturnType<typeof usable>>();
  // A pull project's task goes to whichever worker claims it, so its routed agent does not matter.
  const agentsFor = (task: TickTask, view: ProjectView) => {
    if (task.agent === null || view.project.mode === 'pull') return view;
    let found = routedTo.get(task.agent);
    if (!found) routedTo.set(task.agent, (found = usable([task.agent])));
    return found;
  };

  const waits = new Map<TickTask, Wait>();
  const candidates: TickTask[] = [];
  for (const task of input.tasks) {
    const wait = staticWait(task, input, projects, agentsFor);
    if (wait === null) candidates.push(task);
    else if (explain) waits.set(task, wait);
  }
  return { projects, agentsFor, candidates, waits };
}

/**
 * The tasks a worker may claim now, in dispatch order, and why each other task may not: the tick's
 * own rules without the slot counting (a worker already holds its slot). What `orch issue ready` lists.
 */
export function claimableTasks(input: TickInput): { claimable: TickTask[]; waiting: Waiting[] } {
  const { candidates, waits } = screen(input, true);
  const waiting = sortForDispatch([...waits.keys()]).map((task) => ({ taskId: task.id, project: task.project, ...waits.get(task)! }));
  return { claimable: sortForDispatch(candidates), waiting };
}

/**
 * Decides which tasks start now and with which agent, and how many pull workers to start. Pure and
 * deterministic: the same input in any order gives the same plan. A push project's task without an
 * agent gets one by the project's weighted round robin among the agents with room; a `new` one of a
 * project with a router is handed to the router instead (`routes`). Tasks are taken in dispatch order
 * (priority, age, id); a task that cannot start is skipped, never allowed to hold back the ones behind
 * it, except that once the global slots are full nothing else starts. Never exceeds the global,
 * per-project or per-agent limits, and never plans a claimed, waiting, backing-off, paused,
 * over-budget or back-pressured task.
 *
 * A pull project's tasks are never started: each of its ready tasks in dispatch order is first left to
 * a worker already looking for work (`idleWorkers`), and each one beyond those, when a slot is free,
 * starts one new worker instead. So a pull project gets min(free slots, ready tasks − idle workers)
 * new workers, under the same limits and fair share as tasks.
 *
 * Two passes keep it fast at any queue length: a cheap linear pass (`screen`) drops every task that
 * cannot start whatever else happens; only the tasks left are ordered, lazily, and walked against the
 * slot counters until nothing more can start.
 */
export function planTick(input: TickInput, options: { explain?: boolean } = {}): SpawnPlan {
  const explain = options.explain ?? false;
  const { projects, agentsFor, candidates, waits } = screen(input, explain);

  const starts: PlannedStart[] = [];
  const routes: PlannedRoute[] = [];
  const workers: PlannedWorker[] = [];
  // Each project's round-robin memory, advanced by every pick of this plan.
  const tallies = new Map<string, Record<string, number>>();
  const tallyOf = (project: TickProject) => {
    let tally = tallies.get(project.name);
    if (!tally) tallies.set(project.name, (tally = { ...project.routing?.tally }));
    return tally;
  };
  let globalFree = input.maxAgents - input.running;
  const projectRunning = new Map<string, number>();
  const agentRunning = new Map<string, number>();
  // Ready tasks of each pull project left to the workers already running.
  const leftToIdleWorkers = new Map<string, number>();
  // Once no project and no agent has room left, nothing further can start: stop walking the queue.
  let projectsWithRoom = 0;
  let agentsWithRoom = 0;
  for (const [name, project] of input.projects) {
    projectRunning.set(name, project.running);
    if (!project.paused && project.running < project.maxAgents) projectsWithRoom++;
  }
  for (const [name, agent] of input.agents) {
    agentRunning.set(name, agent.running);
    if (agent.running < agent.maxConcurrent) agentsWithRoom++;
  }

  // Fair share: a project may take more than its weighted share of the free slots only once every
  // other project with startable work has had its share (the deferred tasks get a second pass).
  const share = fairShares(input, candidates, projects);
  const shareBound = (name: string) => Math.min(share.get(name)!, projects.get(name)!.project.maxAgents);
  // Projects that may still start within their share; once none may, the first pass is over.
  let underShare = [...share.keys()].filter((name) => (projectRunning.get(name) ?? 0) < shareBound(name)).length;
  const deferred: TickTask[] = [];
  const consider = (task: TickTask, enforceShare: boolean): void => {
    const view = projects.get(task.project)!;
    const { project } = view;
    const pull = project.mode === 'pull';
    if (pull) {
      const left = leftToIdleWorkers.get(project.name) ?? 0;
      if (left < (project.idleWorkers ?? 0)) {
        leftToIdleWorkers.set(project.name, left + 1);
        waits.set(task, { reason: 'awaiting_worker', detail: `a worker of project ${project.name} already looking for work may claim it` });
        return;
      }
    }
    if (globalFree <= 0) {
      waits.set(task, { reason: 'global_full', detail: `all ${input.maxAgents} global slots are taken` });
      return;
    }
    const projectNow = projectRunning.get(project.name) ?? 0;
    if (projectNow >= project.maxAgents) {
      waits.set(task, { reason: 'project_full', detail: `project ${project.name} runs its maximum of ${project.maxAgents}` });
      return;
    }
    if (enforceShare && projectNow >= share.get(project.name)!) {
      deferred.push(task);
      return;
    }
    const { agents } = agentsFor(task, view);
    const withRoom = agents.filter((name) => (agentRunning.get(name) ?? 0) < input.agents.get(name)!.maxConcurrent);
    if (withRoom.length === 0) {
      const limits = agents.map((name) => `agent ${name} is at its limit of ${input.agents.get(name)!.maxConcurrent}`);
      waits.set(task, { reason: 'agent_unavailable', detail: limits.join('; ') });
      return;
    }
    const takeSlot = () => {
      globalFree--;
      projectRunning.set(project.name, projectNow + 1);
      if (projectNow + 1 === project.maxAgents) projectsWithRoom--;
      if (projectNow + 1 === shareBound(project.name)) underShare--;
    };
    if (!pull && task.agent === null && task.state === 'new' && project.routing?.router) {
      routes.push({ taskId: task.id, project: task.project });
      takeSlot();
      return;
    }
    let agent = withRoom[0]!;
    if (pull) {
      // The worker may claim any of the project's tasks: only the project's and the day's caps apply.
      const budget = checkBudget(project.budget, { todayUsd: project.spentTodayUsd, taskUsd: 0 });
      workers.push({ project: project.name, agent, runCapUsd: budget.ok ? budget.runCapUsd : 0 });
      waits.set(task, { reason: 'awaiting_worker', detail: `a new worker of project ${project.name} (${agent}) may claim it` });
    } else {
      let routing: PlannedStart['routing'];
      if (task.agent === null) {
        const tally = tallyOf(project);
        const pick = pickWeighted(withRoom, project.routing?.weights ?? {}, tally)!;
        agent = pick.agent;
        routing = { by: 'round_robin', reason: pick.reason };
        tally[agent] = (tally[agent] ?? 0) + 1;
      }
      const budget = checkBudget(project.budget, { todayUsd: project.spentTodayUsd, taskUsd: task.costUsd });
      starts.push({ taskId: task.id, project: task.project, agent, runCapUsd: budget.ok ? budget.runCapUsd : 0, ...(routing ? { routing } : {}) });
    }
    takeSlot();
    const agentNow = (agentRunning.get(agent) ?? 0) + 1;
    agentRunning.set(agent, agentNow);
    if (agentNow === input.agents.get(agent)!.maxConcurrent) agentsWithRoom--;
  };
  const exhausted = () => globalFree <= 0 || projectsWithRoom <= 0 || agentsWithRoom <= 0;
  const ordered = inDispatchOrder(candidates);
  let next = ordered.next();
  for (; !next.done; next = ordered.next()) {
    if (!explain && exhausted()) break;
    if (underShare <= 0) break;
    consider(next.value, true);
  }
  // Second pass, still in dispatch order: the deferred tasks (all ahead of the rest), then the rest.
  const rest = function* (): Generator<TickTask> {
    yield* deferred.splice(0);
    for (; !next.done; next = ordered.next()) yield next.value;
  };
  for (const task of rest()) {
    if (!explain && exhausted()) break;
    consider(task, false);
  }

  if (!explain) return { starts, routes, workers, waiting: [] };
  const waiting = sortForDispatch([...waits.keys()]).map((task) => ({ taskId: task.id, project: task.project, ...waits.get(task)! }));
  return { starts, routes, workers, waiting };
}

/**
 * Each project's share of the global slots: proportional to its weight (1 + priority, at least 1) among
 * the projects that have work to start, and never less than one slot.
 */
function fairShares(input: TickInput, candidates: readonly TickTask[], projects: ReadonlyMap<string, ProjectView>): Map<string, number> {
  const weight = (name: string) => Math.max(1, 1 + (projects.get(name)?.project.priority ?? 0));
  const contenders = new Set(candidates.map((t) => t.project));
  const total = [...contenders].reduce((sum, name) => sum + weight(name), 0);
  const shares = new Map<string, number>();
  for (const name of contenders) shares.set(name, Math.max(1, Math.floor((input.maxAgents * weight(name)) / total)));
  return shares;
}

/** Why a task cannot start whatever else this tick starts, or null when it may. */
function staticWait(
  task: TickTask,
  input: TickInput,
  projects: ReadonlyMap<string, ProjectView>,
  agentsFor: (task: TickTask, view: ProjectView) => { agents: readonly string[]; agentProblems: string },
): Wait | null {
  if (task.state === 'blocked') return { reason: 'blocked', detail: task.blockedReason ?? 'blocked' };
  if (task.state !== 'new' && task.state !== 'routed') return { reason: 'not_dispatchable', detail: `task is ${task.state}` };
  if (input.claimedTaskIds.has(task.id)) return { reason: 'claimed', detail: 'already claimed by a run' };
  if (task.waitingOn.length > 0) {
    return { reason: 'waiting_on_dependencies', detail: `waits on ${task.waitingOn.map((id) => `#${id}`).join(', ')}` };
  }
  if (task.nextAttemptAt !== null && task.nextAttemptAt > input.now) {
    return { reason: 'backoff', detail: `retry in ${Math.ceil((task.nextAttemptAt - input.now) / 1000)}s` };
  }
  const view = projects.get(task.project);
  if (!view) return { reason: 'unknown_project', detail: `project ${task.project} is not registered` };
  if (view.wait) return view.wait;
  const taskCap = view.project.budget.taskUsd;
  if (taskCap != null && task.costUsd >= taskCap) {
    return { reason: 'task_budget_exhausted', detail: `task spent $${task.costUsd.toFixed(2)} of $${taskCap.toFixed(2)}` };
  }
  const { agents, agentProblems } = agentsFor(task, view);
  if (agents.length === 0) {
    return { reason: 'agent_unavailable', detail: agentProblems || `project ${view.project.name} allows no agent` };
  }
  return null;
}

function backpressureOf(project: TickProject): string | null {
  const { openPrs, maxOpenPrs, needsReview, maxNeedsReview } = project.backpressure;
  if (maxOpenPrs != null && openPrs >= maxOpenPrs) return `${openPrs} open pull requests (limit ${maxOpenPrs})`;
  if (maxNeedsReview != null && needsReview >= maxNeedsReview) {
    return `${needsReview} tasks need review (limit ${maxNeedsReview})`;
  }
  return null;
}
