import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEvent, ToolPolicy } from '../agents/agent.js';
import { agentBaseEnvironment } from '../agents/environment.js';
import { adapterFor } from '../agents/registry.js';
import { superviseRun, type RunReport } from '../agents/supervisor.js';
import type { AgentConfig, ProjectConfig } from '../config/schema.js';
import { afterFailure, decideAfterRun, type AfterRun } from '../core/after-run.js';
import { backoffDelay } from '../core/backoff.js';
import { checkBudget } from '../core/budget.js';
import { OrchError } from '../core/errors.js';
import type { AgentPrompt } from '../core/prompt.js';
import { parseResultBlock } from '../core/result-block.js';
import type { AgentResult } from '../core/result-contract.js';
import { modelFor, type RoutingDecision } from '../core/routing.js';
import type { Run, Task } from '../core/types.js';
import type { NewRun, StoreOps } from '../store/store.js';
import { git, tryGit } from '../workspace/git.js';
import { agentEventRecord } from './agent-event-record.js';
import { promptFor, sessionResumeFor, type SessionResume } from './attempt-prompt.js';
import type { Orch } from './context.js';
import { eventWriterOf, RunEvents } from './event-writer.js';
import { claimOwner, runHostName } from './hosts.js';
import { toolPolicyFor } from './role-prompts.js';
import { recordRoute, routeForAttempt } from './router.js';
import { openRunApprovals } from './run-approvals.js';
import { agentSandbox, sandboxRecord } from './run-sandbox.js';
import { isStorageFull } from './storage-condition.js';
import { TOOL_MODE_OF_ROLE } from '../core/roles.js';
import { spentToday } from './tick-input.js';
import { applyTransition } from './transitions.js';
import { settleWaits } from './wait-graph.js';
import { endReasonAfterAgent, type RunEndReason } from '../core/end-reasons.js';

/** `runs/<run>/`: the audit trail of one run (prompt, agent log, verdict). */
export const runDirectory = (home: string, runId: number) => join(home, 'runs', String(runId));


/** A claimed, started attempt: everything later steps need, and the lease kept alive meanwhile. */
export interface Attempt {
  task: Task;
  run: Run;
  /** The claim's fencing token: every write of this attempt presents it. */
  token: number;
  agentName: string;
  agent: AgentConfig;
  /** The model this attempt runs with (routed, mapped or the agent's own); null: the CLI's default. */
  model: string | null;
  project: ProjectConfig;
  runDir: string;
  /** Aborted when the lease is lost to another owner: stop working on the task. */
  lost: AbortSignal;
  stopHeartbeat(): void;
}

/** How the caller chose the agent it passes to `beginAttempt`, when routing did not (the tick's round robin). */
export interface GivenRouting {
  by: 'round_robin';
  reason: string;
}

/**
 * Claims the task, routes and starts it, and opens its run: all in one transaction, so a task is
 * either started with a claim and a run, or not touched. A task not yet routed — or given another
 * agent — is routed here (router.ts decides). Then keeps the lease alive until the attempt ends.
 */
export async function beginAttempt(orch: Orch, taskId: number, options: { agent?: string; routing?: GivenRouting } = {}): Promise<Attempt> {
  const { store, config } = orch;
  const task = await store.getTask(taskId);
  if (!task) throw new OrchError('not_found', `task ${taskId} not found`);
  const project = config.projects[task.project];
  if (!project) throw new OrchError('config', `project "${task.project}" is not in config.yaml`);
  if (options.agent !== undefined && !config.agents[options.agent]) throw new OrchError('config', `agent "${options.agent}" is not configured`);
  const given = options.agent === undefined ? null : { agent: options.agent, ...(options.routing ?? { by: 'preset' as const, reason: `agent ${options.agent} given to this run` }) };
  const decision = await routeForAttempt(orch, task, given);
  const agentName = decision?.agent ?? task.agent!;
  const agent = config.agents[agentName];
  if (!agent) throw new OrchError('config', `agent "${agentName}" is not configured`);
  const model = decision ? decision.model : (task.model ?? modelFor(agentName, task.complexity, project.routing.modelMap, agent.model));
  const leaseMs = config.scheduler.leaseS * 1000;

  const started = await store.transaction(async (tx) => {
    const now = orch.now();
    const claim = await tx.claimTask({ taskId, owner: claimOwner(), leaseMs, now });
    if (!claim) throw new OrchError('conflict', `task ${taskId} is already claimed by another run`);
    const { task: current, run } = await startClaimedTask(tx, orch, { taskId, token: claim.token, agentName, agent, decision, model, now, run: { host: runHostName(orch) } });
    return { task: current, run, token: claim.token };
  });

  const runDir = runDirectory(orch.home, started.run.id);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const lease = keepLeaseAlive(orch, taskId, started.token);
  return { ...started, agentName, agent, model, project, runDir, lost: lease.lost, stopHeartbeat: lease.stop };
}

