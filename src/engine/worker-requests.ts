import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrchError } from '../core/errors.js';
import { buildTaskBrief, renderTaskBrief, type TaskBrief } from '../core/task-brief.js';
import type { Run, Task, Worker } from '../core/types.js';
import type { ReadyTask, WorkerAnswer, WorkerRequest } from '../core/worker-api.js';
import { workerIdOfName } from '../core/worker-names.js';
import type { Orch } from './context.js';
import { claimableNow } from './tick-input.js';

// What a pull worker may ask of Orch, through the `orch issue` and `orch agent` commands its agent
// runs: the ready tasks, a claim, the brief of its task, and that it is done. The worker is named by
// ORCH_RUN_ID, which Orch put in its agent's environment. The attempt machinery (agents, sandbox,
// router) loads only for a claim or a brief: `orch issue ready` and a refusal start without it.

const FOR_WORKERS_ONLY = '`orch agent claim|describe|done` are for agents Orch started as pull workers';

/** The running worker ORCH_RUN_ID names; anything else is refused in one line. */
export async function callingWorker(orch: Orch, runId: string | undefined): Promise<Worker> {
  if (runId === undefined || runId.trim() === '') throw new OrchError('invalid_input', `${FOR_WORKERS_ONLY} (ORCH_RUN_ID is not set)`);
  const id = workerIdOfName(runId);
  const worker = id === null ? undefined : await orch.store.getWorker(id);
  if (!worker || worker.endedAt !== null) {
    throw new OrchError('invalid_input', `${FOR_WORKERS_ONLY} (ORCH_RUN_ID ${JSON.stringify(runId.slice(0, 40))} is not a running worker)`);
  }
  return worker;
}

/** The worker ORCH_RUN_ID names when it is one that runs, else null (the caller is a person). */
export async function workerIfAny(orch: Orch, runId: string | undefined): Promise<Worker | null> {
  const id = workerIdOfName(runId);
  const worker = id === null ? undefined : await orch.store.getWorker(id);
  return worker && worker.endedAt === null ? worker : null;
}

export type { ReadyTask };

/** The ready, unclaimed tasks, in the order the tick would dispatch them (`orch issue ready`). */
export async function readyTasks(orch: Orch, project?: string): Promise<ReadyTask[]> {
  if (project !== undefined && !orch.config.projects[project]) throw new OrchError('not_found', `project "${project}" is not in config.yaml`);
  const { claimable } = await claimableNow(orch.store, orch.config, orch.now(), project);
  return claimable.map((t) => ({ id: t.id, project: t.project, title: t.title, priority: t.priority, labels: t.labels }));
}

/**
 * Claims a task for a worker: the store's atomic claim (a fencing token, a lease the supervising Orch
 * process renews, owned by that process so recovery treats it like any other), the task routed and
 * started through the lifecycle, its run opened in the worker's worktree, and the worker bound to it —
 * all in one transaction. A task someone else holds is refused with `already_claimed`; a worker takes
 * one task. Without an id, the first of the ready tasks (in `orch issue ready`'s order) that no other
 * worker has taken meanwhile: workers claiming at once each get one instead of colliding on the first.
 */
export async function claimForWorker(orch: Orch, worker: Worker, taskId: number | null): Promise<{ task: Task; run: Run }> {
  if (worker.taskId !== null) throw new OrchError('conflict', `you already hold task #${worker.taskId}: a worker takes one task; finish it and run \`orch agent done\``);
  if (worker.doneAt !== null) throw new OrchError('conflict', 'this worker already said it is done: exit, and Orch starts another when work is left');
  const agent = orch.config.agents[worker.agent];
  if (!agent) throw new OrchError('config', `agent "${worker.agent}" is not configured`);
  const candidates = taskId === null ? await readyForWorker(orch, worker) : await claimableForWorker(orch, worker, taskId);

  const { runDirectory, startClaimedTask } = await import('./attempt.js');
  const started = await orch.store.transaction(async (tx) => {
    const now = orch.now();
    const request = { owner: worker.owner, leaseMs: orch.config.scheduler.leaseS * 1000, now };
    const claim = taskId === null ? await tx.claimFirstFree({ ...request, taskIds: candidates }) : await tx.claimTask({ ...request, taskId });
    if (!claim) {
      throw taskId === null
        ? new OrchError('already_claimed', 'other workers took every ready task meanwhile: run `orch issue ready` again')
        : takenByAnother(taskId);
    }
    const { host, pid, worktree, branch, logPath } = worker;
    const opened = await startClaimedTask(tx, orch, { taskId: claim.taskId, token: claim.token, agentName: worker.agent, agent, now, run: { host, pid, worktree, branch, logPath } });
    // Checked again inside the transaction: two claims by one worker at once must not both hold.
    const bound = await tx.assignWorkerTask(worker.id, { taskId: claim.taskId, runId: opened.run.id }, now);
    if (!bound) throw new OrchError('conflict', 'this worker already holds a task or has ended: a worker takes one task');
    return opened;
  });

  const brief = await briefOf(orch, started.task, started.run.id);
  const runDir = runDirectory(orch.home, started.run.id);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(runDir, 'prompt.md'), `${renderTaskBrief(brief)}\n`, { mode: 0o600 });
  return started;
}

