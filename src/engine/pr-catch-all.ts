// The catch-all: a task whose judged branch was pushed but that has no pull request (its project had no
// tracker able to open one then: a missing token, GitHub down at the moment of the push) gets one as
// soon as the tracker can open it, and is under review from then on like any other.

import type { Orch } from './context.js';
import type { Tracker } from '../trackers/tracker.js';
import { applyTransition } from './transitions.js';

export async function proposePushedBranches(orch: Orch, project: string, tracker: Tracker): Promise<number[]> {
  const settings = orch.config.projects[project];
  if (!tracker.openPullRequest || !settings || settings.mergeStrategy !== 'pr') return [];
  const base = settings.defaultBranch ?? (await orch.store.getProject(project))?.defaultBranch;
  if (!base) return [];
  const proposed: number[] = [];
  for (const task of await orch.store.listTasks({ project, states: ['needs_review'] })) {
    if (task.pullRequest !== null) continue;
    const last = (await orch.store.listRuns({ taskId: task.id })).at(-1);
    if (last?.endReason !== 'branch_pushed' || !last.branch) continue;
    const body = [`Orch task #${task.id}: ${task.title}`, '', task.body.trim(), '', `Its branch was judged and pushed by run ${last.id}; this pull request was opened once the tracker could.`].join('\n');
    const pr = await tracker.openPullRequest({ ref: task.externalRef, branch: last.branch, base, title: task.title, body });
    await orch.store.transaction(async (tx) => {
      const current = (await tx.getTask(task.id))!;
      // A person acted meanwhile: theirs to decide.
      if (current.state !== 'needs_review' || current.version !== task.version) return;
      const reason = `pull request #${pr.number} is open for review: ${pr.url} (merging it finishes the task)`;
      await applyTransition(tx, current, 'propose', {
        now: orch.now(),
        reason,
        patch: { pullRequest: { number: pr.number, url: pr.url, branch: last.branch!, headSha: null, checks: null, ciRounds: 0, reviewRounds: 0 }, blockedReason: null },
        data: { pullRequest: pr.number, catchAll: true },
      });
      await tx.appendEvent({ type: 'task.pull_request', project, taskId: task.id, data: { number: pr.number, url: pr.url, branch: last.branch } }, orch.now());
      proposed.push(task.id);
    });
  }
  return proposed;
}