/**
 * What follows a claim, push or pull alike: route the task (by `decision` when there is one, else
 * plainly when new) and start it with one more attempt, and open its run with `logPath` under the
 * run's directory unless the run brings its own. `model` defaults to the agent's own (a pull worker
 * already runs with it). Runs inside the caller's transaction, every write fenced by the claim's token.
 */
export async function startClaimedTask(
  tx: StoreOps,
  orch: Orch,
  start: {
    taskId: number;
    token: number;
    agentName: string;
    agent: AgentConfig;
    decision?: RoutingDecision | null;
    model?: string | null;
    now: number;
    run: Partial<Pick<NewRun, 'host' | 'pid' | 'worktree' | 'branch' | 'logPath'>>;
  },
): Promise<{ task: Task; run: Run }> {
  const { taskId, token, agentName, agent, decision, now } = start;
  const model = start.model === undefined ? agent.model : start.model;
  let current = (await tx.getTask(taskId))!;
  if (decision) current = await recordRoute(tx, current, decision, now, { fence: token });
  else if (current.state === 'new') current = await applyTransition(tx, current, 'route', { now, patch: { agent: agentName, model }, fence: token, reason: `agent ${agentName}` });
  const routing = { agent: agentName, model, complexity: decision?.complexity ?? current.complexity };
  current = await applyTransition(tx, current, 'start', { now, fence: token, patch: { ...routing, attempts: current.attempts + 1, nextAttemptAt: null } });
  const created = await tx.createRun({ ...start.run, taskId, project: current.project, attempt: current.attempts, agent: agentName, model, startedAt: now }, token);
  const logPath = start.run.logPath ?? join(runDirectory(orch.home, created.id), 'agent.jsonl');
  const run = await tx.updateRun(created.id, token, { logPath }, now, { type: 'run.started', data: { agent: agentName, model, attempt: current.attempts } });
  return { task: current, run };
}

/** Renews a claim's lease until stopped; `lost` aborts once another owner holds the task. */
export function keepLeaseAlive(orch: Orch, taskId: number, token: number): { lost: AbortSignal; stop(): void } {
  const leaseMs = orch.config.scheduler.leaseS * 1000;
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    void orch.store.renewClaim(taskId, token, orch.now() + leaseMs).then(
      (held) => held || lost.abort(),
      () => undefined,
    );
  }, Math.max(1000, leaseMs / 3));
  return { lost: lost.signal, stop: () => clearInterval(heartbeat) };
}

/**
 * Takes over an attempt whose claim was made elsewhere (a pull worker's `orch agent claim`): the
 * run and its live claim, with the lease kept alive from here on. Null when the claim is gone or is
 * no longer this run's (it expired and was recovered).
 */
export async function resumeAttempt(orch: Orch, runId: number): Promise<Attempt | null> {
  const run = await orch.store.getRun(runId);
  if (!run) return null;
  const claim = await orch.store.getClaim(run.taskId);
  if (!claim || claim.runId !== run.id) return null;
  const task = (await orch.store.getTask(run.taskId))!;
  const project = orch.config.projects[task.project];
  if (!project) throw new OrchError('config', `project "${task.project}" is not in config.yaml`);
  const agent = orch.config.agents[run.agent];
  if (!agent) throw new OrchError('config', `agent "${run.agent}" is not configured`);
  const runDir = runDirectory(orch.home, run.id);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const lease = keepLeaseAlive(orch, task.id, claim.token);
  return { task, run, token: claim.token, agentName: run.agent, agent, model: run.model, project, runDir, lost: lease.lost, stopHeartbeat: lease.stop };
}

export interface AgentRunOptions {
  cwd: string;
  prompt: AgentPrompt;
  tools?: ToolPolicy;
  signal?: AbortSignal;
  /** The environment agents start from (default: this process's), reduced to the allow-list. */
  sourceEnv?: NodeJS.ProcessEnv;
  /** Set on top of the agent's environment (ports of the slot, ORCH_RUN_ID). */
  extraEnv?: Record<string, string>;
  /** Continue this session instead of starting one. */
  resume?: SessionResume | null;
  /** Called once the agent's process runs (after its spawn is stored): work that must not delay it. */
  onSpawned?: () => void;
}

