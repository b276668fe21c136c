import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OrchError } from '../core/errors.js';
import { git, tryGit } from './git.js';
import { samePath } from './same-path.js';
import type { TaskWorktree } from './worktrees.js';

// The spare: a checkout of the default branch made ahead of time, off the dispatch path, so a task's
// worktree is a rename plus a switch of the few files that differ, not a checkout of the whole
// repository while the task waits. Its directory name is no task's or worker's, so the sweep keeps it.
const SPARE_NAME = 'spare';

export function spareWorktreePath(worktreesDir: string): string {
  return join(worktreesDir, SPARE_NAME);
}

/**
 * Moves the spare to `dir`, the task's place; false when there is no spare or git refused. A spare
 * that is no worktree of the clone, or that git would not move, is removed, never half used.
 */
export async function placeSpare(clonePath: string, worktrees: string, dir: string): Promise<boolean> {
  const spare = spareWorktreePath(worktrees);
  if (!existsSync(spare)) return false;
  // git run inside a directory that is no worktree of the clone would act on whatever repository
  // encloses it: the spare is used only when its `.git` file points back into the clone.
  if (isWorktreeOf(clonePath, spare) && (await tryGit(clonePath, ['worktree', 'move', spare, dir])).ok) return true;
  await discardWorktree(clonePath, spare);
  return false;
}

/**
 * Puts the placed spare on `branch`, made from `baseRef` (or, when it exists, checked out: a retry),
 * forced so files a crash left half written are written whole. null when git refused both.
 *
 * The branch is made from a commit, never a name (one given is resolved first): `checkout -b <branch>
 * <name>` reads the name twice — once for the files, once for the branch — and the default branch
 * moves while worktrees are made (merges land outside the clone's lock). A merge landing in between
 * left the branch on a commit the files were not from, and the task's commit then undid that merge.
 */
export async function switchSpare(dir: string, branch: string, baseRef: string): Promise<TaskWorktree['from'] | null> {
  const base = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(baseRef) ? { ok: true, stdout: baseRef } : await tryGit(dir, ['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`]);
  if (base.ok && (await tryGit(dir, ['checkout', '--quiet', '--force', '-b', branch, base.stdout.trim(), '--'])).ok) return 'new_branch';
  if ((await tryGit(dir, ['checkout', '--quiet', '--force', branch, '--'])).ok) return 'existing_branch';
  return null;
}

export async function discardWorktree(clonePath: string, dir: string): Promise<void> {
  await tryGit(clonePath, ['worktree', 'remove', '--force', '--force', dir]);
  await rm(dir, { recursive: true, force: true });
}

/** Whether `dir` is a linked worktree of the clone, read from its `.git` file (no git process). */
export function isWorktreeOf(clonePath: string, dir: string): boolean {
  try {
    const gitFile = readFileSync(join(dir, '.git'), 'utf8');
    const gitDir = /^gitdir: (.+)$/m.exec(gitFile)?.[1]?.trim();
    return gitDir !== undefined && samePath(dirname(dirname(gitDir)), clonePath) && basename(dirname(gitDir)) === 'worktrees';
  } catch {
    return false;
  }
}

/**
 * Makes the spare, detached at `baseRef`, unless there is one. Run under the clone's lock after an
 * agent started, when nothing waits for it.
 */
export async function prepareSpareWorktree(clonePath: string, worktreesDir: string, baseRef: string): Promise<void> {
  if (baseRef.startsWith('-')) throw new OrchError('invalid_input', `"${baseRef}" is not a valid base`);
  const spare = spareWorktreePath(worktreesDir);
  if (existsSync(spare)) return;
  await mkdir(worktreesDir, { recursive: true });
  const added = await tryGit(clonePath, ['worktree', 'add', '--quiet', '--detach', '--', spare, baseRef]);
  if (added.ok) return;
  // A registration whose directory is gone is in the way: forget it and try once more.
  await git(clonePath, ['worktree', 'prune']);
  await git(clonePath, ['worktree', 'add', '--quiet', '--detach', '--', spare, baseRef]);
}
