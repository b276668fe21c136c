import { transition, type TransitionName } from '../core/lifecycle.js';
import type { Task } from '../core/types.js';
import type { StoreOps, TaskPatch } from '../store/store.js';

/**
 * The one way a task changes state: the core's table decides the target (and throws on an illegal
 * move), the store writes it compare-and-set on the version that was read, with its event in the same
 * transaction. `fence` is the claim token when a run makes the move.
 */
export async function applyTransition(
  store: StoreOps,
  task: Task,
  name: TransitionName,
  options: { now: number; reason?: string; patch?: TaskPatch; fence?: number; data?: Record<string, unknown> },
): Promise<Task> {
  const to = transition(task.state, name);
  return store.updateTask(
    task.id,
    { expectedVersion: task.version, fence: options.fence },
    { ...options.patch, state: to },
    options.now,
    {
      type: `task.${name}`,
      data: { from: task.state, to, ...(options.reason ? { reason: options.reason } : {}), ...options.data },
    },
  );
}
