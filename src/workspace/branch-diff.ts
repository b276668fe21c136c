import { isValidBranchName } from '../core/branch-name.js';
import { tryGit } from './git.js';

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
