import { OrchError } from '../core/errors.js';
import { taskTextProblem } from '../core/task-limits.js';
import { buildTaskGraph, findWaitCycle, readinessOf, waitReason, type GraphTask } from '../core/readiness.js';
import { TRACKER_BLOCK_KIND } from '../core/reconcile.js';
import { ROLES, TASK_STATES, TERMINAL_STATES, type Task, type TaskState } from '../core/types.js';
import type { NewTask, Store, StoreOps } from '../store/store.js';
import { applyTransition } from './transitions.js';
import { loadWaitGraph, settleWaits } from './wait-graph.js';

/** What a person or a tracker may say of a new task: the store's new task, less what Orch decides. */
export type AddTaskInput = Pick<NewTask, 'project' | 'title' | 'body' | 'labels' | 'priority' | 'role' | 'parentId' | 'dependsOn' | 'externalRef'>;

/** Checks what a person typed before anything is written. */
function validateNewTask(input: AddTaskInput): void {
  const problem = taskTextProblem(input);
  if (problem !== null) throw new OrchError('invalid_input', problem);
  if (input.role !== undefined && !ROLES.includes(input.role)) {
    throw new OrchError('invalid_input', `unknown role "${input.role}": use one of ${ROLES.join(', ')}`);
  }
  if (input.priority !== undefined && !Number.isSafeInteger(input.priority)) {
    throw new OrchError('invalid_input', `priority must be a whole number, got ${input.priority}`);
  }
}

async function requireTask(store: StoreOps, id: number): Promise<Task> {
  const task = await store.getTask(id);
  if (!task) throw new OrchError('not_found', `task ${id} not found`);
  return task;
}

const cycleText = (cycle: number[]) => cycle.map((id) => (id < 0 ? 'the new task' : `#${id}`)).join(' → ');

/**
 * Adds a task to the backlog. It starts `new`, or `blocked` when it waits on dependencies; a parent
 * that was waiting to run becomes blocked on its new child. Refuses a dependency cycle.
 */
export async function addTask(store: Store, input: AddTaskInput, now: number): Promise<Task> {
  validateNewTask(input);
  return store.transaction(async (tx) => {
    if (!(await tx.getProject(input.project))) throw new OrchError('not_found', `project "${input.project}" not found`);
    const dependsOn = [...new Set(input.dependsOn ?? [])];
    const parentId = input.parentId ?? null;
    const { graph, tasks } = await loadWaitGraph(tx);
    for (const id of dependsOn) {
      if (!tasks.has(id) && !(await tx.getTask(id))) throw new OrchError('not_found', `dependency task ${id} not found`);
    }
    let parent: Task | undefined;
    if (parentId !== null) {
      parent = tasks.get(parentId) ?? (await tx.getTask(parentId));
      if (!parent) throw new OrchError('not_found', `parent task ${parentId} not found`);
      if (TERMINAL_STATES.has(parent.state)) throw new OrchError('conflict', `parent task ${parentId} is ${parent.state}: it can take no new sub-task`);
    }
    // The new task has no id yet: stand it in the graph under a placeholder to look for cycles.
    const draft: GraphTask = { id: -1, state: 'new', parentId, dependsOn };
    const withDraft = buildTaskGraph([...graph.byId.values(), draft]);
    const cycle = findWaitCycle(-1, dependsOn, withDraft);
    if (cycle) throw new OrchError('conflict', `dependency cycle: ${cycleText(cycle)}`);

    const readiness = readinessOf(draft, withDraft);
    const waits = readiness.ready ? null : waitReason(readiness.waitingOn);
    const task = await tx.createTask(
      {
        project: input.project,
        externalRef: input.externalRef ?? null,
        title: input.title.trim(),
        body: input.body ?? '',
        labels: [...new Set(input.labels ?? [])],
        priority: input.priority ?? 0,
        role: input.role ?? 'implement',
        parentId,
        dependsOn,
        state: readiness.ready ? 'new' : 'blocked',
        blockKind: readiness.ready ? null : readiness.kind,
        blockedReason: waits,
      },
      now,
    );
    await settleWaits(tx, now);
    return task;
  });
}