export interface AgentRunOutcome {
  report: RunReport;
  result: AgentResult | null;
  retryAfterMs: number | null;
  /**
   * Whether the agent changed anything, null when unknown; only looked at when it gave no result
   * block. `runAgent` leaves it null: what the work is measured against is the caller's to say.
   */
  changedFiles: boolean | null;
}

/** Runs the attempt's agent under supervision, storing each event as it arrives. */
export async function runAgent(orch: Orch, attempt: Attempt, options: AgentRunOptions): Promise<AgentRunOutcome> {
  const { store } = orch;
  const { task, run, project, agent } = attempt;
  let retryAfterMs: number | null = null;
  // Queued with the process's event writer, stored a batch at a time (event-writer.ts).
  const events = new RunEvents(eventWriterOf(store));
  const add = (event: AgentEvent, logLine: number) =>
    events.add({ event: { type: `agent.${event.type}`, project: task.project, taskId: task.id, runId: run.id, data: agentEventRecord(event, logLine) }, at: orch.now() });
  // Stored at once, not when the run ends: a crash before then must not lose the session to resume.
  const recordSession = async (event: AgentEvent & { type: 'session_started' }, logLine: number) => {
    await events.settled(); // what came before it is stored first
    await store.updateRun(run.id, attempt.token, { sessionId: event.sessionId }, orch.now());
    await add(event, logLine);
  };
  // Called for every line an agent prints: it returns a promise only when there is something to wait for.
  const record = (event: AgentEvent, _cost: number | null, logLine: number): Promise<void> | undefined => {
    if (event.type === 'rate_limit' && event.retryAfterMs !== null) retryAfterMs = event.retryAfterMs;
    if (event.type === 'unparsed') return undefined; // kept in agent.jsonl; not worth an event
    if (event.type === 'session_started') return recordSession(event, logLine);
    return add(event, logLine);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, attempt.lost]) : attempt.lost;
  const runHome = join(attempt.runDir, 'home');
  // The CLI keeps its sessions under its HOME: the resumed run starts from a copy of the old run's,
  // so each run's directory stays its own record.
  const resumedHome = options.resume?.home ?? null;
  if (resumedHome) await cp(resumedHome, runHome, { recursive: true });
  const env = { ...agentBaseEnvironment(options.sourceEnv ?? process.env, agent.env), ...options.extraEnv, ORCH_RUN_ID: String(run.id), ORCH_TASK_ID: String(task.id) };
  await mkdir(runHome, { recursive: true, mode: 0o700 });
  const approvals = await openRunApprovals(orch, attempt, options.cwd, runHome);
  const sandboxed = approvals ? { ...project, sandboxPaths: [...project.sandboxPaths, ...approvals.sandboxPaths] } : project;
  let supervised: RunReport;
  try {
    const sandbox = agentSandbox(orch, sandboxed, agent, { cwd: options.cwd, runHome, runDir: attempt.runDir, readOnly: TOOL_MODE_OF_ROLE[task.role] === 'read-only', env, sessionHomes: resumedHome ? [resumedHome] : [] }, options.sourceEnv);
    const [budgetUsd] = await Promise.all([
      runBudget(orch, task),
      store.appendEvent({ type: 'run.sandbox', project: task.project, taskId: task.id, runId: run.id, data: sandboxRecord(sandbox) }, orch.now()),
    ]);
    supervised = await superviseRun({
      adapter: adapterFor(agent.kind),
      agent,
      spec: {
        prompt: options.prompt.prompt,
        systemPromptAppend: options.prompt.systemPromptAppend,
        model: attempt.model,
        tools: options.tools ?? toolPolicyFor(task.role),
        budgetUsd,
        maxTurns: project.run.maxTurns,
        resumeSessionId: options.resume?.sessionId ?? null,
        cwd: options.cwd,
        runHome,
        env,
        approvals: approvals?.server ?? null,
      },
      sandbox,
      logPath: run.logPath!,
      timeoutMs: project.run.timeoutS * 1000,
      stallMs: project.run.stallS * 1000,
      maxOutputBytes: project.run.maxOutputMb * 1024 * 1024,
      budgetUsd,
      prices: orch.config.prices,
      signal,
      onEvent: record,
      onSpawn: async (pid) => {
        await store.updateRun(run.id, attempt.token, { pid }, orch.now(), { type: 'run.spawned', data: { pid } });
        options.onSpawned?.();
      },
    });
  } finally {
    await approvals?.close();
    // Whatever ended the run (its end, a cancel, a failure), its events are stored before anything after them.
    await events.settled();
  }
  // A batch that could not be stored is the run's storage error, as a failed single write was.
  const report: RunReport = { ...supervised, storageError: supervised.storageError ?? (await events.settled()) };
  for (const denial of report.sandboxDenials) {
    await store.appendEvent({ type: 'run.sandbox_denied', project: task.project, taskId: task.id, runId: run.id, data: { line: denial } }, orch.now());
  }
  // Output and events that could not be kept for want of room: the attempt stops here, given back.
  if (report.storageError && isStorageFull(report.storageError)) throw report.storageError;
  const parsed = report.finalText ? parseResultBlock(report.finalText) : null;
  const result = parsed?.ok ? parsed.result : null;
  return { report, result, retryAfterMs, changedFiles: null };
}

