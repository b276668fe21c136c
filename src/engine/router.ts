// Routing a task: gathers what the pure decision needs (the project's agents, cooldowns, weights, the
// round robin's tally), asks the project's LLM router when one is configured and nothing else settles
// the agent, and writes the decision: the `route` transition (agent, model, complexity) and a
// `task.routed` event saying who decided and why. The one place a task's agent is chosen.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectConfig, RouterSettings } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import {
  buildRouterPrompt,
  checkRouterAnswer,
  decideRoute,
  needsRouter,
  type RoutedBy,
  type RouterVerdict,
  type RoutingDecision,
  type RoutingInput,
} from '../core/routing.js';
import { parseRouterAnswer } from '../core/router-answer.js';
import { DISPATCHABLE_STATES, type Task } from '../core/types.js';
import type { StoreOps } from '../store/store.js';
import { git } from '../workspace/git.js';
import type { Orch } from './context.js';
import { runReadOnlyAgent } from './read-only-run.js';
import { roundRobinTallies, routingWeightsFor } from './scoreboard.js';
import { applyTransition } from './transitions.js';

/** `routing/<task>/`: the prompts and logs of a task's last router runs. Never a task's worktree. */
export const routingDirectory = (home: string, taskId: number) => join(home, 'routing', String(taskId));

/** What a decision about one project's task rests on, besides the task. */
export type RoutingContext = Omit<RoutingInput, 'task' | 'keepPreset' | 'given'> & { project: ProjectConfig };

/** The project's agents, which of them can work now, their weights and the round robin's tally. */
export async function routingContext(orch: Orch, projectName: string): Promise<RoutingContext> {
  const { config, store } = orch;
  const project = config.projects[projectName];
  if (!project) throw new OrchError('config', `project "${projectName}" is not in config.yaml`);
  const now = orch.now();
  const cooling = new Set((await store.activeCooldowns(now)).map((c) => c.key));
  const allowed = project.agents.filter((name) => config.agents[name] !== undefined);
  const available = allowed.filter((name) => !cooling.has(name) && config.agents[name]!.maxConcurrent > 0);
  const agentModels = Object.fromEntries(Object.values(config.agents).map((a) => [a.name, a.model]));
  return {
    project,
    choices: { allowed, available },
    weights: await routingWeightsFor(store, project, now),
    tally: (await roundRobinTallies(store, projectName)).get(projectName) ?? {},
    modelMap: project.routing.modelMap,
    agentModels,
  };
}

export interface RouteOptions {
  /** A person asked to route the task again: refusals are errors, and the agent already set is not kept. */
  again?: boolean;
  signal?: AbortSignal;
  /** The environment the router's CLI starts from (default: this process's), reduced to the allow-list. */
  sourceEnv?: NodeJS.ProcessEnv;
}

export interface RoutedTask {
  task: Task;
  decision: RoutingDecision;
}

/**
 * Routes a task waiting to run (`new`, or `routed` when routed again): labels, an agent chosen before
 * (not when routing again), the LLM router, the round robin. Returns null — or, routing again, throws
 * a conflict — when the task is not waiting to run, is being started, or no agent can work now.
 */
export async function routeTask(orch: Orch, taskId: number, options: RouteOptions = {}): Promise<RoutedTask | null> {
  const { store } = orch;
  const task = await store.getTask(taskId);
  if (!task) throw new OrchError('not_found', `task ${taskId} not found`);
  const refuse = (message: string): null => {
    if (options.again) throw new OrchError('conflict', message);
    return null;
  };
  if (!DISPATCHABLE_STATES.has(task.state)) return refuse(notWaitingMessage(task));
  if (await store.getClaim(taskId)) return refuse(`task ${taskId} is being started: route it again once it is not running`);
  const context = await routingContext(orch, task.project);
  const input: RoutingInput = { ...context, task, keepPreset: !options.again };
  const router = context.project.routing.router;
  let verdict: RouterVerdict | null = null;
  let routerCostUsd = 0;
  let routerAttempts = 0;
  if (router && needsRouter(input) && context.choices.available.length > 0) {
    ({ verdict, costUsd: routerCostUsd, attempts: routerAttempts } = await askRouter(orch, task, context, router, options));
    // Stopped (the scheduler is shutting down): no decision from a router cut short.
    if (options.signal?.aborted) {
      await addRouterCost(orch, taskId, routerCostUsd);
      return null;
    }
  }
  const decision = decideRoute(input, verdict);
  if (decision === null) {
    await addRouterCost(orch, taskId, routerCostUsd);
    return refuse(`no agent of project ${task.project} can work now (${context.choices.allowed.join(', ') || 'none configured'}: cooling down or switched off)`);
  }
  const extra = routerAttempts > 0 ? { routerAttempts, routerCostUsd } : {};
  const routed = await store.transaction(async (tx) => {
    const current = (await tx.getTask(taskId))!;
    // The task moved on while the router thought (started, cancelled): the decision is moot.
    if (!DISPATCHABLE_STATES.has(current.state) || (await tx.getClaim(taskId))) return null;
    return recordRoute(tx, current, decision, orch.now(), { costUsd: current.costUsd + routerCostUsd, data: extra });
  });
  if (!routed) {
    await addRouterCost(orch, taskId, routerCostUsd);
    return refuse(`task ${taskId} changed while it was being routed: try again`);
  }
  return { task: routed, decision };
}

/**
 * The decision for an attempt about to start (`beginAttempt`), without the LLM router: labels, the
 * agent the task or the caller already names (`given`: the tick's round robin, a person's `--agent`),
 * else the round robin. Null when the task's agent stands as it is.
 */
