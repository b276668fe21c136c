import { blockChanges, buildTaskGraph, type TaskGraph } from '../core/readiness.js';
import type { Task, TaskState } from '../core/types.js';
import type { StoreOps } from '../store/store.js';
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

/**
 * Makes `blocked` truthful after a change: tasks that now wait get blocked, tasks whose wait is over
 * get unblocked (auto-unblock). Returns the tasks it moved.
 */
export async function settleWaits(store: StoreOps, now: number): Promise<Task[]> {
  const { graph, tasks } = await loadWaitGraph(store);
  const moved: Task[] = [];
  for (const change of blockChanges(graph)) {
    const task = tasks.get(change.id)!;
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
