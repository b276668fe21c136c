// The fake GitHub's side of a pull request after it is opened, driven by the real Octokit: CI (check runs
// and suites, workflow runs, jobs, logs, re-runs, commit statuses), reviews and inline review threads
// (resolved through GraphQL, as GitHub allows only there), mergeability and merging, and the test
// controls that script such a scenario. Every body sent must match GitHub's published schemas.

import { Octokit } from '@octokit/rest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CI_ROUTES } from './fake-github/routes-ci.js';
import { REVIEW_ROUTES } from './fake-github/routes-reviews.js';
import { startFakeGitHub, type FakeGitHub } from './fake-github/server.js';
import type { FakeRepository } from './fake-github/state.js';

const TOKEN = 'ghp_fakeTokenForTheRig';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const where = { owner: 'acme', repo: 'widgets' } as const;

let fake: FakeGitHub;
let repo: FakeRepository;
let octokit: Octokit;
const allViolations: string[] = [];
const operationsSeen = new Set<string>();

beforeEach(async () => {
  fake = await startFakeGitHub({ token: TOKEN });
  repo = fake.repository('acme/widgets');
  octokit = new Octokit({ baseUrl: fake.url, auth: TOKEN, log: quiet });
});

afterEach(async () => {
  allViolations.push(...fake.violations);
  for (const request of fake.requests) operationsSeen.add(request.operation);
  await fake.close();
});

afterAll(() => {
  expect(allViolations).toEqual([]);
});

async function status(promise: Promise<unknown>): Promise<{ status: number; message: string; headers: Record<string, string | number | undefined> }> {
  try {
    const response = (await promise) as { status: number; headers: Record<string, string | number | undefined> };
    return { status: response.status, message: '', headers: response.headers };
  } catch (error) {
    const failure = error as { status?: number; message?: string; response?: { headers: Record<string, string | number | undefined> } };
    if (failure.status === undefined) throw error;
    return { status: failure.status, message: failure.message ?? '', headers: failure.response?.headers ?? {} };
  }
}

/** A pull request Orch's bot opened from `orch/1-fix`. */
async function openPull(): Promise<{ number: number; sha: string }> {
  const created = await octokit.rest.pulls.create({ ...where, title: 'Fix login', head: 'orch/1-fix', base: 'main', body: 'Closes #1' });
  return { number: created.data.number, sha: created.data.head.sha };
}

