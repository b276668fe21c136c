import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentEvent, ToolPolicy } from '../agents/agent.js';
import { agentBaseEnvironment } from '../agents/environment.js';
import { adapterFor } from '../agents/registry.js';
import { superviseRun, type RunReport } from '../agents/supervisor.js';
import type { AgentKind, ProjectConfig } from '../config/schema.js';
import { branchName } from '../core/branch-name.js';
import { OrchError } from '../core/errors.js';
import { buildKickstartPrompt } from '../core/kickstart.js';
import type { PlannedWorker } from '../core/plan-tick.js';
import { parseResultBlock } from '../core/result-block.js';
import type { AgentResult } from '../core/result-contract.js';
import type { Task, Worker, WorkerOutcome } from '../core/types.js';
import { workerName } from '../core/worker-names.js';
import { idleWorkersPause, unclaimedOutcome } from '../core/worker-outcome.js';
import type { Clone } from '../workspace/clone.js';
import { configuredHook, hookFailure, runHook, type HookName } from '../workspace/hooks.js';
import { clonePath, worktreesDir } from '../workspace/layout.js';
import { copyUntrackedFiles, slotEnvironment } from '../workspace/setup.js';
import { adoptWorkerWorktree, createWorkerWorktree, removeWorktree } from '../workspace/worktrees.js';
import { resumeAttempt, type AgentRunOutcome, type Attempt } from './attempt.js';
import { agentEventRecord } from './agent-event-record.js';
import type { Orch } from './context.js';
import { claimOwner, runHostName } from './hosts.js';
import { withLock } from './locks.js';
import { agentSandbox } from './run-sandbox.js';
import { orchInstallPaths } from './orch-install.js';
import { openWorkerApi } from './worker-api.js';
import { refreshClone } from './clone-access.js';
import { continueAfterAgent, type AttemptWorkspace, type TaskRunSummary } from './runner.js';
import { claimableNow } from './tick-input.js';

/** `workers/w<id>/`: a worker's own files (kickstart prompt, agent log, private home, the `orch` it runs). */
export const workerDirectory = (home: string, workerId: number) => join(home, 'workers', workerName(workerId));

export interface WorkerOptions {
  /** The slot the worker occupies: it decides the ports handed to the agent. */
  slot?: number;
  signal?: AbortSignal;
  /** The environment agents, hooks and judge commands start from (default: this process's). */
  sourceEnv?: NodeJS.ProcessEnv;
  random?: () => number;
  /** The command line of this Orch's CLI, which the worker's agent runs as `orch` (default: the built CLI under node). */
  orchCli?: string[];
  /** Told once Orch sees the worker's claim. */
  onClaimed?: (worker: Worker, task: Task) => void;
}

export interface WorkerSummary {
  /** The worker as it ended. */
  worker: Worker;
  /** How the pipeline left the task it claimed; null when it claimed none. */
  task: TaskRunSummary | null;
}

/**
 * What lets each CLI run `orch` (and git) without asking: tool rules are each CLI's own. Codex has no
 * rules, only its sandbox, which must let `orch` write its database and git its clone under ORCH_HOME.
 */
function workerTools(kind: AgentKind, home: string): ToolPolicy {
  const allowed: Record<AgentKind, string[]> = {
    claude: ['Bash(orch:*)', 'Bash(git:*)'],
    opencode: ['bash(orch *)', 'bash(git *)'],
    gemini: ['run_shell_command(orch)', 'run_shell_command(git)'],
    codex: [],
    command: [],
  };
  return { mode: 'edit', allowedTools: allowed[kind], deniedTools: [], writableDirs: kind === 'codex' ? [home] : [] };
}

/** The CLI of this Orch: next to this module when built, else the build of the sources being run. */
function defaultOrchCli(): string[] {
  const candidates = ['../cli/main.js', '../../dist/cli/main.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  const cli = candidates.find((path) => existsSync(path));
  if (!cli) throw new OrchError('config', 'cannot find the orch CLI to hand to pull workers: build Orch first');
  return [process.execPath, cli];
}

/** An `orch` on the worker's PATH that runs this very Orch, whatever the machine's PATH holds. */
function writeOrchShim(dir: string, cli: readonly string[]): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  writeFileSync(join(bin, 'orch'), `#!/bin/sh\nexec ${cli.map(quote).join(' ')} "$@"\n`, { mode: 0o600 });
  chmodSync(join(bin, 'orch'), 0o700);
  return bin;
}

/**
 * Records a new pull worker of this process, before anything about it runs: from then on the tick
 * counts it as holding a slot, so a tick that follows at once does not start a second one for it.
 */