const takenByAnother = (taskId: number) => new OrchError('already_claimed', `task #${taskId} is already claimed by another worker: pick another one from \`orch issue ready\``);

/** The ready tasks of the worker's project, in dispatch order; refused when there is none. */
async function readyForWorker(orch: Orch, worker: Worker): Promise<number[]> {
  const { claimable } = await claimableNow(orch.store, orch.config, orch.now(), worker.project);
  if (claimable.length === 0) throw new OrchError('not_found', `no task of project ${worker.project} is ready: run \`orch agent done\` and exit`);
  return claimable.map((task) => task.id);
}

/** `[taskId]` when the worker may claim it now; else why not, in one line. */
async function claimableForWorker(orch: Orch, worker: Worker, taskId: number): Promise<number[]> {
  const task = await orch.store.getTask(taskId);
  if (!task) throw new OrchError('not_found', `task #${taskId} not found`);
  if (task.project !== worker.project) throw new OrchError('conflict', `task #${taskId} belongs to project ${task.project}; this worker works on ${worker.project}`);
  const { claimable, waiting } = await claimableNow(orch.store, orch.config, orch.now(), worker.project);
  if (claimable.some((t) => t.id === taskId)) return [taskId];
  // Looked at again: a claim may have landed since (the task then reads as running, not as claimed).
  if (await orch.store.getClaim(taskId)) throw takenByAnother(taskId);
  const wait = waiting.find((w) => w.taskId === taskId);
  throw new OrchError('conflict', `task #${taskId} cannot be claimed now: ${wait?.detail ?? 'it is not ready'}; pick another one from \`orch issue ready\``);
}

/** The brief of the task the worker claimed (`orch agent describe`). */
export async function describeForWorker(orch: Orch, worker: Worker): Promise<TaskBrief> {
  if (worker.taskId === null || worker.runId === null) {
    throw new OrchError('conflict', 'you have not claimed a task yet: run `orch issue ready`, then `orch agent claim <id>`');
  }
  const task = await orch.store.getTask(worker.taskId);
  if (!task) throw new OrchError('not_found', `task #${worker.taskId} not found`);
  return briefOf(orch, task, worker.runId);
}

async function briefOf(orch: Orch, task: Task, runId: number): Promise<TaskBrief> {
  const { attemptHistory } = await import('./attempt-prompt.js');
  const { previous, lastFailure } = await attemptHistory(orch.store, task.id, runId);
  return buildTaskBrief(task, previous, lastFailure);
}

/** The worker says it has finished (with a task or without); Orch takes over once its process exits. */
export async function markWorkerDone(orch: Orch, worker: Worker, summary: string | null): Promise<Worker> {
  const now = orch.now();
  return orch.store.updateWorker(worker.id, { doneAt: now, summary }, now, { type: 'worker.done', data: { summary, taskId: worker.taskId } });
}

/**
 * One request of a worker's agent, answered from the store: by the CLI itself outside a sandbox, or by
 * the worker's API (worker-api.ts) for a CLI inside one. `runId` names the worker (ORCH_RUN_ID); for
 * `ready` it may name none (a person asking).
 */
export async function answerWorkerRequest(orch: Orch, runId: string | undefined, request: WorkerRequest): Promise<WorkerAnswer> {
  switch (request.kind) {
    case 'ready': {
      const worker = await workerIfAny(orch, runId);
      if (worker && request.project !== null && request.project !== worker.project) {
        throw new OrchError('invalid_input', `this worker works on project ${worker.project}, not ${request.project}`);
      }
      return { kind: 'ready', tasks: await readyTasks(orch, worker?.project ?? request.project ?? undefined) };
    }
    case 'claim': {
      const { task, run } = await claimForWorker(orch, await callingWorker(orch, runId), request.taskId);
      return { kind: 'claim', task: { id: task.id, title: task.title, state: task.state, attempt: task.attempts }, runId: run.id };
    }
    case 'describe':
      return { kind: 'describe', brief: await describeForWorker(orch, await callingWorker(orch, runId)) };
    case 'done': {
      const worker = await markWorkerDone(orch, await callingWorker(orch, runId), request.summary);
      return { kind: 'done', worker: worker.id, taskId: worker.taskId, doneAt: worker.doneAt };
    }
    case 'permission':
    case 'question':
      throw new OrchError('invalid_input', "permission requests and questions are a run's, asked through its API (ORCH_WORKER_API)");
  }
}
