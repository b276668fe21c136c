import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BRANCH_PREFIX, isValidBranchName, taskIdOfBranch } from '../core/branch-name.js';
import { OrchError } from '../core/errors.js';
import { workerBranchName, workerIdOfBranch, workerIdOfName } from '../core/worker-names.js';
import { git, tryGit } from './git.js';
import { workerWorktreePath, worktreePath } from './layout.js';
import { samePath } from './same-path.js';
import { discardWorktree, placeSpare, switchSpare } from './spare-worktree.js';

export { prepareSpareWorktree, spareWorktreePath } from './spare-worktree.js';

// One worktree per task, all hanging off Orch's clone, each under `<worktrees>/<taskId>`; a pull
// worker starts in `<worktrees>/w<id>` on `orch/w<id>` and hands it to the task it claims. Everything
// in that directory and every `orch/*` branch of the clone is Orch's own, which is what lets the sweep
// delete what no live task or worker claims.

/** A linked worktree of the clone, as `git worktree list` reports it. */
export interface WorktreeInfo {
  path: string;
  /** The commit checked out; null before the first commit exists. */
  head: string | null;
  /** Full ref name (`refs/heads/...`), or null when HEAD is detached. */
  branch: string | null;
  locked: boolean;
  /** Its directory is gone; `git worktree prune` will forget it. */
  prunable: boolean;
}

export interface TaskWorktree {
  path: string;
  branch: string;
  /**
   * `new_branch`: a first attempt, branched from the base. `existing_branch`: a retry whose worktree
   * was removed; its branch is checked out again. `existing_worktree`: a retry reusing the worktree.
   */
  from: 'new_branch' | 'existing_branch' | 'existing_worktree';
}

/**
 * The worktree of a task on `branch`, made from `baseRef` the first time. A retry continues where the
 * last attempt stopped: the same worktree when it still exists, else the same branch checked out anew.
 * `baseRef` may still be settling (the clone being refreshed, under the same lock): the spare is moved
 * into the task's place meanwhile, since that needs no base, and branching waits for it.
 */
export async function createWorktree(
  clonePath: string,
  worktreesDir: string,
  taskId: number,
  branch: string,
  baseRef: string | Promise<string>,
): Promise<TaskWorktree> {
  const [made] = await createWorktrees(clonePath, worktreesDir, [{ taskId, branch }], baseRef);
  if (made!.status === 'rejected') throw made!.reason;
  return made!.value;
}

/** A task whose worktree is wanted, and the branch it works on. */
export interface WorktreeRequest {
  taskId: number;
  branch: string;
}

/**
 * The worktrees of tasks starting together, as createWorktree makes one, each task's outcome in the
 * order asked (and to `onEach` as soon as it is known): their new branches made in one transaction,
 * then each worktree in turn. What is in
 * the way (a retry's worktree, a leftover of a crash) is sorted out afterwards, one task at a time.
 * Only the first task that needs a new worktree is offered the spare.
 */
