import { join } from 'node:path';
import { workerName } from '../core/worker-names.js';

// Where a project's git state lives under ORCH_HOME. Directory names come from validated project
// names, numeric task ids and worker names (`w7`) only, never from task text.

/** Orch's own clone of a project (a bare repository that hosts the task worktrees). */
export function clonePath(home: string, project: string): string {
  return join(home, 'projects', project, 'repo');
}

/** The directory holding one worktree per task. */
export function worktreesDir(home: string, project: string): string {
  return join(home, 'projects', project, 'worktrees');
}

/** The worktree of one task. */
export function worktreePath(worktrees: string, taskId: number): string {
  if (!Number.isSafeInteger(taskId) || taskId < 0) throw new RangeError(`a task id is a whole number >= 0, got ${taskId}`);
  return join(worktrees, String(taskId));
}

/** The worktree of a pull worker, until the task it claims takes it over. */
export function workerWorktreePath(worktrees: string, workerId: number): string {
  return join(worktrees, workerName(workerId));
}

/** Throw-away checkouts of the clone for read-only work that belongs to no task branch (the planner's). */
export function scratchDir(home: string, project: string): string {
  return join(home, 'projects', project, 'scratch');
}