export async function registerWorker(orch: Orch, plan: PlannedWorker): Promise<Worker> {
  if (!orch.config.projects[plan.project]) throw new OrchError('config', `project "${plan.project}" is not in config.yaml`);
  if (!orch.config.agents[plan.agent]) throw new OrchError('config', `agent "${plan.agent}" is not configured`);
  return orch.store.createWorker({ project: plan.project, agent: plan.agent, owner: claimOwner(), host: runHostName(orch), startedAt: orch.now() });
}

/**
 * One pull worker from start to end: a fresh worktree on its own branch, the project's hooks, then
 * its agent with the kickstart prompt, `orch` on its PATH and ORCH_RUN_ID naming it. While it runs,
 * Orch watches for its claim and keeps the claim's lease alive. When it exits having claimed a task,
 * the task goes on exactly as a push run after its agent step (the worktree handed to the task, judge,
 * merge, retry); having claimed nothing, it ends `no_work` or `unclaimed` and frees its slot.
 */
export async function runWorker(orch: Orch, started: Worker, plan: PlannedWorker, options: WorkerOptions = {}): Promise<WorkerSummary> {
  let worker = started;
  const project = orch.config.projects[plan.project]!;
  const dir = workerDirectory(orch.home, worker.id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let worktree: string | null = null;
  try {
    const orchCli = options.orchCli ?? defaultOrchCli();
    const clone = await refreshClone(orch, project);
    const made = await withLock(orch.home, `clone:${project.name}`, () => createWorkerWorktree(clone.path, worktreesDir(orch.home, project.name), worker.id, clone.defaultBranch));
    worktree = made.path;
    worker = await orch.store.updateWorker(worker.id, { worktree: made.path, branch: made.branch, logPath: join(dir, 'agent.jsonl') }, orch.now(), {
      type: 'worker.workspace',
      data: { worktree: made.path, branch: made.branch },
    });
    const slotEnv = slotEnvironment(options.slot ?? 0, project.ports);
    const env = { ...agentBaseEnvironment(options.sourceEnv ?? process.env, []), ...slotEnv };
    const unprepared = await prepareWorktree(orch, worker, project, env);
    if (unprepared) return { worker: await endWorker(orch, worker, 'failed', unprepared), task: null };

    const { report, retryAfterMs, claimSeen } = await superviseWorker(orch, worker, project, plan, { ...options, orchCli, slotEnv });
    worker = (await orch.store.getWorker(worker.id))!;
    if (worker.taskId === null || worker.runId === null) {
      const ready = (await claimableNow(orch.store, orch.config, orch.now(), project.name)).claimable.length;
      const { outcome, reason } = unclaimedOutcome(ready, howItEnded(report, worker));
      return { worker: await endWorker(orch, worker, outcome, reason, report.costUsd ?? 0), task: null };
    }

    const attempt = await resumeAttempt(orch, worker.runId);
    // An agent that claimed and exited within a second was not seen claiming while it ran.
    if (attempt && !claimSeen) options.onClaimed?.(worker, attempt.task);
    if (!attempt) return { worker: await endWorker(orch, worker, 'claimed', 'its claim was lost before it finished (the lease expired and the task was recovered)'), task: null };
    const contract = report.finalText ? parseResultBlock(report.finalText) : null;
    // The agent's own result block counts first; `orch agent done --summary` stands in for one.
    const result: AgentResult | null = contract?.ok ? contract.result : worker.doneAt !== null ? { status: 'done', summary: worker.summary ?? 'done', remaining: '', followUps: [] } : null;
    // Whether it changed anything is judged from its branch, which a worker usually commits to itself.
    const outcome: AgentRunOutcome = { report, result, retryAfterMs, changedFiles: null };
    const summary = await continueAfterAgent(orch, attempt, outcome, () => handOver(orch, attempt, clone, made.path, env), options);
    worktree = null;
    return { worker: await endWorker(orch, worker, 'claimed', `task #${attempt.task.id}: ${summary.note}`), task: summary };
  } catch (error) {
    const reason = `Orch could not run the worker: ${(error as Error).message.split('\n')[0]}`;
    const current = (await orch.store.getWorker(worker.id))!;
    return { worker: current.endedAt === null ? await endWorker(orch, current, current.taskId === null ? 'failed' : 'claimed', reason) : current, task: null };
  } finally {
    if (worktree !== null && existsSync(worktree)) await removeWorkerWorktree(orch, project.name, worktree);
  }
}

/** Copies the listed untracked files and runs the project's `after_create` and `before_run` hooks; the reason when one failed. */
async function prepareWorktree(orch: Orch, worker: Worker, project: ProjectConfig, env: Record<string, string>): Promise<string | null> {
  const worktree = worker.worktree!;
  const event = (type: string, data: Record<string, unknown>) => orch.store.appendEvent({ type, project: project.name, data: { worker: worker.id, ...data } }, orch.now());
  if (project.path && project.copyFiles.length > 0) {
    const copied = await copyUntrackedFiles(project.path, worktree, project.copyFiles);
    await event('workspace.copied', { copied: copied.copied, skipped: copied.skipped });
  }
  for (const name of ['after_create', 'before_run'] as HookName[]) {
    const result = await runHook(name, configuredHook(project.hooks, name), {
      cwd: worktree,
      env,
      timeoutMs: project.hooks.timeoutS * 1000,
      task: { id: null, title: '', branch: worker.branch!, worktree },
    });
    if (result.ran) await event('hook.ran', { name, passed: result.passed, exitCode: result.exitCode, timedOut: result.timedOut, output: result.outputTail.slice(-2000) });
    if (!result.passed) return hookFailure(result);
  }
  return null;
}

/**
 * Runs the worker's agent under supervision. Meanwhile, every second, Orch looks for the worker's
 * claim (made by `orch agent claim` in another process) and, once there is one, renews its lease and
 * stops the agent if the lease is lost; the agent's events are stored under the task from then on.
 */
async function superviseWorker(
  orch: Orch,
  initial: Worker,
  project: ProjectConfig,
  plan: PlannedWorker,
  options: WorkerOptions & { orchCli: string[]; slotEnv: Record<string, string> },
): Promise<{ report: RunReport; retryAfterMs: number | null; claimSeen: boolean }> {
  const { store } = orch;
  const agent = orch.config.agents[plan.agent]!;
  const dir = workerDirectory(orch.home, initial.id);
  const prompt = buildKickstartPrompt(project.name);
  writeFileSync(join(dir, 'prompt.md'), `${prompt.prompt}\n\n---\n\n${prompt.systemPromptAppend}\n`, { mode: 0o600 });
  // The worker's `orch` and its API socket live in its HOME: the one folder of ORCH_HOME its sandbox sees.
  const runHome = join(dir, 'home');
  const own = join(runHome, '.orch');
  const bin = writeOrchShim(own, options.orchCli);
  const base = agentBaseEnvironment(options.sourceEnv ?? process.env, agent.env);
  const leaseMs = orch.config.scheduler.leaseS * 1000;

  let claim: { taskId: number; runId: number; token: number; renewedAt: number } | null = null;
  const lost = new AbortController();
  let watching = false;
  const watch = async () => {
    if (watching) return;
    watching = true;
    try {
      const now = orch.now();
      if (claim === null) {
        const worker = await store.getWorker(initial.id);
        if (worker?.taskId == null || worker.runId === null) return;
        const held = await store.getClaim(worker.taskId);
        if (!held || held.runId !== worker.runId) return;
        claim = { taskId: worker.taskId, runId: worker.runId, token: held.token, renewedAt: now };
        const task = await store.getTask(worker.taskId);
        if (task) options.onClaimed?.(worker, task);
      } else if (now - claim.renewedAt >= leaseMs / 3) {
        if (!(await store.renewClaim(claim.taskId, claim.token, now + leaseMs))) lost.abort();
        claim.renewedAt = now;
      }
    } catch {
      // A busy database now is no reason to stop the worker; the next look will do.
    } finally {
      watching = false;
    }
  };
  const watcher = setInterval(() => void watch(), Math.min(1000, leaseMs / 3));

  let retryAfterMs: number | null = null;
  const record = async (event: AgentEvent, _cost: number | null, logLine: number) => {
    if (event.type === 'rate_limit' && event.retryAfterMs !== null) retryAfterMs = event.retryAfterMs;
    if (event.type === 'unparsed') return;
    const held = claim as { taskId: number; runId: number } | null;
    await store.appendEvent({ type: `agent.${event.type}`, project: project.name, taskId: held?.taskId ?? null, runId: held?.runId ?? null, data: { ...agentEventRecord(event, logLine), worker: initial.id } }, orch.now());
  };
  // Its `orch` reaches Orch through this API: inside a sandbox the database is out of its sight.
  const api = await openWorkerApi(orch, { worker: initial.id }, own);
  const env = { ...base, ...options.slotEnv, ...api.env, ORCH_HOME: orch.home, ORCH_RUN_ID: workerName(initial.id), PATH: [bin, base.PATH].filter(Boolean).join(delimiter) };
  // Its `orch` runs this Orch's build, which the sandbox mounts read-only like any toolchain.
  const sandboxed = { ...project, sandboxPaths: [...project.sandboxPaths, ...orchInstallPaths(options.orchCli)] };
  let report: RunReport;
  try {
    report = await superviseRun({
      adapter: adapterFor(agent.kind),
      agent,
      spec: {
        prompt: prompt.prompt,
        systemPromptAppend: prompt.systemPromptAppend,
        model: agent.model,
        tools: workerTools(agent.kind, orch.home),
        budgetUsd: plan.runCapUsd,
        maxTurns: project.run.maxTurns,
        resumeSessionId: null,
        cwd: initial.worktree!,
        runHome,
        env,
      },
      sandbox: agentSandbox(orch, sandboxed, agent, { cwd: initial.worktree!, runHome, runDir: dir, readOnly: false, env }, options.sourceEnv),
      logPath: initial.logPath!,
      timeoutMs: project.run.timeoutS * 1000,
      stallMs: project.run.stallS * 1000,
      maxOutputBytes: project.run.maxOutputMb * 1024 * 1024,
      budgetUsd: plan.runCapUsd,
      prices: orch.config.prices,
      signal: options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal,
      onEvent: record,
      onSpawn: async (pid) => {
        await store.updateWorker(initial.id, { pid }, orch.now(), { type: 'worker.spawned', data: { pid } });
      },
    });
  } finally {
    clearInterval(watcher);
    await api.close();
    // A look still under way must not renew the lease after the task's attempt has taken it over.
    while (watching) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Refused writes and connections belong to the task the worker claimed, when it claimed one. The
  // watcher looks once a second: a task claimed and finished between two looks is read from the store.
  const worker = claim === null && report.sandboxDenials.length > 0 ? await store.getWorker(initial.id) : undefined;
  const held = (claim as { taskId: number; runId: number } | null) ?? (worker?.taskId != null && worker.runId != null ? { taskId: worker.taskId, runId: worker.runId } : null);
  for (const denial of report.sandboxDenials) {
    await store.appendEvent({ type: 'run.sandbox_denied', project: project.name, taskId: held?.taskId ?? null, runId: held?.runId ?? null, data: { line: denial, worker: initial.id } }, orch.now());
  }
  return { report, retryAfterMs, claimSeen: claim !== null };
}

/** The worker's worktree becomes the task's, on the task's branch, where every later step looks for it. */
async function handOver(orch: Orch, attempt: Attempt, clone: Clone, workerWorktree: string, env: Record<string, string>): Promise<AttemptWorkspace> {
  const { project, task } = attempt;
  const branch = branchName(task.id, task.title);
  const adopted = await withLock(orch.home, `clone:${project.name}`, () => adoptWorkerWorktree(clone.path, workerWorktree, worktreesDir(orch.home, project.name), task.id, branch));
  await orch.store.appendEvent({ type: 'workspace.ready', project: project.name, taskId: task.id, runId: attempt.run.id, data: { worktree: adopted.path, branch, from: 'worker' } }, orch.now());
  await orch.store.updateRun(attempt.run.id, attempt.token, { worktree: adopted.path, branch }, orch.now());
  return { clone, worktree: adopted.path, branch, env };
}

function howItEnded(report: RunReport, worker: Worker): string {
  const said = worker.doneAt !== null ? 'said done and ' : '';
  return report.outcome === 'succeeded' ? `it ${said}exited` : `it ${said}ended ${report.outcome} (${report.reason})`;
}

async function removeWorkerWorktree(orch: Orch, projectName: string, worktree: string): Promise<void> {
  // Best effort: whatever is left, the next sweep removes (the worker is no longer running).
  await withLock(orch.home, `clone:${projectName}`, () => removeWorktree(clonePath(orch.home, projectName), worktree, { deleteBranch: true })).catch(() => undefined);
}

/**
 * Closes the worker with its outcome (and, when it claimed nothing, what its agent cost); a pull project
 * whose last workers all left the ready work is paused.
 */
async function endWorker(orch: Orch, worker: Worker, outcome: WorkerOutcome, reason: string, costUsd = 0): Promise<Worker> {
  const now = orch.now();
  const ended = await orch.store.updateWorker(worker.id, { endedAt: now, outcome, reason, costUsd }, now, { type: 'worker.ended', data: { outcome, reason, costUsd } });
  if (outcome === 'unclaimed' || outcome === 'failed') await pauseIfWorkersIdle(orch, worker.project);
  return ended;
}

async function pauseIfWorkersIdle(orch: Orch, projectName: string): Promise<void> {
  const project = await orch.store.getProject(projectName);
  if (!project || project.paused) return;
  // Only workers since a person last resumed the project count, or resuming would not stick.
  const resumedAt = (await orch.store.listEvents({ project: projectName, types: ['project.resumed'], newestFirst: true, limit: 1 }))[0]?.at ?? 0;
  const recent = (await orch.store.listWorkers({ project: projectName, open: false, endedAfter: resumedAt })).sort((a, b) => a.endedAt! - b.endedAt! || a.id - b.id);
  const reason = idleWorkersPause(recent.map((w) => w.outcome!));
  if (reason) await orch.store.setProjectPaused(projectName, true, reason, orch.now(), { type: 'project.paused', data: { reason, by: 'workers' } });
}
