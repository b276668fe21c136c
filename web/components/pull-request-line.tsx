// A task's pull request in one line: the link, what its checks say, and the fix rounds Orch ran on it.

import type { Task } from '../types.js';

export function PullRequestLine({ pullRequest }: { pullRequest: NonNullable<Task['pullRequest']> }) {
  const rounds = [pullRequest.ciRounds > 0 ? `${pullRequest.ciRounds} CI fix${pullRequest.ciRounds === 1 ? '' : 'es'}` : null, pullRequest.reviewRounds > 0 ? `${pullRequest.reviewRounds} review round${pullRequest.reviewRounds === 1 ? '' : 's'}` : null].filter((part) => part !== null);
  return (
    <p class="small pull-request" data-pr={pullRequest.number}>
      <a href={pullRequest.url} target="_blank" rel="noopener noreferrer">
        PR #{pullRequest.number}
      </a>
      {pullRequest.checks ? <span class={`badge checks-${pullRequest.checks}`}>CI {pullRequest.checks}</span> : null}
      {rounds.length > 0 ? <span class="muted">{rounds.join(', ')}</span> : null}
    </p>
  );
}