describe('CI on a pull request', () => {
  it('lists a failed check run on the head with its suite, workflow run, job and log', async () => {
    const pull = await openPull();
    repo.setPullCheck(pull.number, { name: 'lint', conclusion: 'success' });
    const failed = repo.setPullCheck(pull.number, { name: 'test', conclusion: 'failure', log: 'FAIL test/login.test.ts\nexpected 200, got 500\n' });

    const checks = await octokit.rest.checks.listForRef({ ...where, ref: pull.sha });
    expect(checks.data.total_count).toBe(2);
    expect(checks.data.check_runs.map((run) => [run.name, run.status, run.conclusion])).toEqual([
      ['test', 'completed', 'failure'],
      ['lint', 'completed', 'success'],
    ]);
    expect(checks.data.check_runs[0]?.pull_requests.map((entry) => entry.number)).toEqual([pull.number]);
    expect((await octokit.rest.checks.listForRef({ ...where, ref: 'orch/1-fix', check_name: 'lint' })).data.check_runs.map((run) => run.name)).toEqual(['lint']);
    const one = await octokit.rest.checks.get({ ...where, check_run_id: failed.id });
    expect(one.data).toMatchObject({ id: failed.id, head_sha: pull.sha, conclusion: 'failure', app: { slug: 'github-actions' } });

    const suites = await octokit.rest.checks.listSuitesForRef({ ...where, ref: pull.sha });
    expect(suites.data.check_suites.map((suite) => [suite.status, suite.conclusion, suite.head_branch])).toEqual([['completed', 'failure', 'orch/1-fix']]);

    const run = await octokit.rest.actions.getWorkflowRun({ ...where, run_id: failed.runId });
    expect(run.data).toMatchObject({ id: failed.runId, name: 'CI', head_sha: pull.sha, status: 'completed', conclusion: 'failure', run_attempt: 1, check_suite_id: suites.data.check_suites[0]?.id });
    const jobs = await octokit.rest.actions.listJobsForWorkflowRun({ ...where, run_id: failed.runId });
    expect(jobs.data.jobs.map((job) => [job.id, job.name, job.conclusion])).toEqual([
      [jobs.data.jobs[0]?.id, 'lint', 'success'],
      [failed.id, 'test', 'failure'],
    ]);

    // GitHub answers 302 to a short-lived download address; Octokit follows it.
    const log = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...where, job_id: failed.id });
    expect(log.data).toBe('FAIL test/login.test.ts\nexpected 200, got 500\n');
    expect(fake.requests.find((request) => request.operation === 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs')?.status).toBe(302);
  });

  it('re-runs the failed jobs as a new attempt, and refuses while it runs or when nothing failed', async () => {
    const pull = await openPull();
    repo.setPullCheck(pull.number, { name: 'lint', conclusion: 'success' });
    const failed = repo.setPullCheck(pull.number, { name: 'test', conclusion: 'failure', log: 'boom' });

    const rerun = await octokit.rest.actions.reRunWorkflowFailedJobs({ ...where, run_id: failed.runId });
    expect(rerun.status).toBe(201);
    const jobs = await octokit.rest.actions.listJobsForWorkflowRun({ ...where, run_id: failed.runId });
    const again = jobs.data.jobs.find((job) => job.name === 'test');
    expect(again).toMatchObject({ status: 'queued', conclusion: null, run_attempt: 2 });
    expect(again?.id).not.toBe(failed.id);
    expect((await octokit.rest.actions.listJobsForWorkflowRun({ ...where, run_id: failed.runId, filter: 'all' })).data.total_count).toBe(3);
    expect((await octokit.rest.actions.getWorkflowRun({ ...where, run_id: failed.runId })).data).toMatchObject({ status: 'queued', conclusion: null, run_attempt: 2 });
    expect((await status(octokit.rest.actions.reRunWorkflowFailedJobs({ ...where, run_id: failed.runId }))).status).toBe(403);

    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'success', log: 'ok' });
    expect((await octokit.rest.actions.getWorkflowRun({ ...where, run_id: failed.runId })).data).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect((await octokit.rest.checks.listForRef({ ...where, ref: pull.sha })).data.check_runs.map((run) => run.conclusion)).toEqual(['success', 'success']);
    const nothingFailed = await status(octokit.rest.actions.reRunWorkflowFailedJobs({ ...where, run_id: failed.runId }));
    expect(nothingFailed).toMatchObject({ status: 403, message: expect.stringContaining('no failed jobs') });
    expect((await status(octokit.rest.actions.getWorkflowRun({ ...where, run_id: 42 }))).status).toBe(404);
  });

  it('creates commit statuses and combines the newest of each context', async () => {
    const pull = await openPull();
    const empty = await octokit.rest.repos.getCombinedStatusForRef({ ...where, ref: pull.sha });
    expect(empty.data).toMatchObject({ state: 'pending', total_count: 0, sha: pull.sha });

    const created = await octokit.rest.repos.createCommitStatus({ ...where, sha: pull.sha, state: 'pending', context: 'ci/build', description: 'Building' });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ state: 'pending', context: 'ci/build', creator: { login: 'orch-bot' } });
    await octokit.rest.repos.createCommitStatus({ ...where, sha: pull.sha, state: 'success', context: 'ci/build' });
    expect((await octokit.rest.repos.getCombinedStatusForRef({ ...where, ref: 'orch/1-fix' })).data).toMatchObject({ state: 'success', total_count: 1 });
    await octokit.rest.repos.createCommitStatus({ ...where, sha: pull.sha, state: 'error', context: 'deploy/preview' });
    const combined = await octokit.rest.repos.getCombinedStatusForRef({ ...where, ref: pull.sha });
    expect(combined.data.state).toBe('failure');
    expect(combined.data.statuses.map((entry) => [entry.context, entry.state])).toEqual([
      ['deploy/preview', 'error'],
      ['ci/build', 'success'],
    ]);
    expect((await status(octokit.rest.repos.createCommitStatus({ ...where, sha: pull.sha, state: 'green' as 'success' }))).status).toBe(422);
  });

  it('answers 304 to an unchanged list of check runs, free of the rate limit, and 200 once CI moves', async () => {
    const pull = await openPull();
    repo.setPullCheck(pull.number, { name: 'test', conclusion: null });
    const first = await octokit.rest.checks.listForRef({ ...where, ref: pull.sha });
    const etag = String(first.headers.etag);
    const again = await status(octokit.rest.checks.listForRef({ ...where, ref: pull.sha, headers: { 'if-none-match': etag } }));
    expect(again.status).toBe(304);
    expect(again.headers['x-ratelimit-remaining']).toBe(first.headers['x-ratelimit-remaining']);
    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'success' });
    const moved = await octokit.rest.checks.listForRef({ ...where, ref: pull.sha, headers: { 'if-none-match': etag } });
    expect(moved.status).toBe(200);
    expect(moved.data.check_runs[0]?.conclusion).toBe('success');
  });
});