export async function createWorktrees(
  clonePath: string,
  worktreesDir: string,
  requests: readonly WorktreeRequest[],
  baseRef: string | Promise<string>,
  onEach?: (index: number, outcome: PromiseSettledResult<TaskWorktree>) => void,
): Promise<PromiseSettledResult<TaskWorktree>[]> {
  const settling = Promise.resolve(baseRef);
  // Awaited below, after the spare's move: a failure meanwhile is not an unhandled one.
  settling.catch(() => undefined);
  const results: PromiseSettledResult<TaskWorktree>[] = [];
  // Each outcome is told as it is known: a task whose worktree is made starts while the others' are.
  const tell = (index: number, outcome: PromiseSettledResult<TaskWorktree>) => {
    results[index] = outcome;
    onEach?.(index, outcome);
  };
  const careful: { index: number; branchIsNew?: boolean }[] = [];
  const dirs = requests.map(({ taskId }) => worktreePath(worktreesDir, taskId));
  const fresh = requests.flatMap((request, index) => (isValidBranchName(request.branch) && !existsSync(dirs[index]!) ? [index] : []));
  // The first is offered the spare; the others' branches are made in one git process, all or none.
  const [spareTaker, ...plain] = fresh;
  const branchesMade = settling.then((base) => createBranches(clonePath, plain.map((index) => requests[index]!.branch), validBase(base)));
  branchesMade.catch(() => undefined);
  // Their worktrees are added one after another: git does not support concurrent `worktree add`s on one
  // repository (an add reads the others' half-written entries and can fail or, worse, leave one
  // half-made), and a task's work must never land in a worktree that is not wholly its own.
  for (const [index, { branch }] of requests.entries()) {
    try {
      if (!isValidBranchName(branch)) throw new OrchError('invalid_input', `"${branch}" is not a valid branch name`);
      if (!fresh.includes(index)) {
        careful.push({ index });
        continue;
      }
      const takeSpare = index === spareTaker;
      const branchMade = takeSpare ? Promise.resolve(false) : branchesMade;
      const quick = await addWorktreeQuickly(clonePath, worktreesDir, dirs[index]!, branch, settling, { takeSpare, branchMade });
      if ('worktree' in quick) tell(index, { status: 'fulfilled', value: quick.worktree });
      else careful.push({ index, branchIsNew: quick.branchIsNew });
    } catch (error) {
      tell(index, { status: 'rejected', reason: error });
    }
  }
  for (const { index, branchIsNew } of careful.sort((a, b) => a.index - b.index)) {
    const { taskId, branch } = requests[index]!;
    try {
      const worktree = await reuseOrReplace(clonePath, worktreesDir, taskId, worktreePath(worktreesDir, taskId), branch, validBase(await settling), { branchIsNew });
      tell(index, { status: 'fulfilled', value: worktree });
    } catch (error) {
      tell(index, { status: 'rejected', reason: error });
    }
  }
  return results;
}

/**
 * A first attempt's worktree, or a retry's whose worktree was removed, made the quick way: the spare
 * moved into place and switched to the branch, else a plain `worktree add`. `{ branchIsNew }` when
 * git refused, for the careful path to go on from.
 */
async function addWorktreeQuickly(
  clonePath: string,
  worktreesDir: string,
  dir: string,
  branch: string,
  settling: Promise<string>,
  options: { takeSpare: boolean; branchMade: Promise<boolean> },
): Promise<{ worktree: TaskWorktree } | { branchIsNew?: boolean }> {
  const { takeSpare } = options;
  const placed = takeSpare && (await placeSpare(clonePath, worktreesDir, dir));
  let base: string;
  try {
    base = validBase(await settling);
  } catch (error) {
    // Never left in the task's place on a detached HEAD: the next attempt would find it in the way.
    if (placed) await discardWorktree(clonePath, dir);
    throw error;
  }
  if (placed) {
    const from = await switchSpare(dir, branch, base);
    if (from) return { worktree: { path: dir, branch, from } };
    await discardWorktree(clonePath, dir);
  }

  // Making the branch compare-and-set (old value: none) also tells whether it existed. git refuses
  // the add when something is in the way — a registration whose directory was deleted, the branch
  // checked out in such a worktree — and the careful path sorts that out.
  const branchIsNew = (await options.branchMade) || (await tryGit(clonePath, ['update-ref', '-m', `orch: branch from ${base}`, `refs/heads/${branch}`, `${base}^{commit}`, ''])).ok;
  await mkdir(worktreesDir, { recursive: true });
  const added = await tryGit(clonePath, ['worktree', 'add', '--quiet', '--', dir, branch]);
  if (added.ok) return { worktree: { path: dir, branch, from: branchIsNew ? 'new_branch' : 'existing_branch' } };
  return { branchIsNew };
}

/**
 * Makes every one of `branches` at `base` in one git process and one transaction: true when all were
 * made (each is new), false when git refused (one exists already: each is then made, or found, on
 * its own).
 */
async function createBranches(clonePath: string, branches: readonly string[], base: string): Promise<boolean> {
  if (branches.length === 0) return false;
  const input = branches.map((branch) => `create refs/heads/${branch} ${base}^{commit}\n`).join('');
  return (await tryGit(clonePath, ['update-ref', '-m', `orch: branch from ${base}`, '--stdin'], { input })).ok;
}

