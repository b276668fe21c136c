import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent, ToolPolicy } from '../agents/agent.js';
import { agentBaseEnvironment } from '../agents/environment.js';
import { adapterFor } from '../agents/registry.js';
import { superviseRun, type RunReport } from '../agents/supervisor.js';
import { decideAfterRun, type AfterRun } from '../core/after-run.js';
import { backoffDelay } from '../core/backoff.js';
import { checkBudget } from '../core/budget.js';
import { OrchError } from '../core/errors.js';
import { buildAgentPrompt, type PreviousAttempt } from '../core/prompt.js';
import { parseResultBlock, type AgentResult } from '../core/result-contract.js';
import type { Run, Task } from '../core/types.js';
import type { Orch } from './context.js';
import { git } from '../workspace/git.js';
import { startOfDayUtc } from './tick-input.js';
import { applyTransition } from './transitions.js';
import { settleWaits } from './wait-graph.js';

export interface AttemptOptions {
  /** The directory the agent works in (the task's worktree). */
  cwd: string;
  /** The agent to run; default: the task's routed agent, else the project's first. */
  agent?: string;
  tools?: ToolPolicy;
  /** Aborting it cancels the run. */
  signal?: AbortSignal;
  /** The environment agents start from (default: this process's), reduced to the allow-list. */
  sourceEnv?: NodeJS.ProcessEnv;
  random?: () => number;
}

export interface AttemptResult {
  run: Run;
  task: Task;
  report: RunReport;
  decision: AfterRun;
  result: AgentResult | null;
}

const DEFAULT_TOOLS: ToolPolicy = { mode: 'edit', allowedTools: [], deniedTools: [], writableDirs: [] };

/** `runs/<run>/`: the audit trail of one run (prompt, agent log, verdict). */
export const runDirectory = (home: string, runId: number) => join(home, 'runs', String(runId));

/**
 * One attempt of one agent on one task: claim, start, supervise the agent, record what it did, and
 * move the task on (to the judge, back to the queue, blocked or to a person). Every step is an event;
 * every write after the claim carries its fencing token, so a run whose lease was taken over can no
 * longer change the task.
 */
