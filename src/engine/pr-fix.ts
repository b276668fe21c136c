// A fix round on an open pull request, after its change passed the judge: the branch is pushed to the
// same pull request with a lease (never over someone else's push), and a review round gets one reply
// saying what changed and its threads resolved. The task goes back to in_review with the run's own
// success end reason, `pr_updated`.

import { reviewRoundReply } from '../core/pull-request-briefs.js';
import type { TaskPullRequest } from '../core/types.js';
import type { Tracker } from '../trackers/tracker.js';
import { pushBranch } from '../workspace/deliver.js';
import { git, tryGit } from '../workspace/git.js';
import type { Attempt } from './attempt.js';
import type { Orch } from './context.js';
import { pendingFixRound, PUSHED_EVENT } from './pr-watch.js';
import { abortRebase, conflictedFiles, rebaseOnto } from './refinery.js';

/**
 * A rebase round starts with the branch rebased onto the base's tip. Conflicts are left in the worktree
 * for the round's agent, with the files named; without any, the agent checks the rebased change.
 */
export async function startRebaseRound(worktree: string, base: string): Promise<{ conflicts: string[] }> {
  const rebase = await rebaseOnto(worktree, `refs/heads/${base}`);
  if (rebase.ok) return { conflicts: [] };
  const conflicts = await conflictedFiles(worktree);
  if (conflicts.length === 0) {
    await abortRebase(worktree);
    throw new Error(`rebase onto ${base} failed: ${rebase.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  return { conflicts };
}

export type PullRequestUpdate =
  | { pushed: true; pullRequest: TaskPullRequest; reason: string }
  /** `overtaken`: someone else pushed to the branch since Orch last saw it; Orch never pushes over that. `unchanged`: the round added nothing. */
  | { pushed: false; overtaken: boolean; unchanged?: boolean; message: string };

export async function pushPullRequestFix(
  orch: Orch,
  attempt: Attempt,
  where: { clonePath: string; remote: string; worktree: string; branch: string; tracker: Tracker | null; agentSummary: string | null },
): Promise<PullRequestUpdate> {
  const task = (await orch.store.getTask(attempt.task.id))!;
  const pr = task.pullRequest!;
  const round = await pendingFixRound(orch, task.id);
  const head = await git(where.worktree, ['rev-parse', 'HEAD']);
  const event = (type: string, data: Record<string, unknown>) => orch.store.appendEvent({ type, project: task.project, taskId: task.id, runId: attempt.run.id, data: { number: pr.number, ...data } }, orch.now());
  // A round that leaves the branch where the pull request already is fixed nothing.
  if (head === pr.headSha) return { pushed: false, overtaken: false, unchanged: true, message: `the branch is still at ${head.slice(0, 12)}` };
  const pushed = await pushBranch(where.clonePath, where.remote, where.branch, { force: false, lease: pr.headSha });
  if (!pushed.delivered) return { pushed: false, overtaken: pushed.reason === 'not_fast_forward', message: pushed.message };
  await event(PUSHED_EVENT, { from: pr.headSha, to: head, fix: round?.fix ?? null, branch: where.branch });

  if (round?.fix === 'review' && where.tracker?.pulls) {
    const threadIds = Array.isArray(round.data.threadIds) ? (round.data.threadIds as string[]) : [];
    const commentIds = Array.isArray(round.data.commentIds) ? (round.data.commentIds as number[]) : [];
    const commits = pr.headSha ? (await tryGit(where.worktree, ['rev-list', '--reverse', `${pr.headSha}..HEAD`])).stdout.split('\n').filter(Boolean) : [head];
    await where.tracker.pulls.reply(pr.number, reviewRoundReply(pr.reviewRounds, where.agentSummary, commits, commentIds.length));
    await where.tracker.pulls.resolveThreads(pr.number, threadIds);
    await event('pr.replied', { round: pr.reviewRounds, resolved: threadIds });
  }
  const what = round?.fix === 'ci' ? `CI fix round ${pr.ciRounds}` : round?.fix === 'review' ? `review round ${pr.reviewRounds}` : round?.fix === 'rebase' ? 'rebase' : 'update';
  return {
    pushed: true,
    pullRequest: { ...pr, headSha: head, checks: 'pending' },
    reason: `${what} pushed to pull request #${pr.number} as ${head.slice(0, 12)}`,
  };
}