export async function routeForAttempt(orch: Orch, task: Task, given: { agent: string; by: RoutedBy; reason: string } | null): Promise<RoutingDecision | null> {
  const settled = task.state !== 'new' && task.agent !== null && (given === null || given.agent === task.agent);
  if (settled) return null;
  const context = await routingContext(orch, task.project);
  const decision = decideRoute({ ...context, task, keepPreset: true, given });
  if (decision === null) throw new OrchError('conflict', `no agent of project ${task.project} can work now: all are cooling down or switched off`);
  return decision;
}

/**
 * Writes a decision: the `route` transition when the task waits to run (with `patch` merged in), and
 * the `task.routed` event with the whole decision. Inside the caller's transaction.
 */
export async function recordRoute(
  tx: StoreOps,
  task: Task,
  decision: RoutingDecision,
  now: number,
  extra: { costUsd?: number; fence?: number; data?: Record<string, unknown> } = {},
): Promise<Task> {
  const patch = { agent: decision.agent, model: decision.model, complexity: decision.complexity, ...(extra.costUsd !== undefined ? { costUsd: extra.costUsd } : {}) };
  const routed = DISPATCHABLE_STATES.has(task.state)
    ? await applyTransition(tx, task, 'route', { now, fence: extra.fence, reason: decision.reason, patch, data: { by: decision.by } })
    : task;
  await tx.appendEvent({ type: 'task.routed', project: task.project, taskId: task.id, data: { ...decision, ...extra.data } }, now);
  return routed;
}

/** The latest routing decision of a task, from its `task.routed` events; null when it was never routed. */
export async function lastRouting(store: Pick<StoreOps, 'listEvents'>, taskId: number): Promise<(RoutingDecision & { at: number }) | null> {
  const events = await store.listEvents({ taskId, types: ['task.routed'] });
  const last = events.at(-1);
  return last ? { ...(last.data as unknown as RoutingDecision), at: last.at } : null;
}

function notWaitingMessage(task: Task): string {
  switch (task.state) {
    case 'running':
    case 'judging':
    case 'merging':
      return `task ${task.id} is ${task.state}: route it again once it is not running`;
    case 'done':
    case 'cancelled':
      return `task ${task.id} is ${task.state}: there is nothing to route`;
    default:
      return `task ${task.id} is ${task.state}: it is routed when it goes back to the queue`;
  }
}

/** A router run's cost belongs to the task even when its decision was not used. */
async function addRouterCost(orch: Orch, taskId: number, usd: number): Promise<void> {
  if (usd <= 0) return;
  await orch.store.transaction(async (tx) => {
    const task = await tx.getTask(taskId);
    if (task) await tx.updateTask(taskId, {}, { costUsd: task.costUsd + usd }, orch.now(), { type: 'task.cost', data: { addedUsd: usd, for: 'router' } });
  });
}

interface RouterAsked {
  verdict: RouterVerdict;
  costUsd: number;
  attempts: number;
}

/**
 * Runs the router's CLI read-only in a scratch directory, up to `attempts` times, each within
 * `timeout_s`: an answer that does not parse, or names an agent the project may not use or one
 * cooling down, is refused and the next attempt is told why. Never throws for the router's failings.
 */
async function askRouter(orch: Orch, task: Task, context: RoutingContext, settings: RouterSettings, options: RouteOptions): Promise<RouterAsked> {
  const agent = orch.config.agents[settings.agent];
  if (!agent) return { verdict: { ok: false, reason: `the router agent ${settings.agent} is not configured` }, costUsd: 0, attempts: 0 };
  const dir = routingDirectory(orch.home, task.id);
  rmSync(dir, { recursive: true, force: true });
  const cwd = join(dir, 'work');
  mkdirSync(cwd, { recursive: true, mode: 0o700 });
  // An empty repository of its own: some CLIs (codex) refuse to run outside one.
  await git(cwd, ['init', '-q']);
  const { choices } = context;
  const candidates = choices.available.map((name) => ({ name, kind: orch.config.agents[name]!.kind, model: orch.config.agents[name]!.model }));
  let costUsd = 0;
  let refused: string | null = null;
  let problem = 'it was not asked';
  let attempt = 0;
  while (attempt < settings.attempts && !options.signal?.aborted) {
    attempt++;
    const prompt = buildRouterPrompt(task, candidates, refused);
    writeFileSync(join(dir, `prompt-${attempt}.md`), `${prompt}\n`, { mode: 0o600 });
    const runHome = join(dir, `home-${attempt}`);
    const report = await runReadOnlyAgent(orch, {
      project: context.project,
      agent,
      prompt,
      cwd,
      runHome,
      runDir: dir,
      logPath: join(dir, `router-${attempt}.jsonl`),
      timeoutMs: settings.timeoutS * 1000,
      maxTurns: null,
      budgetUsd: null,
      signal: options.signal,
      sourceEnv: options.sourceEnv,
    });
    // The CLI's private HOME holds caches and sessions, not evidence: the log beside it is kept.
    rmSync(runHome, { recursive: true, force: true });
    costUsd += report.costUsd ?? 0;
    if (report.outcome !== 'succeeded') {
      problem = `its run ${report.outcome === 'timed_out' ? `timed out after ${settings.timeoutS}s` : `${report.outcome}: ${report.reason}`}`;
      refused = null;
      continue;
    }
    const parsed = parseRouterAnswer(report.finalText);
    const checked = parsed.ok ? checkRouterAnswer(parsed.answer, choices) : parsed;
    if (parsed.ok && checked.ok) return { verdict: { ok: true, answer: parsed.answer }, costUsd, attempts: attempt };
    problem = refused = checked.ok ? 'invalid answer' : checked.reason;
  }
  const tries = attempt === 1 ? '1 attempt' : `${attempt} attempts`;
  return { verdict: { ok: false, reason: `${settings.agent}: ${problem} (${tries})` }, costUsd, attempts: attempt };
}