export async function runAttempt(orch: Orch, taskId: number, options: AttemptOptions): Promise<AttemptResult> {
  const { store, config } = orch;
  const task = await store.getTask(taskId);
  if (!task) throw new OrchError('not_found', `task ${taskId} not found`);
  const project = config.projects[task.project];
  if (!project) throw new OrchError('config', `project "${task.project}" is not in config.yaml`);
  const agentName = options.agent ?? task.agent ?? project.agents[0]!;
  const agent = config.agents[agentName];
  if (!agent) throw new OrchError('config', `agent "${agentName}" is not configured`);
  const model = agent.model;
  const leaseMs = config.scheduler.leaseS * 1000;
  const owner = `${hostname()}:${process.pid}`;

  const previous: PreviousAttempt[] = (await store.listRuns({ taskId }))
    .filter((r) => r.outcome !== null)
    .map((r) => ({ attempt: r.attempt, outcome: r.outcome!, reason: resultReason(r), summary: resultSummary(r) }));
  const { prompt, systemPromptAppend } = buildAgentPrompt(task, previous);

  const { claim, run } = await store.transaction(async (tx) => {
    const now = orch.now();
    const claim = await tx.claimTask({ taskId, owner, leaseMs, now });
    if (!claim) throw new OrchError('conflict', `task ${taskId} is already claimed by another run`);
    let current = (await tx.getTask(taskId))!;
    const routing = { agent: agentName, model };
    if (current.state === 'new') current = await applyTransition(tx, current, 'route', { now, patch: routing, fence: claim.token, reason: `agent ${agentName}` });
    current = await applyTransition(tx, current, 'start', { now, fence: claim.token, patch: { ...routing, attempts: current.attempts + 1, nextAttemptAt: null } });
    const created = await tx.createRun({ taskId, project: task.project, attempt: current.attempts, agent: agentName, model, host: hostname(), startedAt: now }, claim.token);
    const logPath = join(runDirectory(orch.home, created.id), 'agent.jsonl');
    const run = await tx.updateRun(created.id, claim.token, { logPath }, now, { type: 'run.started', data: { agent: agentName, attempt: current.attempts } });
    return { claim, run };
  });

  const runDir = runDirectory(orch.home, run.id);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'prompt.md'), `${prompt}\n\n---\n\n${systemPromptAppend}\n`);

  // Renew the lease while the agent works; losing it means another owner took the task: stop.
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    void store.renewClaim(taskId, claim.token, orch.now() + leaseMs).then(
      (held) => held || lost.abort(),
      () => undefined,
    );
  }, Math.max(1000, leaseMs / 3));
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;

  let retryAfterMs: number | null = null;
  const record = async (event: AgentEvent) => {
    if (event.type === 'rate_limit' && event.retryAfterMs !== null) retryAfterMs = event.retryAfterMs;
    if (event.type === 'unparsed') return; // kept in agent.jsonl; not worth an event
    await store.appendEvent({ type: `agent.${event.type}`, project: task.project, taskId, runId: run.id, data: { ...event } }, orch.now());
  };

  const budgetUsd = await runBudget(orch, task);
  let report: RunReport;
  try {
    report = await superviseRun({
      adapter: adapterFor(agent.kind),
      agent,
      spec: {
        prompt,
        systemPromptAppend,
        model,
        tools: options.tools ?? DEFAULT_TOOLS,
        budgetUsd,
        maxTurns: project.run.maxTurns,
        resumeSessionId: null,
        cwd: options.cwd,
        runHome: join(runDir, 'home'),
        env: agentBaseEnvironment(options.sourceEnv ?? process.env, agent.env),
      },
      logPath: run.logPath!,
      timeoutMs: project.run.timeoutS * 1000,
      stallMs: project.run.stallS * 1000,
      budgetUsd,
      prices: config.prices,
      signal,
      onEvent: record,
      onSpawn: async (pid) => {
        await store.updateRun(run.id, claim.token, { pid }, orch.now(), { type: 'run.spawned', data: { pid } });
      },
    });
  } finally {
    clearInterval(heartbeat);
  }

  const parsed = report.finalText ? parseResultBlock(report.finalText) : null;
  const result = parsed?.ok ? parsed.result : null;
  const costUsd = report.costUsd ?? 0;
  const changedFiles = result === null && report.outcome === 'succeeded' ? await hasChanges(options.cwd) : null;
  const totals = report.totals;

  const outcome = await store.transaction(async (tx) => {
    const now = orch.now();
    const ended = await tx.updateRun(
      run.id,
      claim.token,
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
    let current = (await tx.getTask(taskId))!;
    const spent = current.costUsd + costUsd;
    const decision = decideAfterRun({
      outcome: report.outcome,
      reason: report.reason,
      result,
      attempts: current.attempts,
      maxAttempts: project.maxAttempts,
      taskState: current.state,
      taskBudgetExhausted: project.budget.taskUsd !== null && spent >= project.budget.taskUsd,
      changedFiles,
    });
    const fence = claim.token;
    switch (decision.next) {
      case 'judge':
        current = await applyTransition(tx, current, 'judge', { now, fence, reason: decision.reason, patch: { costUsd: spent } });
        break;
      case 'retry': {
        const attempts = decision.countsAsAttempt ? current.attempts : current.attempts - 1;
        const delay = decision.backoff
          ? backoffDelay(current.attempts, { baseMs: project.backoff.baseS * 1000, capMs: project.backoff.capS * 1000, jitter: project.backoff.jitter }, options.random ?? Math.random)
          : 0;
        if (decision.changeAgent) {
          const until = now + (retryAfterMs ?? project.run.cooldownS * 1000);
          await tx.setCooldown(agentName, until, decision.reason, now);
        }
        current = await applyTransition(tx, current, 'retry', {
          now,
          fence,
          reason: decision.reason,
          // A rate-limited task is routed afresh, so the tick hands it to the next agent not cooling down.
          patch: { costUsd: spent, attempts, nextAttemptAt: delay > 0 ? now + delay : null, ...(decision.changeAgent ? { agent: null, model: null } : {}) },
        });
        break;
      }
      case 'block':
        current = await applyTransition(tx, current, 'block', { now, fence, reason: decision.reason, patch: { costUsd: spent, blockKind: 'agent', blockedReason: decision.reason } });
        break;
      case 'escalate':
        current = await applyTransition(tx, current, 'escalate', { now, fence, reason: decision.reason, patch: { costUsd: spent, blockedReason: decision.reason } });
        break;
      case 'none':
        current = await tx.updateTask(taskId, { fence }, { costUsd: spent }, now, { type: 'task.cost', data: { costUsd: spent } });
        break;
    }
    await tx.releaseClaim(taskId, fence, now);
    await settleWaits(tx, now);
    return { run: ended, task: current, decision };
  });
  return { ...outcome, report, result };
}

/** Whether the working directory differs from its HEAD; null when it is not a git work tree. */
async function hasChanges(cwd: string): Promise<boolean | null> {
  try {
    return (await git(cwd, ['status', '--porcelain'])) !== '';
  } catch {
    return null;
  }
}

/** The most this run may spend: the smallest of the per-run cap and what is left today and for the task. */
async function runBudget(orch: Orch, task: Task): Promise<number | null> {
  const today = await orch.store.listRuns({ project: task.project, startedAfter: startOfDayUtc(orch.now()) });
  const verdict = checkBudget(orch.config.projects[task.project]!.budget, {
    todayUsd: today.reduce((sum, r) => sum + r.costUsd, 0),
    taskUsd: task.costUsd,
  });
  // The tick does not start a run without budget; one started anyway gets nothing to spend.
  return verdict.ok ? verdict.runCapUsd : 0;
}

const resultField = (run: Run, key: string): string | null => {
  const value = (run.result as Record<string, unknown> | null)?.[key];
  return typeof value === 'string' ? value : null;
};
const resultReason = (run: Run) => resultField(run, 'reason') ?? 'no reason recorded';
const resultSummary = (run: Run) => {
  const contract = (run.result as { contract?: AgentResult | null } | null)?.contract;
  return contract ? contract.summary : null;
};