function validBase(baseRef: string): string {
  if (baseRef.startsWith('-')) throw new OrchError('invalid_input', `"${baseRef}" is not a valid base`);
  return baseRef;
}

/**
 * The careful path, when the task's directory exists or a plain add was refused: forget worktrees
 * whose directory is gone, then reuse the task's worktree, restore one left mid-rebase, or replace a
 * leftover directory git does not know.
 */
async function reuseOrReplace(
  clonePath: string,
  worktreesDir: string,
  taskId: number,
  dir: string,
  branch: string,
  baseRef: string,
  options: { branchIsNew?: boolean } = {},
): Promise<TaskWorktree> {
  await git(clonePath, ['worktree', 'prune']);

  let existing = (await listWorktrees(clonePath)).find((worktree) => samePath(worktree.path, dir));
  if (existing && existing.branch === null && (await rebaseInProgress(dir))) {
    // A rebase interrupted by a crash (Orch killed mid-merge) leaves HEAD detached: undo it, and the
    // worktree is back on its branch as the last attempt left it.
    await tryGit(dir, ['rebase', '--abort']);
    existing = (await listWorktrees(clonePath)).find((worktree) => samePath(worktree.path, dir));
  }
  if (existing && existing.branch === null) {
    // Detached, and not mid-rebase: a spare moved into the task's place by an Orch killed before it
    // put the task's branch in it. What the task committed is on its branch; the worktree is made again.
    await forceRemove(clonePath, existing.path);
    existing = undefined;
  }
  if (existing) {
    if (existing.branch === `refs/heads/${branch}`) return { path: dir, branch, from: 'existing_worktree' };
    throw new OrchError(
      'conflict',
      `the worktree of task ${taskId} (${dir}) is on ${existing.branch ?? 'a detached HEAD'}, not ${branch}`,
    );
  }
  // Not registered, yet present: left by an add that was interrupted. The directory is Orch's own.
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
  await mkdir(worktreesDir, { recursive: true });

  if (await branchExists(clonePath, branch)) {
    await git(clonePath, ['worktree', 'add', '--quiet', '--', dir, branch]);
    // A branch made above, before the refused add, is still this attempt's new branch.
    return { path: dir, branch, from: options.branchIsNew ? 'new_branch' : 'existing_branch' };
  }
  await git(clonePath, ['worktree', 'add', '--quiet', '-b', branch, '--', dir, baseRef]);
  return { path: dir, branch, from: 'new_branch' };
}

/**
 * A fresh worktree for a pull worker, on its own branch from `baseRef`. Whatever an earlier worker of
 * the same id left there (a crash) is replaced.
 */
export async function createWorkerWorktree(clonePath: string, worktreesDir: string, workerId: number, baseRef: string): Promise<{ path: string; branch: string }> {
  if (baseRef.startsWith('-')) throw new OrchError('invalid_input', `"${baseRef}" is not a valid base`);
  const dir = workerWorktreePath(worktreesDir, workerId);
  const branch = workerBranchName(workerId);
  await git(clonePath, ['worktree', 'prune']);
  const existing = (await listWorktrees(clonePath)).find((worktree) => samePath(worktree.path, dir));
  if (existing) await forceRemove(clonePath, existing.path);
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
  await mkdir(worktreesDir, { recursive: true });
  await git(clonePath, ['worktree', 'add', '--quiet', '-B', branch, '--', dir, baseRef]);
  return { path: dir, branch };
}

/**
 * Hands a worker's worktree to the task it claimed: its branch is renamed to the task's branch and the
 * worktree moved to the task's place, so every later step (judge, merge, retry, sweep) finds it where
 * a push run's would be. An earlier attempt's worktree or branch of the task is replaced: this attempt
 * started afresh from the default branch.
 */
