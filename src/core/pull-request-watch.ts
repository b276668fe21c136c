// What to do about an open pull request now, from one look at it: its state, the checks on its head,
// its reviews and review threads. Pure: the engine (engine/pr-watch.ts) gathers the look and carries
// the decision out.

import type { PullRequestChecks } from './types.js';

export interface PullRequestCheck {
  name: string;
  state: PullRequestChecks;
  /** Where a person reads it (the check run's or status's page). */
  url: string | null;
  /** The check's own summary or the status's description. */
  summary: string | null;
  /** The GitHub Actions workflow run and job behind a check run, when it is one: its failed jobs can be re-run and its log read. */
  workflowRunId: number | null;
  jobId: number | null;
}

export const REVIEW_STATES = ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED', 'PENDING'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

export interface PullRequestReview {
  id: number;
  author: string;
  /** Whether the author may ask Orch for changes: a listed reviewer, or one of the repository's people. */
  trusted: boolean;
  state: ReviewState;
  body: string;
}

export interface ReviewComment {
  id: number;
  author: string;
  trusted: boolean;
  body: string;
}

export interface ReviewThread {
  id: string;
  resolved: boolean;
  path: string | null;
  line: number | null;
  comments: ReviewComment[];
}

export type MergeableState = 'clean' | 'dirty' | 'blocked' | 'unstable' | 'behind' | 'unknown' | 'draft' | 'has_hooks';

/** One look at a pull request. */
export interface PullRequestSnapshot {
  merged: boolean;
  closed: boolean;
  headSha: string;
  mergeableState: MergeableState;
  /** The login that opened it (Orch's own account): its comments are never taken as requests. */
  author: string;
  checks: PullRequestCheck[];
  reviews: PullRequestReview[];
  threads: ReviewThread[];
}

export type AutoMerge = 'squash' | 'merge' | 'rebase';

export interface PullRequestPolicy {
  maxCiRounds: number;
  maxReviewRounds: number;
  /** Re-run a head's failed jobs once before an agent is asked to fix them. */
  rerunFailedJobs: boolean;
  autoMerge: AutoMerge | null;
}

/** What Orch did about this pull request before (read from its events and the task). */
export interface PullRequestMemory {
  ciRounds: number;
  reviewRounds: number;
  /** Heads whose failed jobs were re-run. */
  rerunHeads: readonly string[];
  /** Heads Orch has since replaced with a push: GitHub may still show one a moment after the push. */
  replacedHeads: readonly string[];
  /** Reviews and review comments a fix round already addressed. */
  handledReviews: readonly number[];
  handledComments: readonly number[];
}

export type PullRequestDecision =
  | { kind: 'finish'; reason: string }
  | { kind: 'cancel'; reason: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'rerun'; checks: PullRequestCheck[]; reason: string }
  | { kind: 'ci_fix'; checks: PullRequestCheck[]; reason: string }
  | { kind: 'review_fix'; reviews: PullRequestReview[]; threads: ReviewThread[]; reason: string }
  | { kind: 'rebase'; reason: string }
  | { kind: 'merge'; method: AutoMerge; reason: string }
  | { kind: 'needs_person'; reason: string };

/** What the checks on the head say together: failing if one fails, pending while one runs, null when there are none. */
export function overallChecks(checks: readonly PullRequestCheck[]): PullRequestChecks | null {
  if (checks.length === 0) return null;
  if (checks.some((c) => c.state === 'failing')) return 'failing';
  if (checks.some((c) => c.state === 'pending')) return 'pending';
  return 'passing';
}

const names = (checks: readonly PullRequestCheck[]) => checks.map((c) => c.name).join(', ');

/** The reviews and unresolved threads a fix round has not addressed yet, from people allowed to ask. */
export function openRequests(pr: PullRequestSnapshot, memory: PullRequestMemory): { reviews: PullRequestReview[]; threads: ReviewThread[] } {
  const asks = (author: string, trusted: boolean) => trusted && author !== pr.author;
  const reviews = pr.reviews.filter((r) => r.state === 'CHANGES_REQUESTED' && asks(r.author, r.trusted) && !memory.handledReviews.includes(r.id));
  const threads = pr.threads.filter((t) => !t.resolved && t.comments.some((c) => asks(c.author, c.trusted) && !memory.handledComments.includes(c.id)));
  return { reviews, threads };
}

