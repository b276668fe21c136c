import type { ProjectConfig } from '../config/schema.js';
import { ensureClone, type Clone } from '../workspace/clone.js';
import { clonePath, worktreesDir } from '../workspace/layout.js';
import { createWorktrees, type TaskWorktree, type WorktreeRequest } from '../workspace/worktrees.js';
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

/** A task waiting for its workspace, and how to hand it over. */
interface WantedWorkspace extends WorktreeRequest {
  settle: (made: PromiseSettledResult<TaskWorkspace>) => void;
}

export interface TaskWorkspace {
  clone: Clone;
  worktree: TaskWorktree;
}

/** Per clone: tasks waiting for their workspace, and whether a hold of the clone's lock is on its way to make them. */
const wantedWorkspaces = new Map<string, { waiting: WantedWorkspace[]; draining: boolean }>();

/**
 * The clone refreshed and the task's worktree on `branch`. Fetches and worktree changes must not
 * interleave (a fetch can trip over a half-made worktree's HEAD), so both happen in one hold of the
 * clone's lock — shared by every task asking meanwhile: whoever asked before the lock was taken gets
 * the one refresh that follows, and all their worktrees are made together from it (createWorktrees),
 * instead of a refresh and a worktree each, one task after another.
 */
export function taskWorkspace(orch: Orch, project: ProjectConfig, taskId: number, branch: string): Promise<TaskWorkspace> {
  const key = cloneKey(orch, project);
  let queue = wantedWorkspaces.get(key);
  if (!queue) wantedWorkspaces.set(key, (queue = { waiting: [], draining: false }));
  const made = new Promise<TaskWorkspace>((resolve, reject) =>
    queue.waiting.push({ taskId, branch, settle: (outcome) => (outcome.status === 'fulfilled' ? resolve(outcome.value) : reject(outcome.reason)) }),
  );
  if (!queue.draining) {
    queue.draining = true;
    void makeWaitingWorkspaces(orch, project, queue);
  }
  return made;
}

async function makeWaitingWorkspaces(orch: Orch, project: ProjectConfig, queue: { waiting: WantedWorkspace[]; draining: boolean }): Promise<void> {
  while (queue.waiting.length > 0) {
    let batch: WantedWorkspace[] = [];
    try {
      await withLock(orch.home, `clone:${project.name}`, async () => {
        // Everyone who asked before the lock was ours: the refresh starts after they asked.
        batch = queue.waiting.splice(0);
        const refreshed = ensureClone(orch.home, { name: project.name, path: project.path, remote: project.remote, defaultBranch: project.defaultBranch });
        // A task goes as soon as its worktree is made, not when the batch's last one is: 32 tasks
        // starting together no longer all wait for 32 worktrees made one after another.
        const told = new Set<number>();
        const tell = (index: number, worktree: PromiseSettledResult<TaskWorktree>) => {
          if (told.has(index)) return;
          told.add(index);
          const wanted = batch[index]!;
          if (worktree.status === 'rejected') return wanted.settle(worktree);
          refreshed.then(
            (clone) => wanted.settle({ status: 'fulfilled', value: { clone, worktree: worktree.value } }),
            (reason: unknown) => wanted.settle({ status: 'rejected', reason }),
          );
        };
        // The spare's move into a task's place needs no base and runs while the clone is refreshed;
        // branching waits for the refresh.
        const made = createWorktrees(clonePath(orch.home, project.name), worktreesDir(orch.home, project.name), batch, refreshed.then((clone) => clone.defaultBranchCommit), tell);
        // Both settle before the lock is let go, whichever fails first.
        const [, worktrees] = await Promise.allSettled([refreshed, made]);
        batch.forEach((_, index) => tell(index, worktrees.status === 'fulfilled' ? worktrees.value[index]! : worktrees));
        batch = [];
      });
    } catch (error) {
      // The lock itself failed: nobody of this batch gets a workspace, each attempt fails on its own.
      for (const wanted of batch) wanted.settle({ status: 'rejected', reason: error });
    }
  }
  queue.draining = false;
}
