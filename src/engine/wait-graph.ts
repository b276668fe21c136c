import { blockChanges, buildTaskGraph, type GraphTask, type TaskGraph } from '../core/readiness.js';
import type { Task, TaskState } from '../core/types.js';
import type { StoreOps, TaskSummary } from '../store/store.js';
import { applyTransition } from './transitions.js';

export const OPEN_STATES: TaskState[] = ['new', 'routed', 'running', 'judging', 'merging', 'in_review', 'blocked', 'needs_review'];

/**
 * The tasks that can still wait or be waited on, plus the finished tasks they refer to (a cancelled
 * dependency must keep its dependent waiting, so finished tasks cannot simply be left out).
 */
export async function loadWaitGraph(store: StoreOps): Promise<{ graph: TaskGraph; tasks: Map<number, Task> }> {
  const open = await store.listTasks({ states: OPEN_STATES });
  const tasks = new Map(open.map((t) => [t.id, t]));
  const referenced = new Set<number>();
  for (const task of open) {
    for (const dep of task.dependsOn) if (!tasks.has(dep)) referenced.add(dep);
    if (task.parentId !== null && !tasks.has(task.parentId)) referenced.add(task.parentId);
  }
  if (referenced.size > 0) for (const task of await store.listTasks({ ids: [...referenced] })) tasks.set(task.id, task);
  return { graph: buildTaskGraph(tasks.values()), tasks };
}

/** The states in which a task can wait: it may not start yet, or is blocked until its wait is over. */
const WAITING_STATES: TaskState[] = ['new', 'routed', 'blocked'];

/**
 * The tasks in `states`, with what they wait on (their dependencies and children, whatever their
 * state): a graph in which readiness of each of those tasks is what it is in the whole wait graph,
 * read without the tasks nothing waits on. Nodes go in by id, as in the whole graph, so waits are
 * listed in the same order.
 */
export async function loadWaitsOf(store: Pick<StoreOps, 'listTaskSummaries' | 'listWaits'>, states: readonly TaskState[]): Promise<{ graph: TaskGraph; tasks: Map<number, TaskSummary> }> {
  const summaries = await store.listTaskSummaries(states);
  const waits = await store.listWaits(states);
  const dependsOn = new Map<number, number[]>();
  for (const { taskId, id } of waits.dependencies) {
    const ids = dependsOn.get(taskId);
    if (ids) ids.push(id);
    else dependsOn.set(taskId, [id]);
  }
  const nodes = new Map<number, GraphTask>();
  for (const { id, state, parentId } of [...waits.dependencies, ...waits.children]) nodes.set(id, { id, state, parentId, dependsOn: [] });
  for (const task of summaries) nodes.set(task.id, { ...task, dependsOn: dependsOn.get(task.id) ?? [] });
  return { graph: buildTaskGraph([...nodes.values()].sort((a, b) => a.id - b.id)), tasks: new Map(summaries.map((task) => [task.id, task])) };
}

/**
 * Makes `blocked` truthful after a change: tasks that now wait get blocked, tasks whose wait is over
 * get unblocked (auto-unblock). Returns the tasks it moved.
 */
export async function settleWaits(store: StoreOps, now: number): Promise<Task[]> {
  // Only the tasks that can wait are weighed (with what they wait on); the few that move are read whole.
  const { graph } = await loadWaitsOf(store, WAITING_STATES);
  const moved: Task[] = [];
  for (const change of blockChanges(graph)) {
    const task = (await store.getTask(change.id))!;
    if (change.transition === 'unblock') {
      moved.push(await applyTransition(store, task, 'unblock', { now, reason: `no longer waits on its ${change.kind}`, patch: { blockKind: null, blockedReason: null } }));
    } else if (task.state === 'blocked') {
      // Already blocked, now on something else: update the reason without a state change.
      moved.push(
        await store.updateTask(task.id, { expectedVersion: task.version }, { blockKind: change.kind, blockedReason: change.reason }, now, {
          type: 'task.waits',
          data: { kind: change.kind, waitingOn: change.waitingOn },
        }),
      );
    } else {
      moved.push(
        await applyTransition(store, task, 'block', {
          now,
          reason: change.reason!,
          patch: { blockKind: change.kind, blockedReason: change.reason },
        }),
      );
    }
  }
  return moved;
}