/** Approved: at least one trusted reviewer's latest verdict approves, and none's asks for changes. */
export function isApproved(pr: PullRequestSnapshot): boolean {
  const latest = new Map<string, ReviewState>();
  for (const review of pr.reviews) {
    if (!review.trusted || review.author === pr.author) continue;
    if (review.state === 'APPROVED' || review.state === 'CHANGES_REQUESTED' || review.state === 'DISMISSED') latest.set(review.author, review.state);
  }
  const verdicts = [...latest.values()];
  return verdicts.includes('APPROVED') && !verdicts.includes('CHANGES_REQUESTED');
}

/**
 * The one decision about an open pull request: merged or closed ends the task; a conflict with the base
 * is rebased; failing checks are re-run once, then fixed by an agent for a bounded number of rounds;
 * changes asked by reviewers get one round addressing them all; approved and green merges when the
 * project says so; anything else waits. Past its rounds a problem goes to a person, named.
 */
export function decidePullRequest(pr: PullRequestSnapshot, memory: PullRequestMemory, policy: PullRequestPolicy): PullRequestDecision {
  if (pr.merged) return { kind: 'finish', reason: 'its pull request was merged' };
  if (pr.closed) return { kind: 'cancel', reason: 'its pull request was closed without merging' };
  if (memory.replacedHeads.includes(pr.headSha)) return { kind: 'wait', reason: `GitHub still shows ${pr.headSha.slice(0, 12)}, which Orch has since replaced` };
  if (pr.mergeableState === 'dirty') return { kind: 'rebase', reason: 'the pull request conflicts with its base branch' };

  const failing = pr.checks.filter((c) => c.state === 'failing');
  if (failing.length > 0) {
    const rerunnable = failing.filter((c) => c.workflowRunId !== null);
    if (policy.rerunFailedJobs && rerunnable.length > 0 && !memory.rerunHeads.includes(pr.headSha)) {
      return { kind: 'rerun', checks: rerunnable, reason: `re-running the failed jobs of ${names(rerunnable)} once` };
    }
    if (memory.ciRounds >= policy.maxCiRounds) {
      return { kind: 'needs_person', reason: `check ${names(failing)} still fails after ${memory.ciRounds} fix round${memory.ciRounds === 1 ? '' : 's'}` };
    }
    return { kind: 'ci_fix', checks: failing, reason: `check ${names(failing)} failed on ${pr.headSha.slice(0, 12)}` };
  }

  const requests = openRequests(pr, memory);
  if (requests.reviews.length > 0 || requests.threads.length > 0) {
    if (memory.reviewRounds >= policy.maxReviewRounds) {
      return { kind: 'needs_person', reason: `reviewers still ask for changes after ${memory.reviewRounds} round${memory.reviewRounds === 1 ? '' : 's'}` };
    }
    const who = [...new Set([...requests.reviews.map((r) => r.author), ...requests.threads.flatMap((t) => t.comments.filter((c) => c.trusted && c.author !== pr.author).map((c) => c.author))])];
    const count = requests.threads.length;
    return { kind: 'review_fix', ...requests, reason: `${who.join(', ')} asked for changes${count > 0 ? ` (${count} open comment${count === 1 ? '' : 's'})` : ''}` };
  }

  const pending = pr.checks.filter((c) => c.state === 'pending');
  if (pending.length > 0) return { kind: 'wait', reason: `waiting for ${names(pending)}` };
  if (!isApproved(pr)) return { kind: 'wait', reason: 'waiting for an approving review' };
  if (policy.autoMerge === null) return { kind: 'wait', reason: 'approved and green: waiting for a person to merge it' };
  return { kind: 'merge', method: policy.autoMerge, reason: `approved and green: merging (${policy.autoMerge})` };
}
