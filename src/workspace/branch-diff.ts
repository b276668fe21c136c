import { isValidBranchName } from '../core/branch-name.js';
import { git, GitError, tryGit } from './git.js';

export interface BranchDiff {
  /** The unified diff, cut at the size limit. */
  diff: string;
  truncated: boolean;
}

/** Cuts `text` to at most `maxBytes` of UTF-8, at a line end when one is near. */
export function truncateDiff(text: string, maxBytes: number): BranchDiff {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { diff: text, truncated: false };
  const cut = bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  const lineEnd = cut.lastIndexOf('\n');
  return { diff: lineEnd > maxBytes / 2 ? cut.slice(0, lineEnd + 1) : cut, truncated: true };
}

/**
 * What `branch` changed since it left `base`, in the bare clone at `clonePath` (`git diff base...branch`,
 * so commits that landed on base since then do not show as removals). Null when either branch is
 * missing. Both names go to git as full ref names in an argument vector: never a shell, never an option.
 */
export async function branchDiff(clonePath: string, base: string, branch: string, maxBytes: number): Promise<BranchDiff | null> {
  if (!isValidBranchName(base) || !isValidBranchName(branch)) return null;
  const baseRef = `refs/heads/${base}`;
  const branchRef = `refs/heads/${branch}`;
  for (const ref of [baseRef, branchRef]) {
    if (!(await tryGit(clonePath, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).ok) return null;
  }
  const outcome = await tryGit(clonePath, ['diff', '--no-color', '--no-ext-diff', '--no-textconv', '--find-renames', `${baseRef}...${branchRef}`, '--']);
  if (!outcome.ok) return null;
  return truncateDiff(outcome.stdout, maxBytes);
}

/**
 * Whether the branch checked out in `worktree` holds a change: its tree differs from where it left
 * `base` (their merge base). Commits that add and then undo a change hold none.
 */
export async function branchChanged(worktree: string, base: string): Promise<boolean> {
  const mergeBase = await git(worktree, ['merge-base', `refs/heads/${base}`, 'HEAD']);
  const args = ['diff', '--quiet', '--no-ext-diff', '--no-textconv', mergeBase, 'HEAD', '--'];
  const diff = await tryGit(worktree, args);
  if (diff.ok) return false;
  if (diff.exitCode === 1) return true;
  throw new GitError(args, diff.exitCode, diff.stderr);
}
