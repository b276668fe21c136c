import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { isValidBranchName } from '../core/branch-name.js';
import { OrchError } from '../core/errors.js';
import { GitError, git, tryGit } from './git.js';
import { clonePath } from './layout.js';

// Orch's own clone of a project. Agents never work in the user's repository: every task gets a
// worktree of this clone, and results travel back as commits git itself accepts (deliver.ts).
//
// The clone is bare: it has no working tree of its own, so no branch is "checked out" in it and the
// default branch can be moved with a compare-and-set `update-ref` while worktrees hang off it.
//
// From a local repository, `git clone` (given a plain path, without `--local`) hardlinks the object
// files instead of copying them. That is safe: git never changes an object file in place — objects are
// written to a temporary file and renamed, and gc or repack in either repository only unlinks its own
// name — so neither repository can corrupt the other, and the user's disk is not charged twice. Across
// filesystems git falls back to copying by itself (an explicit `--local` would fail there instead). We
// do not use `--shared` (alternates): a `git gc` in the user's repository could then delete objects the
// clone still needs.

/** What ensureClone needs to know about a project. */
export interface CloneProject {
  name: string;
  /** The user's repository on this machine; preferred over `remote` when both are set. */
  path: string | null;
  remote: string | null;
  /** null: the branch the source's HEAD named when the clone was made. */
  defaultBranch: string | null;
}

/** How the clone's local default branch followed the source's. */
export type DefaultBranchUpdate =
  | 'created'
  | 'fast_forwarded'
  | 'unchanged'
  /** It holds commits the source has not got yet (merged, not delivered): left alone. */
  | 'ahead'
  /** Both sides moved: left alone for the refinery (or a person) to reconcile. */
  | 'diverged';

export interface Clone {
  path: string;
  defaultBranch: string;
  /** True when this call made the clone. */
  cloned: boolean;
  defaultBranchUpdate: DefaultBranchUpdate;
}

export interface CloneOptions {
  /** Limit for the clone and fetch (they may cross a network). Default 10 minutes. */
  timeoutMs?: number;
}

const ORCH_IDENTITY = { 'user.name': 'Orch', 'user.email': 'orch@localhost' };
/** `ext::` URLs run arbitrary commands; git forbids them by default, and we say so explicitly. */
const NO_COMMAND_TRANSPORT = ['-c', 'protocol.ext.allow=never'];
const PARTIAL_PREFIX = 'repo.partial-';

/**
 * Makes Orch's clone of a project on first use, and on every call fetches the source so
 * `refs/remotes/origin/<default>` is current and the local `<default>` follows it when it can
 * fast-forward. Reads the user's repository only: nothing there is checked out, reset or written.
 */
export async function ensureClone(home: string, project: CloneProject, options: CloneOptions = {}): Promise<Clone> {
  const source = cloneSource(project);
  const target = clonePath(home, project.name);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  if (project.defaultBranch !== null) assertBranchName(project, project.defaultBranch);
  const cloned = !(await isBareRepository(target));
  if (cloned) await cloneAtomically(source, target, project.defaultBranch, timeoutMs);

  const branch = project.defaultBranch ?? (await headBranch(target));
  assertBranchName(project, branch);
  await configureClone(target, source);
  await fetchDefaultBranch(target, branch, timeoutMs);
  const defaultBranchUpdate = await followUpstream(target, branch);
  return { path: target, defaultBranch: branch, cloned, defaultBranchUpdate };
}

function assertBranchName(project: CloneProject, branch: string): void {
  if (!isValidBranchName(branch)) {
    throw new OrchError('config', `project ${project.name}: "${branch}" is not a valid default branch name`);
  }
}

function cloneSource(project: CloneProject): string {
  if (project.path !== null) {
    if (!isAbsolute(project.path)) {
      throw new OrchError('config', `project ${project.name}: path must be absolute, got ${project.path}`);
    }
    return project.path;
  }
  if (project.remote !== null) {
    // Stored in the clone's config and passed to git as an argument: never let it read as an option.
    if (project.remote.startsWith('-')) {
      throw new OrchError('config', `project ${project.name}: remote may not start with "-": ${project.remote}`);
    }
    return project.remote;
  }
  throw new OrchError('config', `project ${project.name} has neither a path nor a remote`);
}

async function isBareRepository(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  // Asking for the git dir too: an unrelated directory inside some other repository would otherwise
  // answer for that repository.
  const probe = await tryGit(dir, ['rev-parse', '--is-bare-repository', '--absolute-git-dir']);
  const [bare, gitDir] = probe.stdout.trim().split('\n');
  if (probe.ok && bare === 'true' && gitDir === (await realpath(dir))) return true;
  // Something else sits where the clone belongs; deleting it is not ours to decide.
  throw new OrchError('conflict', `${dir} exists but is not Orch's clone (a bare git repository); move it away`);
}

