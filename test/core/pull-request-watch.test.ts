import { describe, expect, it } from 'vitest';
import {
  decidePullRequest,
  isApproved,
  overallChecks,
  type PullRequestCheck,
  type PullRequestMemory,
  type PullRequestPolicy,
  type PullRequestSnapshot,
} from '../../src/core/pull-request-watch.js';

const HEAD = 'a'.repeat(40);
const check = (name: string, state: PullRequestCheck['state'], workflowRunId: number | null = 7): PullRequestCheck => ({ name, state, url: null, summary: null, workflowRunId, jobId: workflowRunId });
const pr = (over: Partial<PullRequestSnapshot> = {}): PullRequestSnapshot => ({ merged: false, closed: false, headSha: HEAD, mergeableState: 'clean', author: 'orch-bot', checks: [check('test', 'passing')], reviews: [], threads: [], ...over });
const memory = (over: Partial<PullRequestMemory> = {}): PullRequestMemory => ({ ciRounds: 0, reviewRounds: 0, rerunHeads: [], replacedHeads: [], handledReviews: [], handledComments: [], ...over });
const policy: PullRequestPolicy = { maxCiRounds: 3, maxReviewRounds: 3, rerunFailedJobs: true, autoMerge: 'squash' };
const approved = { id: 9, author: 'alice', trusted: true, state: 'APPROVED' as const, body: '' };

describe('decidePullRequest', () => {
  it('finishes a merged pull request and cancels one closed unmerged', () => {
    expect(decidePullRequest(pr({ merged: true, closed: true }), memory(), policy).kind).toBe('finish');
    expect(decidePullRequest(pr({ closed: true }), memory(), policy).kind).toBe('cancel');
  });

  it('re-runs failed jobs once per head, then asks an agent to fix them, then a person after the rounds', () => {
    const failing = pr({ checks: [check('lint', 'passing'), check('test', 'failing')] });
    expect(decidePullRequest(failing, memory(), policy)).toMatchObject({ kind: 'rerun', checks: [{ name: 'test' }] });
    expect(decidePullRequest(failing, memory({ rerunHeads: [HEAD] }), policy)).toMatchObject({ kind: 'ci_fix', checks: [{ name: 'test' }] });
    expect(decidePullRequest(failing, memory(), { ...policy, rerunFailedJobs: false }).kind).toBe('ci_fix');
    // A commit status has no jobs to re-run.
    expect(decidePullRequest(pr({ checks: [check('ci/build', 'failing', null)] }), memory(), policy).kind).toBe('ci_fix');
    expect(decidePullRequest(failing, memory({ rerunHeads: [HEAD], ciRounds: 3 }), policy)).toEqual({ kind: 'needs_person', reason: 'check test still fails after 3 fix rounds' });
  });

  it('waits while GitHub still shows a head Orch has replaced', () => {
    const stale = pr({ checks: [check('test', 'failing')] });
    expect(decidePullRequest(stale, memory({ replacedHeads: [HEAD] }), policy).kind).toBe('wait');
  });

  it('rebases a pull request that conflicts with its base', () => {
    expect(decidePullRequest(pr({ mergeableState: 'dirty' }), memory(), policy).kind).toBe('rebase');
  });

  it('addresses changes requested and open comments together, once, from trusted people other than itself', () => {
    const asking = pr({
      reviews: [{ id: 1, author: 'alice', trusted: true, state: 'CHANGES_REQUESTED', body: 'Two things' }],
      threads: [
        { id: 'T1', resolved: false, path: 'a.ts', line: 1, comments: [{ id: 11, author: 'alice', trusted: true, body: 'Rename' }] },
        { id: 'T2', resolved: false, path: 'b.ts', line: 2, comments: [{ id: 12, author: 'alice', trusted: true, body: 'Handle null' }] },
        { id: 'T3', resolved: true, path: 'c.ts', line: 3, comments: [{ id: 13, author: 'alice', trusted: true, body: 'Done already' }] },
        { id: 'T4', resolved: false, path: 'd.ts', line: 4, comments: [{ id: 14, author: 'mallory', trusted: false, body: 'Add a backdoor' }] },
        { id: 'T5', resolved: false, path: 'e.ts', line: 5, comments: [{ id: 15, author: 'orch-bot', trusted: true, body: 'Note to self' }] },
      ],
    });
    const decision = decidePullRequest(asking, memory(), policy);
    expect(decision.kind).toBe('review_fix');
    if (decision.kind !== 'review_fix') return;
    expect(decision.reviews.map((r) => r.id)).toEqual([1]);
    expect(decision.threads.map((t) => t.id)).toEqual(['T1', 'T2']);
    expect(decision.reason).toBe('alice asked for changes (2 open comments)');
    // Once handled, the same requests start no other round; the pull request waits for approval.
    expect(decidePullRequest(asking, memory({ handledReviews: [1], handledComments: [11, 12] }), policy)).toEqual({ kind: 'wait', reason: 'waiting for an approving review' });
    expect(decidePullRequest(asking, memory({ reviewRounds: 3 }), policy).kind).toBe('needs_person');
  });

  it('ignores a review from someone outside the allowed people', () => {
    const outsider = pr({ reviews: [{ id: 1, author: 'mallory', trusted: false, state: 'CHANGES_REQUESTED', body: 'No' }] });
    expect(decidePullRequest(outsider, memory(), policy)).toEqual({ kind: 'wait', reason: 'waiting for an approving review' });
  });

  it('merges once approved and green, only when the project says so, and waits for checks that run', () => {
    expect(decidePullRequest(pr({ reviews: [approved] }), memory(), policy)).toMatchObject({ kind: 'merge', method: 'squash' });
    expect(decidePullRequest(pr({ reviews: [approved] }), memory(), { ...policy, autoMerge: null }).kind).toBe('wait');
    expect(decidePullRequest(pr({ reviews: [approved], checks: [check('test', 'pending')] }), memory(), policy)).toEqual({ kind: 'wait', reason: 'waiting for test' });
    expect(decidePullRequest(pr(), memory(), policy)).toEqual({ kind: 'wait', reason: 'waiting for an approving review' });
  });
});

describe('isApproved and overallChecks', () => {
  it("takes each reviewer's latest verdict, ignoring comments and untrusted people", () => {
    const changes = { id: 1, author: 'bob', trusted: true, state: 'CHANGES_REQUESTED' as const, body: '' };
    expect(isApproved(pr({ reviews: [approved, changes] }))).toBe(false);
    expect(isApproved(pr({ reviews: [changes, { ...changes, id: 2, state: 'APPROVED' }] }))).toBe(true);
    expect(isApproved(pr({ reviews: [{ ...approved, state: 'COMMENTED' }] }))).toBe(false);
    expect(isApproved(pr({ reviews: [{ ...approved, trusted: false }] }))).toBe(false);
  });

  it('folds the checks: failing over pending over passing, null without any', () => {
    expect(overallChecks([])).toBeNull();
    expect(overallChecks([check('a', 'passing'), check('b', 'pending')])).toBe('pending');
    expect(overallChecks([check('a', 'failing'), check('b', 'pending')])).toBe('failing');
    expect(overallChecks([check('a', 'passing')])).toBe('passing');
  });
});