describe('reviews on a pull request', () => {
  it("lists a collaborator's review with inline comments, and takes replies by id and by in_reply_to", async () => {
    const pull = await openPull();
    repo.addCollaborator('alice');
    const review = repo.addReview(pull.number, { author: 'alice', state: 'CHANGES_REQUESTED', body: 'Two things', comments: [{ path: 'src/login.ts', line: 12, body: 'Handle the timeout' }, { path: 'src/login.ts', line: 30, body: 'Rename this' }] });

    const reviews = await octokit.rest.pulls.listReviews({ ...where, pull_number: pull.number });
    expect(reviews.data.map((entry) => [entry.id, entry.user?.login, entry.state, entry.author_association, entry.commit_id])).toEqual([[review.id, 'alice', 'CHANGES_REQUESTED', 'COLLABORATOR', pull.sha]]);
    const comments = await octokit.rest.pulls.listReviewComments({ ...where, pull_number: pull.number });
    expect(comments.data.map((comment) => [comment.path, comment.line, comment.body, comment.pull_request_review_id])).toEqual([
      ['src/login.ts', 12, 'Handle the timeout', review.id],
      ['src/login.ts', 30, 'Rename this', review.id],
    ]);
    const first = comments.data[0]!;

    const reply = await octokit.rest.pulls.createReplyForReviewComment({ ...where, pull_number: pull.number, comment_id: first.id, body: 'Done in the next push' });
    expect(reply.status).toBe(201);
    expect(reply.data).toMatchObject({ in_reply_to_id: first.id, path: 'src/login.ts', user: { login: 'orch-bot' } });
    // With in_reply_to GitHub ignores every other parameter: the reply stays on the thread's file.
    const replyToReply = await octokit.rest.pulls.createReviewComment({ ...where, pull_number: pull.number, body: 'And tested', in_reply_to: reply.data.id, commit_id: pull.sha, path: 'elsewhere.ts' });
    expect(replyToReply.data).toMatchObject({ in_reply_to_id: first.id, path: 'src/login.ts' });

    const inline = await octokit.rest.pulls.createReviewComment({ ...where, pull_number: pull.number, body: 'Note', commit_id: pull.sha, path: 'README.md', line: 3 });
    expect(inline.data).toMatchObject({ path: 'README.md', line: 3, side: 'RIGHT', pull_request_review_id: null });
    expect(inline.data.in_reply_to_id).toBeUndefined();
    expect((await status(octokit.rest.pulls.createReviewComment({ ...where, pull_number: pull.number, body: 'x', commit_id: pull.sha, path: 'README.md' } as never))).status).toBe(422);
    expect((await status(octokit.rest.pulls.createReplyForReviewComment({ ...where, pull_number: pull.number, comment_id: 1, body: 'x' }))).status).toBe(404);
    expect((await octokit.rest.pulls.get({ ...where, pull_number: pull.number })).data.review_comments).toBe(5);
  });

  it('creates reviews with APPROVE, REQUEST_CHANGES and COMMENT, refusing to approve one’s own pull request', async () => {
    const pull = await openPull();
    const own = await status(octokit.rest.pulls.createReview({ ...where, pull_number: pull.number, event: 'APPROVE' }));
    expect(own).toMatchObject({ status: 422, message: expect.stringContaining('Can not approve your own pull request') });
    const comment = await octokit.rest.pulls.createReview({ ...where, pull_number: pull.number, event: 'COMMENT', body: 'Looking', comments: [{ path: 'a.ts', line: 1, body: 'why?' }] });
    expect(comment.data).toMatchObject({ state: 'COMMENTED', body: 'Looking' });
    expect(comment.data.submitted_at).toBeDefined();
    expect((await status(octokit.rest.pulls.createReview({ ...where, pull_number: pull.number, event: 'COMMENT' }))).status).toBe(422);

    // Another user's token: a second fake whose token belongs to alice, reviewing bob's pull request.
    const alice = await startFakeGitHub({ token: TOKEN, login: 'alice' });
    try {
      const aliceRepo = alice.repository('acme/widgets');
      aliceRepo.openPull({ title: 'theirs', head: 'feature', base: 'main', author: 'bob' });
      const aliceClient = new Octokit({ baseUrl: alice.url, auth: TOKEN, log: quiet });
      const approve = await aliceClient.rest.pulls.createReview({ ...where, pull_number: 1, event: 'APPROVE' });
      expect(approve.data).toMatchObject({ state: 'APPROVED', user: { login: 'alice' } });
      const changes = await aliceClient.rest.pulls.createReview({ ...where, pull_number: 1, event: 'REQUEST_CHANGES', body: 'Please split' });
      expect(changes.data.state).toBe('CHANGES_REQUESTED');
      expect((await aliceClient.rest.pulls.get({ ...where, pull_number: 1 })).data.mergeable_state).toBe('blocked');
      for (const request of alice.requests) operationsSeen.add(request.operation);
      expect(alice.violations).toEqual([]);
    } finally {
      await alice.close();
    }
    expect((await octokit.rest.pulls.listReviews({ ...where, pull_number: pull.number })).data.map((entry) => entry.state)).toEqual(['COMMENTED']);
  });

  it('lists review threads and resolves one through GraphQL, refusing what GitHub would refuse', async () => {
    const pull = await openPull();
    repo.addReview(pull.number, { author: 'alice', state: 'COMMENTED', comments: [{ path: 'src/a.ts', line: 4, body: 'First' }, { path: 'src/b.ts', line: 9, body: 'Second' }] });
    const [firstComment] = repo.reviews.commentsOf(pull.number);
    repo.reviews.reply(pull.number, firstComment!.id, 'orch-bot', 'Fixed');

    const threadsQuery = `query Threads($owner: String!, $name: String!, $number: Int!) {
      repository(owner: $owner, name: $name) {
        pullRequest(number: $number) {
          reviewThreads(first: 50) {
            totalCount
            nodes { id isResolved isOutdated path line resolvedBy { login } comments(first: 20) { nodes { fullDatabaseId body author { login } } } }
          }
        }
      }
    }`;
    type Threads = { repository: { pullRequest: { reviewThreads: { totalCount: number; nodes: { id: string; isResolved: boolean; isOutdated: boolean; path: string; line: number; resolvedBy: { login: string } | null; comments: { nodes: { fullDatabaseId: string; body: string; author: { login: string } }[] } }[] } } } };
    const threads = async () => (await octokit.graphql<Threads>(threadsQuery, { owner: 'acme', name: 'widgets', number: pull.number })).repository.pullRequest.reviewThreads;

    const before = await threads();
    expect(before.totalCount).toBe(2);
    expect(before.nodes.map((thread) => [thread.path, thread.line, thread.isResolved, thread.isOutdated])).toEqual([
      ['src/a.ts', 4, false, false],
      ['src/b.ts', 9, false, false],
    ]);
    expect(before.nodes[0]?.comments.nodes.map((comment) => [comment.body, comment.author.login])).toEqual([
      ['First', 'alice'],
      ['Fixed', 'orch-bot'],
    ]);

    const resolved = await octokit.graphql<{ resolveReviewThread: { thread: { id: string; isResolved: boolean } } }>(
      'mutation Resolve($id: ID!) { resolveReviewThread(input: { threadId: $id }) { thread { id isResolved } } }',
      { id: before.nodes[0]?.id },
    );
    expect(resolved.resolveReviewThread.thread).toEqual({ id: before.nodes[0]?.id, isResolved: true });
    const after = await threads();
    expect(after.nodes.map((thread) => [thread.isResolved, thread.resolvedBy?.login ?? null])).toEqual([
      [true, 'orch-bot'],
      [false, null],
    ]);

    // A push makes the threads outdated, as their comments were on the old head.
    repo.pushBranch('orch/1-fix');
    expect((await threads()).nodes.map((thread) => thread.isOutdated)).toEqual([true, true]);

    const refusal = async (query: string, variables: Record<string, unknown> = {}) => {
      try {
        await octokit.graphql(query, variables);
        return [];
      } catch (error) {
        return (error as { errors?: { type?: string; message: string }[] }).errors ?? [];
      }
    };
    expect((await refusal('{ repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { reviewThreads(first: 5) { nodes { isResolvd } } } } }'))[0]?.message).toContain('Cannot query field "isResolvd"');
    expect((await refusal('{ repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { reviewThreads { totalCount } } } }'))[0]?.type).toBe('MISSING_PAGINATION_BOUNDARIES');
    expect((await refusal('mutation { resolveReviewThread(input: { threadId: "PRRT_nothing" }) { thread { id } } }'))[0]?.type).toBe('NOT_FOUND');
    expect((await refusal('{ repository(owner: "acme", name: "nothing") { id } }'))[0]?.type).toBe('NOT_FOUND');
  });
});

