import { existsSync, statSync } from 'node:fs';
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
  /**
   * The commit the clone's default branch was at when the refresh ended: what a task starting now
   * branches from, named once (the branch itself moves as merges land).
   */
  defaultBranchCommit: string;
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
 * Clones whose settings, refspec and HEADs this process has written (or found right) for a source and
 * default branch, by path. Another process refreshing the same clone writes the same values, so
 * there is nothing to re-read on later calls; the directory's identity guards against the clone
 * having been deleted or replaced behind Orch's back.
 */
const settledClones = new Map<string, { source: string; branch: string; dev: number; ino: number }>();

/**
 * Makes Orch's clone of a project on first use, and on every call brings `refs/remotes/origin/<default>`
 * up to date with the source, the local `<default>` following it when it can fast-forward. Reads the
 * user's repository only: nothing there is checked out, reset or written.
 *
 * The clone is fetched into only when the source's branch has moved: its tip is read (one git process)
 * while the clone's own refs are read. The clone's settings are checked and written the first
 * time in a process and then only when the source or default branch changes.
 */
export async function ensureClone(home: string, project: CloneProject, options: CloneOptions = {}): Promise<Clone> {
  const source = cloneSource(project);
  const onDisk = project.path ?? pathOfRemote(source);
  const target = clonePath(home, project.name);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  if (project.defaultBranch !== null) assertBranchName(project, project.defaultBranch);
  try {
    const known = settledClones.get(target);
    if (known && known.source === source && (project.defaultBranch ?? known.branch) === known.branch && sameDirectory(target, known)) {
      const followed = await refresh(target, { location: source, onDisk }, known.branch, timeoutMs);
      return { path: target, defaultBranch: known.branch, cloned: false, defaultBranchUpdate: followed.update, defaultBranchCommit: followed.commit };
    }
    settledClones.delete(target);
    const cloned = !(await isBareRepository(target));
    if (cloned) await cloneAtomically(source, target, project.defaultBranch, timeoutMs);

    const branch = project.defaultBranch ?? (await headBranch(target));
    assertBranchName(project, branch);
    await configureClone(target, source);
    const followed = await refresh(target, { location: source, onDisk }, branch, timeoutMs, { settle: true });
    settledClones.set(target, { source, branch, ...directoryIdentity(target) });
    return { path: target, defaultBranch: branch, cloned, defaultBranchUpdate: followed.update, defaultBranchCommit: followed.commit };
  } catch (error) {
    // Whatever failed may have left the settings half written, or the clone may be gone: check all again next time.
    settledClones.delete(target);
    throw error;
  }
}

function directoryIdentity(dir: string): { dev: number; ino: number } {
  const stats = statSync(dir);
  return { dev: stats.dev, ino: stats.ino };
}

