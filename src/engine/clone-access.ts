import type { ProjectConfig } from '../config/schema.js';
import { ensureClone, type Clone } from '../workspace/clone.js';
import type { Orch } from './context.js';
import { withLock } from './locks.js';

// Many tasks of a project starting at once all need Orch's clone: a refresh each, a worktree each, and
// after each agent's start a spare worktree for the next task, every one of them in line on the clone's
// lock. Here they share what can be shared.

const cloneKey = (orch: Orch, project: ProjectConfig) => `${orch.home}\0${project.name}`;

/** Per clone: task worktrees being made or waiting for the clone's lock to be made. */
const waitingWorktrees = new Map<string, number>();

/** Runs `make` (a task's worktree being made), counted meanwhile: see `worktreesWaiting`. */
export async function makingWorktree<T>(orch: Orch, project: ProjectConfig, make: () => Promise<T>): Promise<T> {
  const key = cloneKey(orch, project);
  waitingWorktrees.set(key, (waitingWorktrees.get(key) ?? 0) + 1);
  try {
    return await make();
  } finally {
    const left = waitingWorktrees.get(key)! - 1;
    if (left > 0) waitingWorktrees.set(key, left);
    else waitingWorktrees.delete(key);
  }
}

/** Whether other task worktrees of the project are being made now: a spare made meanwhile would be taken at once. */
export function worktreesWaiting(orch: Orch, project: ProjectConfig): boolean {
  return (waitingWorktrees.get(cloneKey(orch, project)) ?? 0) > 0;
}

/** Per clone: the refresh running now, and the one callers arriving meanwhile wait for. */
const refreshes = new Map<string, { running: Promise<Clone> | null; next: Promise<Clone> | null }>();

/**
 * Orch's clone of the project, fetched afresh; fetches and worktree changes hold the clone's lock.
 * Tasks starting together share a refresh rather than queue one each on the lock (32 at once spent
 * seconds in line): a caller arriving while one runs joins the next, which starts after it asked and
 * so sees everything it needs.
 */
export function refreshClone(orch: Orch, project: ProjectConfig): Promise<Clone> {
  const key = cloneKey(orch, project);
  let state = refreshes.get(key);
  if (!state) refreshes.set(key, (state = { running: null, next: null }));
  if (state.next) return state.next;
  const clone = state;
  const next = (clone.running ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => {
      clone.next = null;
      const running = withLock(orch.home, `clone:${project.name}`, () => ensureClone(orch.home, { name: project.name, path: project.path, remote: project.remote, defaultBranch: project.defaultBranch }));
      clone.running = running;
      running.then(
        () => clone.running === running && (clone.running = null),
        () => clone.running === running && (clone.running = null),
      );
      return running;
    });
  clone.next = next;
  return next;
}