export async function adoptWorkerWorktree(clonePath: string, workerDir: string, worktreesDir: string, taskId: number, taskBranch: string): Promise<TaskWorktree> {
  if (!isValidBranchName(taskBranch)) throw new OrchError('invalid_input', `"${taskBranch}" is not a valid branch name`);
  const taskDir = worktreePath(worktreesDir, taskId);
  await git(clonePath, ['worktree', 'prune']);
  for (const worktree of await listWorktrees(clonePath)) {
    if (samePath(worktree.path, workerDir)) continue;
    if (samePath(worktree.path, taskDir) || worktree.branch === `refs/heads/${taskBranch}`) await forceRemove(clonePath, worktree.path);
  }
  if (existsSync(taskDir)) await rm(taskDir, { recursive: true, force: true });
  await git(workerDir, ['branch', '-M', taskBranch]);
  await git(clonePath, ['worktree', 'move', workerDir, taskDir]);
  return { path: taskDir, branch: taskBranch, from: 'new_branch' };
}

/**
 * A detached checkout of `ref` at `dir`, on no branch, for work that must not leave one behind (a
 * read-only planner). Remove it with removeWorktree; a leftover directory from a crash is replaced.
 */
export async function createScratchWorktree(clonePath: string, dir: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new OrchError('invalid_input', `"${ref}" is not a valid ref`);
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
  await git(clonePath, ['worktree', 'prune']);
  await mkdir(dirname(dir), { recursive: true });
  await git(clonePath, ['worktree', 'add', '--quiet', '--detach', '--', dir, ref]);
  return dir;
}

export interface RemovedWorktree {
  removed: boolean;
  /** The branch deleted with it (short name), or null. */
  deletedBranch: string | null;
}

/**
 * Removes a worktree, uncommitted changes and all (whatever should survive has been committed by
 * then), and with `deleteBranch` the branch it had checked out — only an `orch/` branch, never one
 * Orch did not name.
 */
export async function removeWorktree(
  clonePath: string,
  dir: string,
  options: { deleteBranch: boolean },
): Promise<RemovedWorktree> {
  await git(clonePath, ['worktree', 'prune']);
  const entry = (await listWorktrees(clonePath)).find((worktree) => samePath(worktree.path, dir));
  if (!entry) return { removed: false, deletedBranch: null };
  await forceRemove(clonePath, entry.path);
  const branch = entry.branch === null ? null : shortBranch(entry.branch);
  if (!options.deleteBranch || branch === null || !branch.startsWith(BRANCH_PREFIX)) {
    return { removed: true, deletedBranch: null };
  }
  await git(clonePath, ['branch', '--quiet', '-D', branch]);
  return { removed: true, deletedBranch: branch };
}

/** The clone's linked worktrees (the clone itself, being bare, is not one). */
export async function listWorktrees(clonePath: string): Promise<WorktreeInfo[]> {
  const output = await git(clonePath, ['worktree', 'list', '--porcelain', '-z']);
  const worktrees: (WorktreeInfo & { bare: boolean })[] = [];
  let current: (typeof worktrees)[number] | null = null;
  // Each attribute ends with NUL; an empty field ends a worktree's record.
  for (const field of output.split('\0')) {
    const [key = '', ...rest] = field.split(' ');
    const value = rest.join(' ');
    if (key === 'worktree') {
      current = { path: value, head: null, branch: null, locked: false, prunable: false, bare: false };
      worktrees.push(current);
    } else if (current !== null) {
      if (key === 'HEAD') current.head = /^0+$/.test(value) ? null : value;
      else if (key === 'branch') current.branch = value;
      else if (key === 'locked') current.locked = true;
      else if (key === 'prunable') current.prunable = true;
      else if (key === 'bare') current.bare = true;
    }
  }
  return worktrees.filter((worktree) => !worktree.bare).map(({ bare: _bare, ...worktree }) => worktree);
}

export interface SweepReport {
  /** Worktrees removed (paths). */
  worktrees: string[];
  /** Leftover directories under the worktrees directory that git no longer knew (paths). */
  directories: string[];
  /** `orch/` branches deleted (short names). */
  branches: string[];
}

/** Whose a name in the worktrees directory or an `orch/` branch is: a task's, a worker's, or nobody's. */
type Owner = { task: number } | { worker: number } | null;