/**
 * Records how the agent run ended and moves the task on by `decideAfterRun`: to `judging`, back to the
 * queue (cooling a rate-limited agent down), blocked, or to a person. Returns the decision.
 */
export async function settleAgentRun(orch: Orch, attempt: Attempt, outcome: AgentRunOutcome, random: () => number = Math.random): Promise<{ task: Task; run: Run; decision: AfterRun }> {
  const { report, result } = outcome;
  const costUsd = report.costUsd ?? 0;
  const totals = report.totals;
  return orch.store.transaction(async (tx) => {
    const now = orch.now();
    const run = await tx.updateRun(
      attempt.run.id,
      attempt.token,
      {
        endedAt: now,
        outcome: report.outcome,
        exitCode: report.exitCode,
        sessionId: report.sessionId,
        tokensIn: totals.inputTokens + totals.cacheReadTokens + totals.cacheWriteTokens,
        tokensOut: totals.outputTokens,
        costUsd,
        result: { reason: report.reason, contract: result, priced: report.costUsd !== null, durationMs: report.durationMs },
      },
      now,
      { type: 'run.ended', data: { outcome: report.outcome, reason: report.reason, costUsd, exitCode: report.exitCode } },
    );
    const current = await tx.updateTask(attempt.task.id, { fence: attempt.token }, { costUsd: (await tx.getTask(attempt.task.id))!.costUsd + costUsd }, now, {
      type: 'task.cost',
      data: { addedUsd: costUsd },
    });
    const decision = decideAfterRun({
      outcome: report.outcome,
      reason: report.reason,
      result,
      attempts: current.attempts,
      maxAttempts: attempt.project.maxAttempts,
      taskState: current.state,
      taskBudgetExhausted: attempt.project.budget.taskUsd !== null && current.costUsd >= attempt.project.budget.taskUsd,
      changedFiles: outcome.changedFiles,
    });
    if (decision.next === 'retry' && decision.changeAgent) {
      await tx.setCooldown(attempt.agentName, now + (outcome.retryAfterMs ?? attempt.project.run.cooldownS * 1000), decision.reason, now);
    }
    const endReason = endReasonAfterAgent(report.outcome, decision.next, current.state);
    const ended = endReason === null ? run : await tx.updateRun(attempt.run.id, attempt.token, { endReason }, now);
    // A run a person paused is no attempt of the task's: it goes on from its worktree when resumed.
    const given = endReason === 'paused' ? await tx.updateTask(current.id, { fence: attempt.token }, { attempts: Math.max(0, current.attempts - 1) }, now, { type: 'task.paused', data: { runId: attempt.run.id } }) : current;
    const task = await applyDecision(tx, attempt, given, decision, now, random);
    return { task, run: ended, decision };
  });
}

/** Carries a decision out on the task (with the attempt's fence). */
export async function applyDecision(tx: StoreOps, attempt: Attempt, task: Task, decision: AfterRun, now: number, random: () => number = Math.random): Promise<Task> {
  const fence = attempt.token;
  const { project } = attempt;
  switch (decision.next) {
    case 'judge':
      return applyTransition(tx, task, 'judge', { now, fence, reason: decision.reason });
    case 'retry': {
      const attempts = decision.countsAsAttempt ? task.attempts : task.attempts - 1;
      const policy = { baseMs: project.backoff.baseS * 1000, capMs: project.backoff.capS * 1000, jitter: project.backoff.jitter };
      const delay = decision.backoff ? backoffDelay(task.attempts, policy, random) : 0;
      return applyTransition(tx, task, 'retry', {
        now,
        fence,
        reason: decision.reason,
        // A rate-limited task is routed afresh, so the tick hands it to the next agent not cooling down.
        patch: { attempts, nextAttemptAt: delay > 0 ? now + delay : null, ...(decision.changeAgent ? { agent: null, model: null } : {}) },
      });
    }
    case 'block':
      return applyTransition(tx, task, 'block', { now, fence, reason: decision.reason, patch: { blockKind: 'agent', blockedReason: decision.reason } });
    case 'escalate':
      return applyTransition(tx, task, 'escalate', { now, fence, reason: decision.reason, patch: { blockedReason: decision.reason } });
    case 'none':
      return task;
  }
}

