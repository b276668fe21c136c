// What an agent is told in a fix round on its pull request, and what Orch says on the pull request
// once the round is pushed. Pure text from what the watch found.

import type { PullRequestReview, ReviewThread } from './pull-request-watch.js';

/** One failing check as the fix prompt shows it. */
export interface FailingCheck {
  name: string;
  url: string | null;
  step: string | null;
  logTail: string | null;
}

/** The kinds of fix round a pull request goes back to the queue for. */
export type FixRound = 'ci' | 'review' | 'rebase';

const fence = (text: string) => `\`\`\`\n${text.replace(/```/g, "'''")}\n\`\`\``;

/** The prompt's account of failing checks: names, failing steps, the end of each log, where to read more. */
export function ciFixBrief(pullRequest: { number: number; url: string }, headSha: string, checks: readonly FailingCheck[]): string {
  const lines = [
    `The checks of pull request #${pullRequest.number} (${pullRequest.url}) failed on ${headSha.slice(0, 12)}. Fix the cause on this branch; the fix is pushed to the same pull request.`,
  ];
  for (const check of checks) {
    lines.push('', `Check "${check.name}"${check.step ? `, step "${check.step}"` : ''} failed${check.url ? `: ${check.url}` : ''}`);
    if (check.logTail) lines.push('End of its log:', fence(check.logTail));
  }
  return lines.join('\n');
}

/** The prompt's account of what reviewers asked: every review body and every open comment, with where it is. */
export function reviewFixBrief(pullRequest: { number: number; url: string }, reviews: readonly PullRequestReview[], threads: readonly ReviewThread[]): string {
  const lines = [`Reviewers asked for changes on pull request #${pullRequest.number} (${pullRequest.url}). Address all of them in this one round.`];
  for (const review of reviews) if (review.body.trim()) lines.push('', `${review.author} (review): ${review.body.trim()}`);
  for (const thread of threads) {
    const where = thread.path ? `${thread.path}${thread.line !== null ? `:${thread.line}` : ''}` : 'the pull request';
    lines.push('', `On ${where}:`, ...thread.comments.map((c) => `- ${c.author}: ${c.body.trim()}`));
  }
  return lines.join('\n');
}

/** The prompt of an agent resolving the conflicts a rebase of the task's branch stopped on (a direct merge's, or a pull request's rebase round). */
export function conflictResolutionPrompt(task: { id: number; title: string }, base: string, files: readonly string[]): { prompt: string; systemPromptAppend: string } {
  return {
    prompt: [
      `# Resolve a rebase conflict for task #${task.id}: ${task.title}`,
      '',
      `The task's branch is being rebased onto the latest ${base}, and git stopped on conflicts in:`,
      ...files.map((f) => `- ${f}`),
      '',
      'Edit those files so they keep both the intent of this task and the changes already on the default branch, and remove every conflict marker. Do not run git commands: Orch continues the rebase.',
    ].join('\n'),
    systemPromptAppend: 'You are resolving merge conflicts in a git worktree. Change only what the conflict needs.',
  };
}

export function rebaseBrief(pullRequest: { number: number; url: string }, base: string): string {
  return `Pull request #${pullRequest.number} (${pullRequest.url}) conflicted with ${base}, and Orch rebased its branch onto ${base}. Check that the change still fits what is on ${base} now, and fix anything the rebase broke.`;
}

/** The one reply Orch posts on a pull request after a review round: what changed, which comments it answers. */
export function reviewRoundReply(round: number, summary: string | null, commits: readonly string[], addressed: number): string {
  return [
    `Orch addressed the review in round ${round}${commits.length > 0 ? ` (${commits.map((c) => c.slice(0, 12)).join(', ')})` : ''}: ${addressed} comment${addressed === 1 ? '' : 's'} answered together.`,
    '',
    summary?.trim() || 'The change was judged again (tests, lint, review) before this push.',
  ].join('\n');
}