describe('mergeability and merging', () => {
  it('reports clean, unstable, blocked and dirty, and follows a push to the head branch', async () => {
    const pull = await openPull();
    const state = async () => {
      const { data } = await octokit.rest.pulls.get({ ...where, pull_number: pull.number });
      return [data.mergeable, data.mergeable_state, data.head.sha];
    };
    expect(await state()).toEqual([true, 'clean', pull.sha]);
    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'failure' });
    expect(await state()).toEqual([true, 'unstable', pull.sha]);
    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'success' });
    repo.addReview(pull.number, { author: 'alice', state: 'CHANGES_REQUESTED', body: 'No' });
    expect((await state())[1]).toBe('blocked');
    repo.addReview(pull.number, { author: 'alice', state: 'APPROVED' });
    expect((await state())[1]).toBe('clean');
    repo.setMergeable(pull.number, false);
    expect(await state()).toEqual([false, 'dirty', pull.sha]);

    const pushed = repo.pushBranch('orch/1-fix');
    repo.setMergeable(pull.number, true);
    expect(await state()).toEqual([true, 'clean', pushed]);
    expect((await octokit.rest.checks.listForRef({ ...where, ref: 'orch/1-fix' })).data.total_count).toBe(0);
    // A test with a real repository behind it pushes the commit it made.
    expect(repo.pushBranch('orch/1-fix', 'a'.repeat(40))).toBe('a'.repeat(40));
    expect((await state())[2]).toBe('a'.repeat(40));
  });

  it('merges with the chosen method (unstable CI does not stop it), refusing a conflict, changes requested, a stale head and a second merge', async () => {
    const issue = repo.addIssue({ title: 'Fix login' });
    const pull = await openPull();
    repo.setMergeable(pull.number, false);
    expect(await status(octokit.rest.pulls.merge({ ...where, pull_number: pull.number }))).toMatchObject({ status: 405, message: expect.stringContaining('not mergeable') });
    repo.setMergeable(pull.number, true);
    repo.addReview(pull.number, { author: 'alice', state: 'CHANGES_REQUESTED', body: 'Not yet' });
    expect((await status(octokit.rest.pulls.merge({ ...where, pull_number: pull.number }))).status).toBe(405);
    repo.addReview(pull.number, { author: 'alice', state: 'APPROVED' });
    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'failure' });
    expect((await status(octokit.rest.pulls.merge({ ...where, pull_number: pull.number, sha: 'f'.repeat(40) }))).status).toBe(409);
    expect((await status(octokit.rest.pulls.merge({ ...where, pull_number: pull.number, merge_method: 'octopus' as 'merge' }))).status).toBe(422);

    const merged = await octokit.rest.pulls.merge({ ...where, pull_number: pull.number, merge_method: 'squash', sha: pull.sha });
    expect(merged.data).toMatchObject({ merged: true, message: 'Pull Request successfully merged' });
    expect(merged.data.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(repo.pull(pull.number).pull.mergeMethod).toBe('squash');
    expect((await octokit.rest.pulls.get({ ...where, pull_number: pull.number })).data).toMatchObject({ merged: true, state: 'closed', merged_by: { login: 'orch-bot' } });
    expect(repo.issue(issue.number).state).toBe('closed');
    expect((await status(octokit.rest.pulls.merge({ ...where, pull_number: pull.number }))).status).toBe(405);
  });
});

describe('coverage of the schemas', () => {
  it('every CI and review operation the fake serves was exercised in this file', () => {
    const served = [...CI_ROUTES, ...REVIEW_ROUTES].map((route) => `${route.method} ${route.template}`);
    expect(served.filter((operation) => !operationsSeen.has(operation))).toEqual([]);
  });
});
