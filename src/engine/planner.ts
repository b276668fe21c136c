import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent } from '../agents/agent.js';
import type { AgentConfig, ProjectConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { attemptRecordOf, PLANNER_MEMORY, rememberAttempts } from '../core/memory.js';
import { renderPlanMarkdown } from '../core/plan-markdown.js';
import { buildPlannerPrompt, keyFilesOf, type OutcomeBrief, type PlannerInput, type TaskBrief } from '../core/plan-prompt.js';
import { afterSplit, standingOf, type DeferredItem, type PriorTask } from '../core/plan.js';
import { waitReason } from '../core/readiness.js';
import type { Task } from '../core/types.js';
import { ensureClone } from '../workspace/clone.js';
import { git } from '../workspace/git.js';
import { scratchDir } from '../workspace/layout.js';
import { createScratchWorktree, removeWorktree } from '../workspace/worktrees.js';
import { failAttempt, settleAgentRun, type Attempt } from './attempt.js';
import { agentEventRecord } from './agent-event-record.js';
import { converse, type Conversation, type PlanFailure, type RoundRefusal } from './planner-conversation.js';
import type { Orch } from './context.js';
import { withLock } from './locks.js';
import { loadRoleTemplate } from './role-prompts.js';
import { addTask } from './tasks.js';
import { applyTransition } from './transitions.js';

// The planner: a read-only agent in a scratch checkout of the project's clone reads the repository
// and the backlog and answers with a plan (core/plan.ts). Orch checks it, refuses repeats of failed
// work, asks once more when it must, creates the tasks and writes plan.md. Two uses: a cycle over the
// whole backlog (`orch plan --project P`) and the split of one task into sub-tasks (a task with the
// `plan` label or role, when the scheduler runs it).

export type { PlanFailure, PlanFailureKind, RoundRefusal } from './planner-conversation.js';


export interface PlanCycleOptions {
  /** The agent to plan with; default the project's first. */
  agent?: string;
  signal?: AbortSignal;
  /** The environment agents start from (default: this process's). */
  sourceEnv?: NodeJS.ProcessEnv;
}

export interface PlanCycleResult {
  /** `plan-<n>`: the cycle's name, and its directory under `runs/`. */
  cycle: string;
  planPath: string;
  created: Task[];
  refused: RoundRefusal[];
  deferred: DeferredItem[];
  failure: PlanFailure | null;
  costUsd: number;
}

/**
 * One planner cycle for a project: a scratch checkout of its default branch, the planner run over it,
 * the accepted tasks added to the backlog, and `runs/plan-<n>/plan.md` (with the prompt and the
 * agent's log beside it). A planner that fails is reported in the result, not thrown.
 */
export async function runPlanCycle(orch: Orch, projectName: string, options: PlanCycleOptions = {}): Promise<PlanCycleResult> {
  const project = orch.config.projects[projectName];
  if (!project || !(await orch.store.getProject(projectName))) throw new OrchError('not_found', `project "${projectName}" not found`);
  const agentName = options.agent ?? project.agents[0]!;
  const agent = orch.config.agents[agentName];
  if (!agent) throw new OrchError('config', `agent "${agentName}" is not configured`);

  const cycle = await numberCycle(orch, project.name, agentName);
  const dir = join(orch.home, 'runs', cycle);
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const failed = (failure: PlanFailure | { error: string }, costUsd: number | null) => orch.store.appendEvent({ type: 'plan.failed', project: project.name, data: { cycle, failure, costUsd } }, orch.now());
  const result = await inScratchCheckout(orch, project, cycle, async (cwd, defaultBranch) => {
    const { input, prior } = await gatherPlannerInput(orch, project, cwd, defaultBranch, null);
    const talk = await converse(
      { orch, project, agent, cwd, runHome: join(dir, 'home'), logPath: join(dir, 'agent.jsonl'), budgetUsd: project.budget.runUsd, signal: options.signal, sourceEnv: options.sourceEnv },
      buildPlannerPrompt(input, loadRoleTemplate('plan', project, cwd).text),
      prior,
      dir,
    );
    const created = talk.failure || !talk.plan ? new Map<number, Task>() : await createPlannedTasks(orch, project.name, talk, null);
    const about = await aboutLines(orch, agentName, agent, cwd, defaultBranch);
    writeFileSync(join(dir, 'plan.md'), renderPlanMarkdown({ heading: `Plan for ${project.name}`, about, plan: talk.plan, created, standIns: talk.standIns, refused: talk.refused, round: talk.round, failure: talk.failure ? `${talk.failure.kind}: ${talk.failure.message}` : null }), { mode: 0o600 });
    return { talk, created: [...created.values()] };
  }).catch(async (error: unknown) => {
    // Orch's own trouble (git, a broken template): the cycle still ends in the audit trail.
    await failed({ error: (error as Error).message.split('\n')[0]! }, null);
    throw error;
  });

  const costUsd = result.talk.costUsd;
  if (result.talk.failure) await failed(result.talk.failure, costUsd);
  else await orch.store.appendEvent({ type: 'plan.finished', project: project.name, data: { cycle, created: result.created.map((t) => t.id), refused: result.talk.refused.length, costUsd } }, orch.now());
  return { cycle, planPath: join(dir, 'plan.md'), created: result.created, refused: result.talk.refused, deferred: result.talk.plan?.deferred ?? [], failure: result.talk.failure, costUsd };
}

/**
 * Splits the attempt's task into sub-tasks (its children): the planner reads the repository with the
 * task in focus, the accepted sub-tasks are added, and the task waits for them, then runs once more
 * as a review of the whole (core/plan.ts afterSplit). A planner that fails fails the attempt like
 * any other, so it is retried or goes to a person. Writes `runs/<run>/plan.md`.
 */
export async function splitTask(orch: Orch, attempt: Attempt, options: PlanCycleOptions = {}): Promise<{ task: Task; note: string }> {
  const { project, task, run } = attempt;
  const signal = options.signal ? AbortSignal.any([options.signal, attempt.lost]) : attempt.lost;
  const outcome = await inScratchCheckout(orch, project, `run-${run.id}`, async (cwd, defaultBranch) => {
    const { input, prior } = await gatherPlannerInput(orch, project, cwd, defaultBranch, task);
    const talk = await converse(
      {
        orch,
        project,
        agent: attempt.agent,
        cwd,
        runHome: join(attempt.runDir, 'home'),
        logPath: run.logPath ?? join(attempt.runDir, 'agent.jsonl'),
        budgetUsd: project.budget.runUsd,
        signal,
        sourceEnv: options.sourceEnv,
        onEvent: agentEventRecorder(orch, attempt),
        onSpawn: (pid) => orch.store.updateRun(run.id, attempt.token, { pid }, orch.now(), { type: 'run.spawned', data: { pid } }).then(() => undefined),
      },
      buildPlannerPrompt(input, loadRoleTemplate('plan', project, cwd).text),
      prior,
      attempt.runDir,
      true,
    );
    const created = talk.failure || !talk.plan ? new Map<number, Task>() : await createPlannedTasks(orch, project.name, talk, task.id);
    const about = await aboutLines(orch, attempt.agentName, attempt.agent, cwd, defaultBranch);
    writeFileSync(
      join(attempt.runDir, 'plan.md'),
      renderPlanMarkdown({ heading: `Split of task #${task.id}: ${task.title}`, about, plan: talk.plan, created, standIns: talk.standIns, refused: talk.refused, round: talk.round, failure: talk.failure ? `${talk.failure.kind}: ${talk.failure.message}` : null }),
      { mode: 0o600 },
    );
    return { talk, children: [...created.values()] };
  });

  const { talk, children } = outcome;
  const last = talk.reports.at(-1);
  if (talk.failure?.kind === 'agent_failed' && last) {
    // The planner's own run failed (a rate limit, a time-out, a crash): settled like any agent run.
    const settled = await settleAgentRun(orch, attempt, { report: { ...last, costUsd: talk.costUsd, totals: talk.totals }, result: null, retryAfterMs: talk.retryAfterMs, changedFiles: null });
    return { task: settled.task, note: `planner run ${last.outcome}: ${settled.decision.reason}` };
  }
  const ids = children.map((c) => c.id);
  const reason = talk.failure ? `${talk.failure.kind}: ${talk.failure.message}` : `split into ${ids.map((id) => `#${id}`).join(', ')}`;
  // On failure the run's reason says only that the answer went unused: failAttempt records why.
  await recordSplitRun(orch, attempt, talk, { reason: talk.failure ? "the planner's answer was not used" : reason, contract: null, plan: 'plan.md', split: ids, refused: talk.refused.length, durationMs: talk.reports.reduce((sum, r) => sum + r.durationMs, 0) });
  if (talk.failure) return { task: await failAttempt(orch, attempt, reason, { endReason: 'agent_failed' }), note: reason };

  const waiting = await orch.store.transaction(async (tx) => {
    const current = (await tx.getTask(task.id))!;
    return applyTransition(tx, current, 'block', {
      now: orch.now(),
      fence: attempt.token,
      reason,
      // Routed afresh when it runs again: as a review it may want another agent.
      patch: { ...afterSplit(current), agent: null, model: null, blockKind: 'children', blockedReason: waitReason(ids) },
      data: { children: ids },
    });
  });
  return { task: waiting, note: reason };
}

/** Closes the split's run with what all its rounds cost, and adds the cost to the task. */
async function recordSplitRun(orch: Orch, attempt: Attempt, talk: Conversation, result: Record<string, unknown>): Promise<void> {
  const last = talk.reports.at(-1);
  const { totals } = talk;
  await orch.store.transaction(async (tx) => {
    const now = orch.now();
    await tx.updateRun(
      attempt.run.id,
      attempt.token,
      {
        endedAt: now,
        outcome: last?.outcome ?? 'failed',
        exitCode: last?.exitCode ?? null,
        sessionId: last?.sessionId ?? null,
        tokensIn: totals.inputTokens + totals.cacheReadTokens + totals.cacheWriteTokens,
        tokensOut: totals.outputTokens,
        costUsd: talk.costUsd,
        // A failed answer is recorded by failAttempt, which names why.
        ...(talk.failure ? {} : { endReason: 'completed' as const }),
        result,
      },
      now,
      { type: 'run.ended', data: { outcome: last?.outcome ?? 'failed', reason: result.reason, costUsd: talk.costUsd, exitCode: last?.exitCode ?? null } },
    );
    const task = (await tx.getTask(attempt.task.id))!;
    await tx.updateTask(task.id, { fence: attempt.token }, { costUsd: task.costUsd + talk.costUsd }, now, { type: 'task.cost', data: { addedUsd: talk.costUsd } });
  });
}

// ---------------------------------------------------------------- the planner's input

/**
 * `plan-<n>`, counting this home's cycles from 1, and its `plan.started` event. Counting and recording
 * share one write transaction, so two processes never take the same number; a folder left by an older
 * version, which named cycles by event id, is stepped over rather than written into.
 */
async function numberCycle(orch: Orch, project: string, agent: string): Promise<string> {
  return orch.store.transaction(async (tx) => {
    let n = (await tx.listEvents({ types: ['plan.started'] })).length + 1;
    while (existsSync(join(orch.home, 'runs', `plan-${n}`))) n++;
    const cycle = `plan-${n}`;
    await tx.appendEvent({ type: 'plan.started', project, data: { agent, cycle } }, orch.now());
    return cycle;
  });
}

/** Characters read of a key file; the prompt keeps less (core/plan-prompt.ts). */
const KEY_FILE_READ_BYTES = 16 * 1024;

/** The repository as Orch's clone holds it, the backlog, and what happened lately. */
async function gatherPlannerInput(orch: Orch, project: ProjectConfig, cwd: string, defaultBranch: string, split: Task | null): Promise<{ input: PlannerInput; prior: PriorTask[] }> {
  const files = (await git(cwd, ['ls-files', '-z'])).split('\0').filter(Boolean);
  const keyFiles = keyFilesOf(files).map((path) => ({ path, text: readStart(join(cwd, path), KEY_FILE_READ_BYTES) }));
  const tasks = (await orch.store.listTasks({ project: project.name })).filter((t) => t.id !== split?.id);
  const brief = (t: Task): TaskBrief => ({ id: t.id, title: t.title, state: t.state, role: t.role, note: t.blockedReason });
  const memoryOf = async (id: number) =>
    rememberAttempts(
      (await orch.store.listRuns({ taskId: id })).filter((r) => r.outcome !== null).map(attemptRecordOf),
      PLANNER_MEMORY,
    );

  const open = tasks.filter((t) => standingOf(t) === 'open');
  const failed = tasks.filter((t) => standingOf(t) === 'failed');
  const recent = tasks
    .filter((t) => standingOf(t) === 'failed' || standingOf(t) === 'done')
    .sort((a, b) => b.updatedAt - a.updatedAt || b.id - a.id)
    .slice(0, 25);
  const outcomes: OutcomeBrief[] = [];
  for (const t of recent) outcomes.push({ ...brief(t), memory: standingOf(t) === 'failed' ? await memoryOf(t.id) : [] });

  const prior: PriorTask[] = [
    ...failed.map((t) => ({ id: t.id, title: t.title, body: t.body, kind: 'failed' as const })),
    ...open.map((t) => ({ id: t.id, title: t.title, body: t.body, kind: 'open' as const })),
    ...(split ? [{ id: split.id, title: split.title, body: split.body, kind: 'splitting' as const }] : []),
  ];
  const input: PlannerInput = {
    project: project.name,
    defaultBranch,
    files,
    keyFiles,
    openTasks: open.map(brief),
    outcomes,
    split: split ? { id: split.id, title: split.title, body: split.body, labels: split.labels, memory: await memoryOf(split.id) } : null,
  };
  return { input, prior };
}

/** The first `bytes` of a file as text ('' when it cannot be read): key files may be large. */
function readStart(path: string, bytes: number): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(bytes);
      const read = readSync(fd, buffer, 0, bytes, 0);
      return buffer.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

async function aboutLines(orch: Orch, agentName: string, agent: AgentConfig, cwd: string, defaultBranch: string): Promise<string[]> {
  const head = await git(cwd, ['rev-parse', 'HEAD']);
  return [`- planner: ${agentName}${agent.model ? ` (${agent.model})` : ''}`, `- read: ${defaultBranch} at ${head.slice(0, 12)}`, `- at: ${new Date(orch.now()).toISOString()}`];
}

/** A detached checkout of the default branch for the planner, removed afterwards whatever happens. */
async function inScratchCheckout<T>(orch: Orch, project: ProjectConfig, name: string, work: (cwd: string, defaultBranch: string) => Promise<T>): Promise<T> {
  const lock = `clone:${project.name}`;
  const clone = await withLock(orch.home, lock, () => ensureClone(orch.home, { name: project.name, path: project.path, remote: project.remote, defaultBranch: project.defaultBranch }));
  const dir = join(scratchDir(orch.home, project.name), name);
  await withLock(orch.home, lock, () => createScratchWorktree(clone.path, dir, `refs/heads/${clone.defaultBranch}`));
  try {
    return await work(dir, clone.defaultBranch);
  } finally {
    await withLock(orch.home, lock, () => removeWorktree(clone.path, dir, { deleteBranch: false }));
  }
}

/** Stores a split run's agent events as runAgent does for any attempt (the session id at once). */
function agentEventRecorder(orch: Orch, attempt: Attempt): (event: AgentEvent, cost: number | null, logLine: number) => Promise<void> {
  return async (event, _cost, logLine) => {
    if (event.type === 'unparsed') return;
    if (event.type === 'session_started') await orch.store.updateRun(attempt.run.id, attempt.token, { sessionId: event.sessionId }, orch.now());
    await orch.store.appendEvent({ type: `agent.${event.type}`, project: attempt.task.project, taskId: attempt.task.id, runId: attempt.run.id, data: agentEventRecord(event, logLine) }, orch.now());
  };
}

// ---------------------------------------------------------------- the tasks

/**
 * Adds the accepted tasks in plan order, each dependency index turned into the id it got (or of the
 * open task standing in for it); with a parent, as its sub-tasks. Returns the created task of each
 * accepted index.
 */
async function createPlannedTasks(orch: Orch, project: string, talk: Conversation, parentId: number | null): Promise<Map<number, Task>> {
  const created = new Map<number, Task>();
  for (const index of talk.accepted) {
    const planned = talk.plan!.tasks[index]!;
    const dependsOn = planned.dependsOn.map((dep) => created.get(dep)?.id ?? talk.standIns.get(dep)).filter((id): id is number => id !== undefined);
    const task = await addTask(orch.store, { project, title: planned.title, body: planned.body, labels: planned.labels, priority: planned.priority, role: planned.role, parentId, dependsOn }, orch.now());
    created.set(index, task);
  }
  return created;
}
