import { git, tryGit } from '../workspace/git.js';

/**
 * The refinery: lands a judged task branch on the project's default branch in Orch's own clone, one
 * merge at a time per project, fast-forward only. The branch is rebased onto the current tip and its
 * tests run again on the rebased tree, so the default branch only ever moves to a commit whose tests
 * passed on top of everything merged before it.
 */

export type MergeAttempt =
  /** `rounds`: how many tries it took (more than one: the target moved under us and we went again). */
  | { kind: 'merged'; commit: string; rebased: boolean; rounds: number }
  /** The rebase stopped on conflicts; the worktree is left mid-rebase for a resolution attempt. */
  | { kind: 'conflict'; files: string[] }
  | { kind: 'tests_failed'; detail: string }
  /** The default branch kept moving under us (other Orch processes merging); try again later. */
  | { kind: 'busy' };

export interface MergeInput {
  clonePath: string;
  worktree: string;
  defaultBranch: string;
  /** Brings the clone's default branch up to date with the user's repository (a fetch). */
  refresh: () => Promise<void>;
  /** Runs the project's tests in the worktree after a rebase; null when none are configured. */
  retest: (() => Promise<{ passed: boolean; detail: string }>) | null;
  /** Where the branch lands; default: the clone's default branch (see `landInClone`). */
  landing?: Landing;
}

/**
 * Where a merge lands, asked after each refresh: the commit to rebase onto, then the compare-and-set
 * that moves the branch to the rebased head only if nothing moved since `base`.
 */
export interface Landing {
  /** How many rounds of refresh, rebase, test and land before giving up as `busy`. */
  readonly rounds: number;
  base(): Promise<string>;
  /** True when the head landed; false when the target moved since `base` (another round follows). */
  land(head: string, base: string): Promise<boolean>;
}

/**
 * Lands in Orch's clone: its default branch moves to the head, a compare-and-set on the tip rebased
 * onto. `beforeLand` records each head about to land, so that a recovery can tell from the attempt's
 * own record whether it had (recovery.ts).
 */
export function landInClone(clonePath: string, defaultBranch: string, beforeLand: (head: string) => Promise<unknown> = async () => undefined): Landing {
  const ref = `refs/heads/${defaultBranch}`;
  return {
    rounds: 3,
    base: () => git(clonePath, ['rev-parse', '--verify', `${ref}^{commit}`]),
    land: async (head, base) => {
      await beforeLand(head);
      return (await tryGit(clonePath, ['update-ref', '-m', 'orch: fast-forward', ref, head, base])).ok;
    },
  };
}

/** Rebases the task branch onto the default branch's tip, tests again, and fast-forwards the default branch. */
export async function mergeBranch(input: MergeInput): Promise<MergeAttempt> {
  const landing = input.landing ?? landInClone(input.clonePath, input.defaultBranch);
  for (let round = 0; round < landing.rounds; round++) {
    await input.refresh();
    const tip = await landing.base();
    let rebased = false;
    if (!(await isAncestor(input.worktree, tip, 'HEAD'))) {
      const rebase = await rebaseOnto(input.worktree, tip);
      if (!rebase.ok) {
        const files = await conflictedFiles(input.worktree);
        if (files.length === 0) {
          await tryGit(input.worktree, ['rebase', '--abort']);
          throw new Error(`rebase onto ${input.defaultBranch} failed: ${lastLines(rebase.stderr)}`);
        }
        return { kind: 'conflict', files };
      }
      rebased = true;
    }
    if (rebased && input.retest) {
      const tests = await input.retest();
      if (!tests.passed) return { kind: 'tests_failed', detail: `after rebasing onto ${input.defaultBranch}: ${tests.detail}` };
    }
    const head = await git(input.worktree, ['rev-parse', '--verify', 'HEAD^{commit}']);
    // Compare-and-swap: only if the target is still at the tip we rebased onto.
    if (await landing.land(head, tip)) return { kind: 'merged', commit: head, rebased, rounds: round + 1 };
  }
  return { kind: 'busy' };
}

/**
 * `git rebase` of the worktree's branch onto `target`. A rebase left half done by an Orch killed during
 * it makes git refuse a new one: when git refuses without conflicts, that one is given up and the
 * rebase tried once more.
 */
export async function rebaseOnto(worktree: string, target: string): Promise<{ ok: boolean; stderr: string }> {
  const rebase = () => tryGit(worktree, ['-c', 'core.editor=true', 'rebase', '--no-autosquash', target]);
  const first = await rebase();
  if (first.ok || (await conflictedFiles(worktree)).length > 0) return first;
  await tryGit(worktree, ['rebase', '--abort']);
  return rebase();
}

/** Finishes a rebase whose conflicts were resolved in the worktree; false when it stops on new ones. */
export async function continueRebase(worktree: string): Promise<boolean> {
  await git(worktree, ['add', '-A']);
  return (await tryGit(worktree, ['-c', 'core.editor=true', 'rebase', '--continue'])).ok;
}

/** Gives up a rebase in progress, leaving the branch as it was. */
export async function abortRebase(worktree: string): Promise<void> {
  await tryGit(worktree, ['rebase', '--abort']);
}

/** Continues a rebase whose conflicts in `files` were resolved; gives it up when markers are left or git refuses. */
export async function finishRebase(worktree: string, files: readonly string[]): Promise<boolean> {
  const markersLeft = (await tryGit(worktree, ['grep', '-l', '-E', '^(<<<<<<<|>>>>>>>) ', '--', ...files])).stdout.trim() !== '';
  if (!markersLeft && (await continueRebase(worktree))) return true;
  await abortRebase(worktree);
  return false;
}

export async function conflictedFiles(worktree: string): Promise<string[]> {
  const out = await tryGit(worktree, ['diff', '--name-only', '--diff-filter=U']);
  return out.stdout.split('\n').filter(Boolean);
}

export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await tryGit(cwd, ['merge-base', '--is-ancestor', ancestor, descendant])).ok;
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' / ');