/** Adds dependencies to an existing task, refusing any that would close a cycle. */
export async function addDependencies(store: Store, id: number, on: number[], now: number): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    if (TERMINAL_STATES.has(task.state)) throw new OrchError('conflict', `task ${id} is ${task.state}: its dependencies no longer matter`);
    for (const dep of on) await requireTask(tx, dep);
    const { graph } = await loadWaitGraph(tx);
    const cycle = findWaitCycle(id, on, graph);
    if (cycle) throw new OrchError('conflict', `dependency cycle: ${cycleText(cycle)}`);
    const dependsOn = [...new Set([...task.dependsOn, ...on])];
    await tx.updateTask(id, { expectedVersion: task.version }, { dependsOn }, now, { type: 'task.dependencies', data: { added: on, dependsOn } });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

export async function cancelTask(store: Store, id: number, now: number, reason = 'cancelled by a person'): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    if (task.state === 'cancelled') throw new OrchError('conflict', `task ${id} is already cancelled`);
    if (task.state === 'done') throw new OrchError('conflict', `task ${id} is done: there is nothing to cancel`);
    await applyTransition(tx, task, 'cancel', { now, reason });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

/**
 * Puts a task on hold: a person's `orch task block` (`manual`), or its issue held in the tracker
 * (`tracker`). A task an agent works on is stopped by the scheduler's reconciliation, which keeps its
 * worktree; when the hold is lifted the task goes on from there.
 */
export async function holdTask(store: Store, id: number, now: number, reason: string, kind: 'manual' | 'tracker' = 'manual'): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    if (task.state !== 'new' && task.state !== 'routed' && task.state !== 'running') {
      throw new OrchError('conflict', `task ${id} is ${task.state}: only a task that waits for an agent or runs can be put on hold`);
    }
    await applyTransition(tx, task, 'block', { now, reason, patch: { blockKind: kind, blockedReason: reason, nextAttemptAt: null } });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

/** Lifts a tracker's hold: the issue is ready again, and the task goes back to the queue. */
export async function releaseTrackerHold(store: Store, id: number, now: number, reason: string): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    if (task.state !== 'blocked' || task.blockKind !== TRACKER_BLOCK_KIND) return task;
    await applyTransition(tx, task, 'unblock', { now, reason, patch: { blockKind: null, blockedReason: null } });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

/** A hold the tracker put on a task is lifted there, not here: the tracker is the truth. */
function refuseTrackerHold(task: Task): void {
  if (task.state === 'blocked' && task.blockKind === TRACKER_BLOCK_KIND) {
    throw new OrchError('conflict', `task ${task.id} is on hold in its tracker (${task.blockedReason ?? task.externalRef}): lift the hold there (${task.externalRef})`);
  }
}

/**
 * Another go for a task: one that needs review, was cancelled or was blocked by its agent or a person
 * goes back to the queue with its attempts reset; one waiting out a backoff is made due now.
 */
export async function retryTask(store: Store, id: number, now: number): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    refuseTrackerHold(task);
    const reset = { attempts: 0, nextAttemptAt: null, blockKind: null, blockedReason: null };
    if (task.state === 'routed' || task.state === 'new') {
      if (task.nextAttemptAt === null || task.nextAttemptAt <= now) throw new OrchError('conflict', `task ${id} is already queued to run`);
      return tx.updateTask(id, { expectedVersion: task.version }, { nextAttemptAt: null }, now, { type: 'task.retry_now', data: {} });
    }
    if (task.state === 'blocked' && (task.blockKind === 'dependencies' || task.blockKind === 'children')) {
      throw new OrchError('conflict', `task ${id} ${task.blockedReason ?? 'waits on other tasks'}: it runs once they are done`);
    }
    if (task.state !== 'needs_review' && task.state !== 'cancelled' && task.state !== 'blocked') {
      throw new OrchError('conflict', `task ${id} is ${task.state}: only a task that needs review, is blocked or was cancelled can be retried`);
    }
    await applyTransition(tx, task, 'requeue', { now, reason: 'retried by a person', patch: reset });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

/**
 * A person settles a task that waits for them as done: they merged its branch themselves, or found the
 * work was not needed. Only a task that needs review can be resolved.
 */
export async function resolveTask(store: Store, id: number, now: number, reason = 'resolved by a person'): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    if (task.state !== 'needs_review') throw new OrchError('conflict', `task ${id} is ${task.state}: only a task that needs review can be resolved`);
    await applyTransition(tx, task, 'resolve', { now, reason, patch: { blockedReason: null, nextAttemptAt: null } });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

/**
 * Clears a block. A block set by an agent or a person is lifted; a task waiting on dependencies is
 * released only with `force`, which drops the dependencies that are not done (recorded in the event).
 */