/** A step after the agent failed (a hook, the judge, the merge): retry with backoff, or a person. */
export async function failAttempt(
  orch: Orch,
  attempt: Attempt,
  reason: string,
  options: { endReason: RunEndReason; escalate?: boolean; random?: () => number; record?: Record<string, unknown> },
): Promise<Task> {
  return orch.store.transaction(async (tx) => {
    const now = orch.now();
    const task = (await tx.getTask(attempt.task.id))!;
    if (task.state === 'cancelled' || task.state === 'done') return task;
    const decision: AfterRun = options.escalate ? { next: 'escalate', reason } : afterFailure(task.attempts, attempt.project.maxAttempts, reason);
    const run = (await tx.getRun(attempt.run.id))!;
    const recorded = run.result as Record<string, unknown> | null;
    // A step before the agent (a hook) may fail too: the run is closed either way.
    await tx.updateRun(attempt.run.id, attempt.token, { endedAt: run.endedAt ?? now, outcome: run.outcome ?? 'failed', endReason: options.endReason, result: { ...recorded, ...options.record, failure: reason } }, now, {
      type: 'run.failed',
      data: { reason, endReason: options.endReason },
    });
    return applyDecision(tx, attempt, task, decision, now, options.random);
  });
}

/** Ends the attempt: stops the heartbeat, releases the claim and lets waiting tasks move. */
export async function endAttempt(orch: Orch, attempt: Attempt): Promise<void> {
  attempt.stopHeartbeat();
  await orch.store.transaction(async (tx) => {
    const now = orch.now();
    await tx.releaseClaim(attempt.task.id, attempt.token, now);
    await settleWaits(tx, now);
  });
}

export interface AttemptOptions extends Omit<AgentRunOptions, 'prompt'> {
  /** The agent to run; default: the task's routed agent, else the one routing chooses. */
  agent?: string;
  /** How the caller chose `agent`, when it was the tick's round robin. */
  routing?: GivenRouting;
  random?: () => number;
}

export interface AttemptResult {
  run: Run;
  task: Task;
  report: RunReport;
  decision: AfterRun;
  result: AgentResult | null;
}

/**
 * One attempt of one agent on one task, in a directory the caller provides: claim, start, supervise
 * the agent, record what it did, and move the task on (to the judge, back to the queue, blocked or to
 * a person). Every step is an event; every write after the claim carries its fencing token.
 */
export async function runAttempt(orch: Orch, taskId: number, options: AttemptOptions): Promise<AttemptResult> {
  const attempt = await beginAttempt(orch, taskId, { agent: options.agent, routing: options.routing });
  try {
    const resume = await sessionResumeFor(orch, attempt);
    const prompt = await promptFor(orch, attempt, { resume, cwd: options.cwd });
    const headBefore = await headOf(options.cwd);
    const outcome = await runAgent(orch, attempt, { ...options, prompt, resume });
    const changedFiles = await changedSince(options.cwd, headBefore);
    const settled = await settleAgentRun(orch, attempt, { ...outcome, changedFiles }, options.random);
    return { ...settled, report: outcome.report, result: outcome.result };
  } finally {
    await endAttempt(orch, attempt);
  }
}

/** The commit checked out in `cwd`; null when it is not a git work tree (or has no commit yet). */
async function headOf(cwd: string): Promise<string | null> {
  const head = await tryGit(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD']);
  return head.ok ? head.stdout.trim() : null;
}

/**
 * Whether the agent changed the directory: files left uncommitted, or commits of its own (HEAD moved).
 * Null when it is not a git work tree.
 */
async function changedSince(cwd: string, headBefore: string | null): Promise<boolean | null> {
  try {
    if ((await git(cwd, ['status', '--porcelain'])) !== '') return true;
  } catch {
    return null;
  }
  return (await headOf(cwd)) !== headBefore;
}

/** The most this run may spend: the smallest of the per-run cap and what is left today and for the task. */
async function runBudget(orch: Orch, task: Task): Promise<number | null> {
  const today = await spentToday(orch.store, orch.now(), task.project);
  const verdict = checkBudget(orch.config.projects[task.project]!.budget, {
    todayUsd: today.get(task.project) ?? 0,
    taskUsd: task.costUsd,
  });
  // The tick does not start a run without budget; one started anyway gets nothing to spend.
  return verdict.ok ? verdict.runCapUsd : 0;
}