/**
 * Clones into a scratch directory beside the target and renames it into place, so a clone
 * interrupted halfway never looks like a finished one. When another process wins the race, its clone
 * is used and ours dropped.
 */
async function cloneAtomically(source: string, target: string, branch: string | null, timeoutMs: number): Promise<void> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await removeAbandonedPartials(parent);
  const partial = await mkdtemp(join(parent, `${PARTIAL_PREFIX}${process.pid}-`));
  try {
    const branchArgs = branch === null ? [] : ['--branch', branch];
    await git(parent, [...NO_COMMAND_TRANSPORT, 'clone', '--quiet', '--bare', '--single-branch', ...branchArgs, '--', source, partial], {
      timeoutMs,
    });
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    if (!(await isBareRepository(target).catch(() => false))) throw error;
  }
}

/** Scratch clones left by processes that died mid-clone (their pid is in the name). */
async function removeAbandonedPartials(parent: string): Promise<void> {
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(PARTIAL_PREFIX)) continue;
    const owner = Number(entry.slice(PARTIAL_PREFIX.length).split('-')[0]);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !processRunning(owner)) {
      await rm(join(parent, entry), { recursive: true, force: true });
    }
  }
}

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function headBranch(clone: string): Promise<string> {
  const head = await tryGit(clone, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  if (!head.ok || head.stdout.trim() === '') {
    throw new OrchError('config', `cannot tell the default branch of ${basename(dirname(clone))}: set default_branch`);
  }
  return head.stdout.trim();
}

/**
 * Settings the clone owns, rewritten on every call so a changed path or remote in the config takes
 * effect: the source URL, and Orch's commit identity (here, in the clone's config, so commits never
 * depend on the machine's).
 */
async function configureClone(clone: string, source: string): Promise<void> {
  await git(clone, ['config', 'remote.origin.url', source]);
  for (const [key, value] of Object.entries(ORCH_IDENTITY)) await git(clone, ['config', key, value]);
}

/**
 * Fetches the default branch only (the one branch Orch builds on) into its tracking ref, then points
 * the configured refspec and the HEADs at it — only once the branch is known to exist, so a mistyped
 * default branch leaves the clone as it was.
 */
async function fetchDefaultBranch(clone: string, branch: string, timeoutMs: number): Promise<void> {
  const tracking = `refs/remotes/origin/${branch}`;
  const refspec = `+refs/heads/${branch}:${tracking}`;
  const fetched = await tryGit(clone, [...NO_COMMAND_TRANSPORT, 'fetch', '--quiet', '--prune', 'origin', refspec], { timeoutMs });
  if (!fetched.ok) {
    if (/couldn't find remote ref/i.test(fetched.stderr)) {
      throw new OrchError('not_found', `the source repository has no branch ${branch}`);
    }
    throw new GitError(['fetch', 'origin', refspec], fetched.exitCode, fetched.stderr);
  }
  await git(clone, ['config', '--replace-all', 'remote.origin.fetch', refspec]);
  await git(clone, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  // What `git clone` sets in a normal clone; tools (and git.ts defaultBranch) read it.
  await git(clone, ['symbolic-ref', 'refs/remotes/origin/HEAD', tracking]);
}

/**
 * Moves the local default branch to the fetched one when that is a fast-forward. Compare-and-set:
 * `update-ref` with the old value fails rather than overwrite a concurrent merge.
 */
async function followUpstream(clone: string, branch: string): Promise<DefaultBranchUpdate> {
  const local = `refs/heads/${branch}`;
  const upstream = (await resolveCommit(clone, `refs/remotes/origin/${branch}`))!;
  const current = await resolveCommit(clone, local);
  if (current === null) {
    await git(clone, ['update-ref', local, upstream, '']);
    return 'created';
  }
  if (current === upstream) return 'unchanged';
  if (await isAncestor(clone, current, upstream)) {
    await git(clone, ['update-ref', local, upstream, current]);
    return 'fast_forwarded';
  }
  return (await isAncestor(clone, upstream, current)) ? 'ahead' : 'diverged';
}

async function resolveCommit(repo: string, ref: string): Promise<string | null> {
  const result = await tryGit(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return result.ok ? result.stdout.trim() : null;
}

async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await tryGit(repo, ['merge-base', '--is-ancestor', ancestor, descendant]);
  if (result.exitCode === 0) return true;
  if (result.exitCode === 1) return false;
  throw new Error(`git merge-base failed in ${repo}: ${result.stderr.trim()}`);
}