export async function unblockTask(store: Store, id: number, now: number, options: { force?: boolean } = {}): Promise<Task> {
  return store.transaction(async (tx) => {
    const task = await requireTask(tx, id);
    if (task.state !== 'blocked') throw new OrchError('conflict', `task ${id} is ${task.state}, not blocked`);
    refuseTrackerHold(task);
    if (task.blockKind === 'children') {
      throw new OrchError('conflict', `task ${id} ${task.blockedReason ?? 'waits on its sub-tasks'}: finish or cancel them first`);
    }
    let dependsOn = task.dependsOn;
    const dropped: number[] = [];
    if (task.blockKind === 'dependencies') {
      if (!options.force) {
        throw new OrchError('conflict', `task ${id} ${task.blockedReason ?? 'waits on dependencies'}: use --force to drop the unfinished dependencies`);
      }
      const deps = await tx.listTasks({ ids: task.dependsOn });
      const done = new Set(deps.filter((d) => d.state === 'done').map((d) => d.id));
      dropped.push(...task.dependsOn.filter((dep) => !done.has(dep)));
      dependsOn = task.dependsOn.filter((dep) => done.has(dep));
    }
    await applyTransition(tx, task, 'unblock', {
      now,
      reason: 'unblocked by a person',
      patch: { blockKind: null, blockedReason: null, dependsOn },
      data: dropped.length > 0 ? { droppedDependencies: dropped } : {},
    });
    await settleWaits(tx, now);
    return requireTask(tx, id);
  });
}

export async function getTask(store: StoreOps, id: number): Promise<Task> {
  return requireTask(store, id);
}

export interface TaskQuery {
  project?: string;
  /** Only these states; without them, the open tasks (neither done nor cancelled) unless `all`. */
  states?: TaskState[];
  label?: string;
  all?: boolean;
}

export interface TaskListing {
  tasks: Task[];
  /**
   * Finished tasks (done or cancelled) the default left out: a list emptied by a good run must not read
   * as "nothing happened". 0 when states or `all` were asked for.
   */
  hiddenFinished: number;
}

const FINISHED_STATES = ['done', 'cancelled'] as const satisfies readonly TaskState[];

/** The tasks a person asks to see, oldest first, refusing a project the store does not know. */
export async function findTasks(store: Pick<StoreOps, 'getProject' | 'listTasks' | 'countTasksByState'>, query: TaskQuery): Promise<TaskListing> {
  if (query.project !== undefined && !(await store.getProject(query.project))) throw new OrchError('not_found', `project "${query.project}" not found`);
  const states = query.states ?? (query.all ? undefined : TASK_STATES.filter((s) => !(FINISHED_STATES as readonly TaskState[]).includes(s)));
  const withLabel = (tasks: Task[]) => (query.label === undefined ? tasks : tasks.filter((t) => t.labels.includes(query.label!)));
  const tasks = withLabel(await store.listTasks({ project: query.project, states }));
  if (query.states !== undefined || query.all) return { tasks, hiddenFinished: 0 };
  if (query.label === undefined) {
    const counts = await store.countTasksByState(query.project);
    return { tasks, hiddenFinished: FINISHED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0) };
  }
  return { tasks, hiddenFinished: withLabel(await store.listTasks({ project: query.project, states: [...FINISHED_STATES] })).length };
}

export interface TaskTreeNode {
  task: Task;
  children: TaskTreeNode[];
}

/** The task (or, without an id, every top-level task of the project) with its sub-tasks beneath. */
export async function taskTree(store: StoreOps, options: { id?: number; project?: string }): Promise<TaskTreeNode[]> {
  const root = options.id !== undefined ? await requireTask(store, options.id) : undefined;
  const all = await store.listTasks({ project: root?.project ?? options.project });
  const childrenOf = new Map<number, Task[]>();
  for (const task of all) {
    if (task.parentId === null) continue;
    const list = childrenOf.get(task.parentId) ?? [];
    list.push(task);
    childrenOf.set(task.parentId, list);
  }
  const build = (task: Task, seen: Set<number>): TaskTreeNode => {
    seen.add(task.id);
    const children = (childrenOf.get(task.id) ?? []).filter((c) => !seen.has(c.id));
    return { task, children: children.map((c) => build(c, seen)) };
  };
  const ids = new Set(all.map((t) => t.id));
  const roots = root ? [root] : all.filter((t) => t.parentId === null || !ids.has(t.parentId));
  return roots.map((t) => build(t, new Set()));
}
