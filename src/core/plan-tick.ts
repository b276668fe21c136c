import { checkBudget, type BudgetCaps } from './budget.js';
import { inDispatchOrder, sortForDispatch } from './ordering.js';
import type { EpochMs, TaskState } from './types.js';

/** A task as the tick sees it. */
export interface TickTask {
  id: number;
  project: string;
  state: TaskState;
  priority: number;
  createdAt: EpochMs;
  /** The routed agent; null lets the tick pick the project's first available agent. */
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
  paused: boolean;
  maxAgents: number;
  /** Agents the project may use, in order of preference. */
  agents: readonly string[];
  /** Runs of this project that hold a slot now. */
  running: number;
  budget: BudgetCaps;
  spentTodayUsd: number;
  backpressure: {
    openPrs: number;
    maxOpenPrs?: number | null;
    needsReview: number;
    maxNeedsReview?: number | null;
  };
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
  'daily_budget_exhausted',
  'task_budget_exhausted',
  'backpressure',
  'project_full',
  'global_full',
  'agent_unavailable',
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

export interface PlannedStart {
  taskId: number;
  project: string;
  agent: string;
  /** The most the run may spend (null: no cap); the supervisor enforces it live. */
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
  /** Why each task that is not started waits; filled only when asked to explain. */
  waiting: Waiting[];
}

type Verdict = { reason: WaitReason; detail: string } | { agent: string; runCapUsd: number | null };

/**
 * Decides which tasks start now and with which agent. Pure and deterministic: the same input in any
 * order gives the same plan. Tasks are taken in dispatch order (priority, age, id); a task that cannot
 * start is skipped, never allowed to hold back the ones behind it, except that once the global slots
 * are full nothing else starts. Never exceeds the global, per-project or per-agent limits, and never
 * plans a claimed, waiting, backing-off, paused, over-budget or back-pressured task.
 */
export function planTick(input: TickInput, options: { explain?: boolean } = {}): SpawnPlan {
  const explain = options.explain ?? false;
  const starts: PlannedStart[] = [];
  const waiting: Waiting[] = [];
  let globalFree = input.maxAgents - input.running;
  const projectRunning = new Map<string, number>();
  const agentRunning = new Map<string, number>();
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

  const agentAvailable = (name: string): string | null => {
    const agent = input.agents.get(name);
    if (!agent) return `agent ${name} is not configured`;
    if (agent.coolingUntil !== null && agent.coolingUntil > input.now) return `agent ${name} is cooling down`;
    if ((agentRunning.get(name) ?? 0) >= agent.maxConcurrent) return `agent ${name} is at its limit of ${agent.maxConcurrent}`;
    return null;
  };

  const judge = (task: TickTask): Verdict => {
    if (task.state === 'blocked') return { reason: 'blocked', detail: task.blockedReason ?? 'blocked' };
    if (task.state !== 'new' && task.state !== 'routed') return { reason: 'not_dispatchable', detail: `task is ${task.state}` };
    if (input.claimedTaskIds.has(task.id)) return { reason: 'claimed', detail: 'already claimed by a run' };
    if (task.waitingOn.length > 0) {
      return { reason: 'waiting_on_dependencies', detail: `waits on ${task.waitingOn.map((id) => `#${id}`).join(', ')}` };
    }
    if (task.nextAttemptAt !== null && task.nextAttemptAt > input.now) {
      return { reason: 'backoff', detail: `retry in ${Math.ceil((task.nextAttemptAt - input.now) / 1000)}s` };
    }
    const project = input.projects.get(task.project);
    if (!project) return { reason: 'unknown_project', detail: `project ${task.project} is not registered` };
    if (project.paused) return { reason: 'project_paused', detail: `project ${project.name} is paused` };
    const budget = checkBudget(project.budget, { todayUsd: project.spentTodayUsd, taskUsd: task.costUsd });
    if (!budget.ok) return { reason: budget.reason, detail: budget.detail };
    const pressure = backpressureOf(project);
    if (pressure) return { reason: 'backpressure', detail: pressure };
    if (globalFree <= 0) return { reason: 'global_full', detail: `all ${input.maxAgents} global slots are taken` };
    if ((projectRunning.get(project.name) ?? 0) >= project.maxAgents) {
      return { reason: 'project_full', detail: `project ${project.name} runs its maximum of ${project.maxAgents}` };
    }
    const candidates = task.agent !== null ? [task.agent] : project.agents;
    const problems: string[] = [];
    for (const name of candidates) {
      const problem = agentAvailable(name);
      if (problem === null) return { agent: name, runCapUsd: budget.runCapUsd };
      problems.push(problem);
    }
    return { reason: 'agent_unavailable', detail: problems.join('; ') || `project ${project.name} allows no agent` };
  };

  // Explaining visits every task, where one sort beats a heap; planning usually stops early.
  const ordered = explain ? sortForDispatch(input.tasks) : inDispatchOrder(input.tasks);
  for (const task of ordered) {
    if (!explain && (globalFree <= 0 || projectsWithRoom <= 0 || agentsWithRoom <= 0)) break;
    const verdict = judge(task);
    if ('agent' in verdict) {
      starts.push({ taskId: task.id, project: task.project, agent: verdict.agent, runCapUsd: verdict.runCapUsd });
      globalFree--;
      const projectNow = (projectRunning.get(task.project) ?? 0) + 1;
      projectRunning.set(task.project, projectNow);
      if (projectNow === input.projects.get(task.project)!.maxAgents) projectsWithRoom--;
      const agentNow = (agentRunning.get(verdict.agent) ?? 0) + 1;
      agentRunning.set(verdict.agent, agentNow);
      if (agentNow === input.agents.get(verdict.agent)!.maxConcurrent) agentsWithRoom--;
    } else if (explain) {
      waiting.push({ taskId: task.id, project: task.project, reason: verdict.reason, detail: verdict.detail });
    }
  }
  return { starts, waiting };
}

function backpressureOf(project: TickProject): string | null {
  const { openPrs, maxOpenPrs, needsReview, maxNeedsReview } = project.backpressure;
  if (maxOpenPrs != null && openPrs >= maxOpenPrs) return `${openPrs} open pull requests (limit ${maxOpenPrs})`;
  if (maxNeedsReview != null && needsReview >= maxNeedsReview) {
    return `${needsReview} tasks need review (limit ${maxNeedsReview})`;
  }
  return null;
}