/**
 * Removes the worktrees, leftover directories and `orch/*` branches of every task not in
 * `liveTaskIds` — "live" meaning any task whose work must survive: running, queued for a retry, or
 * kept for a person to look at — and of every pull worker not in `liveWorkerIds` (still running).
 * Worktrees outside `worktreesDir` and branches Orch did not name are never touched, nor is the
 * branch the clone's HEAD names.
 */
export async function sweepOrphans(
  clonePath: string,
  worktreesDir: string,
  liveTaskIds: ReadonlySet<number>,
  liveWorkerIds: ReadonlySet<number> = new Set(),
): Promise<SweepReport> {
  const report: SweepReport = { worktrees: [], directories: [], branches: [] };
  await git(clonePath, ['worktree', 'prune']);
  const isOrphan = (owner: Owner) => owner !== null && ('task' in owner ? !liveTaskIds.has(owner.task) : !liveWorkerIds.has(owner.worker));

  const kept: WorktreeInfo[] = [];
  for (const worktree of await listWorktrees(clonePath)) {
    if (isOrphan(ownerOfWorktree(worktree.path, worktreesDir))) {
      await forceRemove(clonePath, worktree.path);
      report.worktrees.push(worktree.path);
    } else {
      kept.push(worktree);
    }
  }

  if (existsSync(worktreesDir)) {
    for (const name of await readdir(worktreesDir)) {
      const dir = join(worktreesDir, name);
      if (!isOrphan(ownerOfName(name)) || report.worktrees.some((path) => samePath(path, dir))) continue;
      await rm(dir, { recursive: true, force: true });
      report.directories.push(dir);
    }
  }
  await git(clonePath, ['worktree', 'prune']);

  const checkedOut = new Set(kept.map((worktree) => worktree.branch).filter((branch) => branch !== null));
  const head = await tryGit(clonePath, ['symbolic-ref', '--quiet', 'HEAD']);
  if (head.ok) checkedOut.add(head.stdout.trim());
  const refs = await git(clonePath, ['for-each-ref', '--format=%(refname)', `refs/heads/${BRANCH_PREFIX}`]);
  for (const ref of refs.split('\n').filter(Boolean)) {
    const branch = shortBranch(ref);
    if (!isOrphan(ownerOfBranch(branch)) || checkedOut.has(ref)) continue;
    await git(clonePath, ['branch', '--quiet', '-D', branch]);
    report.branches.push(branch);
  }
  for (const list of Object.values(report)) list.sort();
  return report;
}

/** `--force` twice: removes the worktree even when it has changes or is locked. */
async function forceRemove(clonePath: string, dir: string): Promise<void> {
  await git(clonePath, ['worktree', 'remove', '--force', '--force', dir]);
}

async function branchExists(clonePath: string, branch: string): Promise<boolean> {
  return (await tryGit(clonePath, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])).ok;
}

const shortBranch = (ref: string) => ref.replace(/^refs\/heads\//, '');

function taskIdOfName(name: string): number | null {
  if (!/^\d+$/.test(name)) return null;
  const id = Number(name);
  return Number.isSafeInteger(id) ? id : null;
}

function ownerOfName(name: string): Owner {
  const task = taskIdOfName(name);
  if (task !== null) return { task };
  const worker = workerIdOfName(name);
  return worker === null ? null : { worker };
}

function ownerOfBranch(branch: string): Owner {
  const task = taskIdOfBranch(branch);
  if (task !== null) return { task };
  const worker = workerIdOfBranch(branch);
  return worker === null ? null : { worker };
}

/** The task or worker a worktree belongs to, when it sits directly in the worktrees directory. */
function ownerOfWorktree(path: string, worktreesDir: string): Owner {
  return samePath(dirname(path), worktreesDir) ? ownerOfName(basename(path)) : null;
}

/** Whether git is in the middle of a rebase in this worktree (its rebase state directory exists). */
async function rebaseInProgress(dir: string): Promise<boolean> {
  for (const state of ['rebase-merge', 'rebase-apply']) {
    const path = await tryGit(dir, ['rev-parse', '--git-path', state]);
    if (path.ok && existsSync(resolve(dir, path.stdout.trim()))) return true;
  }
  return false;
}