function sameDirectory(dir: string, known: { dev: number; ino: number }): boolean {
  try {
    const now = directoryIdentity(dir);
    return now.dev === known.dev && now.ino === known.ino;
  } catch {
    return false;
  }
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
 * Settings the clone owns: the source URL (so a changed path or remote in the config takes effect),
 * and Orch's commit identity (here, in the clone's config, so commits never depend on the machine's).
 * Read in one call; only what differs is written.
 */
async function configureClone(clone: string, source: string): Promise<void> {
  const current = await localConfig(clone);
  const wanted: Record<string, string> = { 'remote.origin.url': source, ...ORCH_IDENTITY };
  for (const [key, value] of Object.entries(wanted)) {
    const values = current.get(key) ?? [];
    if (values.length === 1 && values[0] === value) continue;
    await git(clone, ['config', '--replace-all', key, value]);
  }
}

/** The clone's own config (`--local`), each key (lowercased by git) with all its values. */
async function localConfig(clone: string): Promise<Map<string, string[]>> {
  const output = (await tryGit(clone, ['config', '--local', '--list', '-z'])).stdout;
  const entries = new Map<string, string[]>();
  // With -z each entry is `key\nvalue` ended by NUL (just `key` for a key without a value).
  for (const entry of output.split('\0')) {
    if (entry === '') continue;
    const newline = entry.indexOf('\n');
    const key = newline === -1 ? entry : entry.slice(0, newline);
    const value = newline === -1 ? '' : entry.slice(newline + 1);
    entries.set(key, [...(entries.get(key) ?? []), value]);
  }
  return entries;
}

/** Where the clone is refreshed from, and where that repository is on this machine's disk when it is there. */
interface CloneSource {
  location: string;
  onDisk: string | null;
}

/**
 * The directory of a remote given as a plain path (`/srv/git/app.git`); null for a URL. A `file://`
 * URL stays a URL, asked through the transport as git itself treats it (it does not hardlink one either).
 */
function pathOfRemote(remote: string): string | null {
  return isAbsolute(remote) ? remote : null;
}

/**
 * Brings the tracking ref of the default branch up to date with the source and lets the local branch
 * follow. The source's tip and the clone's refs are read at once; the fetch runs only when the clone
 * lacks that tip. With `settle`, the configured refspec and the HEADs are pointed at the branch too —
 * only once the branch is known to exist, so a mistyped default branch leaves the clone as it was.
 */
async function refresh(
  clone: string,
  source: CloneSource,
  branch: string,
  timeoutMs: number,
  options: { settle?: boolean } = {},
): Promise<Followed> {
  const tracking = `refs/remotes/origin/${branch}`;
  const [refs, tip] = await Promise.all([cloneRefs(clone, branch), sourceTip(clone, source, branch, timeoutMs)]);
  let upstream = refs.upstream;
  if (tip === null || (tip !== refs.upstream && tip !== refs.local)) {
    await fetchDefaultBranch(clone, branch, timeoutMs);
    upstream = await resolveCommit(clone, tracking);
  } else if (tip !== refs.upstream) {
    // The source is at the clone's own default branch (Orch delivered it there): the clone has every
    // object already, and the tracking ref is moved as the fetch would move it (compare-and-set).
    await git(clone, ['update-ref', '-m', 'orch: source at the delivered tip', tracking, tip, refs.upstream ?? '']);
    upstream = tip;
  }
  if (upstream === null) throw new Error(`${tracking} is missing in ${clone} after a fetch`);
  if (options.settle) await pointAtBranch(clone, branch);
  return followUpstream(clone, branch, upstream, refs.local);
}

/** The clone's local default branch and its tracking ref (object names; null when missing), in one call. */
async function cloneRefs(clone: string, branch: string): Promise<{ local: string | null; upstream: string | null }> {
  const local = `refs/heads/${branch}`;
  const tracking = `refs/remotes/origin/${branch}`;
  const output = await git(clone, ['for-each-ref', '--format=%(objectname) %(refname)', local, tracking]);
  const refs = new Map(output.split('\n').filter(Boolean).map((line) => [line.slice(line.indexOf(' ') + 1), line.slice(0, line.indexOf(' '))]));
  return { local: refs.get(local) ?? null, upstream: refs.get(tracking) ?? null };
}

/**
 * Where the source's default branch is now (null when it has no such branch). A repository on this
 * machine — the project's path, or a remote given as a path — is read directly, in one git process:
 * `ls-remote` of a path takes three (git, a shell and upload-pack); when that read fails (no
 * repository where git would look first, no such branch), `ls-remote` asks the way fetch asks.
 */
async function sourceTip(clone: string, source: CloneSource, branch: string, timeoutMs: number): Promise<string | null> {
  const ref = `refs/heads/${branch}`;
  if (source.onDisk !== null) {
    // Where upload-pack looks first for a path: its `.git` (a directory, or a file naming one), else the path itself.
    const dotGit = join(source.onDisk, '.git');
    const gitDir = existsSync(dotGit) ? dotGit : source.onDisk;
    const read = await tryGit(clone, [`--git-dir=${gitDir}`, 'rev-parse', '--verify', '--quiet', ref]);
    if (read.ok) return read.stdout.trim();
  }
  const listed = await tryGit(clone, [...NO_COMMAND_TRANSPORT, 'ls-remote', '--', source.location, ref], { timeoutMs });
  if (!listed.ok) throw new GitError(['ls-remote', source.location, ref], listed.exitCode, listed.stderr);
  // ls-remote matches patterns against the end of ref names: keep the exact one.
  const line = listed.stdout.split('\n').find((text) => text.endsWith(`\t${ref}`));
  return line === undefined ? null : line.slice(0, line.indexOf('\t'));
}

/** Fetches the default branch only (the one branch Orch builds on) into its tracking ref. */
async function fetchDefaultBranch(clone: string, branch: string, timeoutMs: number): Promise<void> {
  const refspec = `+refs/heads/${branch}:refs/remotes/origin/${branch}`;
  const fetched = await tryGit(clone, [...NO_COMMAND_TRANSPORT, 'fetch', '--quiet', '--prune', 'origin', refspec], { timeoutMs });
  if (!fetched.ok) {
    if (/couldn't find remote ref/i.test(fetched.stderr)) {
      throw new OrchError('not_found', `the source repository has no branch ${branch}`);
    }
    throw new GitError(['fetch', 'origin', refspec], fetched.exitCode, fetched.stderr);
  }
}

/** The configured refspec and the HEADs name the default branch, as `git clone` would have set them. */
async function pointAtBranch(clone: string, branch: string): Promise<void> {
  const tracking = `refs/remotes/origin/${branch}`;
  await git(clone, ['config', '--replace-all', 'remote.origin.fetch', `+refs/heads/${branch}:${tracking}`]);
  await git(clone, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  // What `git clone` sets in a normal clone; tools (and git.ts defaultBranch) read it.
  await git(clone, ['symbolic-ref', 'refs/remotes/origin/HEAD', tracking]);
}

/**
 * Moves the local default branch to the fetched one when that is a fast-forward. Compare-and-set:
 * `update-ref` with the old value fails rather than overwrite a concurrent merge.
 */
async function followUpstream(clone: string, branch: string, upstream: string, current: string | null): Promise<Followed> {
  const local = `refs/heads/${branch}`;
  if (current === null) {
    await git(clone, ['update-ref', local, upstream, '']);
    return { update: 'created', commit: upstream };
  }
  if (current === upstream) return { update: 'unchanged', commit: current };
  if (await isAncestor(clone, current, upstream)) {
    await git(clone, ['update-ref', local, upstream, current]);
    return { update: 'fast_forwarded', commit: upstream };
  }
  return { update: (await isAncestor(clone, upstream, current)) ? 'ahead' : 'diverged', commit: current };
}

/** How the local default branch followed the source's, and the commit it is at now. */
interface Followed {
  update: DefaultBranchUpdate;
  commit: string;
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
