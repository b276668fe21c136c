// The fake GitHub itself, driven by the real Octokit: every operation it serves, the behaviours the
// tracker relies on (pagination, ETags, rate limits, pull requests among issues), and — the point of
// the rig — every body it sent matching GitHub's published schemas.

import { Octokit } from '@octokit/rest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CI_ROUTES } from './fake-github/routes-ci.js';
import { REVIEW_ROUTES } from './fake-github/routes-reviews.js';
import { DESCRIBED_OPERATIONS, SCHEMA_SOURCE, schemaViolations } from './fake-github/schemas.js';
import { startFakeGitHub, type FakeGitHub } from './fake-github/server.js';
import type { FakeRepository } from './fake-github/state.js';

const TOKEN = 'ghp_fakeTokenForTheRig';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

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
  // The rig's promise: nothing it sent in this whole file strays from GitHub's schemas.
  expect(allViolations).toEqual([]);
});

async function status(promise: Promise<unknown>): Promise<{ status: number; headers: Record<string, string | number | undefined> }> {
  try {
    const response = (await promise) as { status: number; headers: Record<string, string | number | undefined> };
    return { status: response.status, headers: response.headers };
  } catch (error) {
    const failure = error as { status?: number; response?: { headers: Record<string, string | number | undefined> } };
    if (failure.status === undefined) throw error;
    return { status: failure.status, headers: failure.response?.headers ?? {} };
  }
}

describe('the fake GitHub', () => {
  it('says which package and version its schemas come from', () => {
    expect(SCHEMA_SOURCE.package).toBe('@octokit/openapi');
    expect(SCHEMA_SOURCE.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number.isNaN(Date.parse(SCHEMA_SOURCE.extracted_at))).toBe(false);
  });

  it('catches a body that strays from the schema', () => {
    expect(schemaViolations('GET /repos/{owner}/{repo}/issues/{issue_number}', 200, { number: 1 })).not.toEqual([]);
    expect(schemaViolations('GET /repos/{owner}/{repo}/issues', 200, [{ ...{}, title: 3 }]).length).toBeGreaterThan(0);
    expect(schemaViolations('GET /repos/{owner}/{repo}/issues', 418, {})).toEqual([
      "GET /repos/{owner}/{repo}/issues 418: GitHub's description has no response schema for this status",
    ]);
  });

  it('refuses requests without the token', async () => {
    const anonymous = new Octokit({ baseUrl: fake.url, log: quiet });
    const answer = await status(anonymous.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' }));
    expect(answer.status).toBe(401);
  });

  it('creates, gets, lists and updates issues with full objects', async () => {
    const created = await octokit.rest.issues.create({ owner: 'acme', repo: 'widgets', title: 'Fix login', body: 'It fails', labels: ['bug'], assignees: ['alice'] });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ number: 1, state: 'open', title: 'Fix login', user: { login: 'orch-bot' }, assignee: { login: 'alice' } });
    expect(created.data.labels).toMatchObject([{ name: 'bug', color: 'ededed' }]);
    expect(created.data.node_id).toMatch(/^I_/);

    const fetched = await octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: 1 });
    expect(fetched.data.html_url).toBe('https://github.com/acme/widgets/issues/1');

    const closed = await octokit.rest.issues.update({ owner: 'acme', repo: 'widgets', issue_number: 1, state: 'closed', state_reason: 'not_planned' });
    expect(closed.data).toMatchObject({ state: 'closed', state_reason: 'not_planned', closed_by: { login: 'orch-bot' } });
    expect(closed.data.closed_at).not.toBeNull();

    const open = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' });
    expect(open.data).toEqual([]);
    const all = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', state: 'all' });
    expect(all.data.map((issue) => issue.number)).toEqual([1]);

    expect((await status(octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: 99 }))).status).toBe(404);
    expect((await status(octokit.rest.issues.create({ owner: 'acme', repo: 'widgets', title: '' }))).status).toBe(422);
  });

  it('filters issues by labels, assignee, creator and since, and lists pull requests among them', async () => {
    const first = repo.addIssue({ title: 'a', labels: ['orch', 'bug'], assignees: ['alice'], author: 'alice' });
    repo.addIssue({ title: 'b', labels: ['orch'], author: 'mallory' });
    repo.addIssue({ title: 'c', labels: ['bug'] });
    const pull = repo.openPull({ title: 'PR', head: 'feature', base: 'main', author: 'alice' });
    repo.addLabels(pull.number, ['orch']);

    const list = async (query: Record<string, string>) =>
      (await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', ...query })).data.map((issue) => issue.title);
    expect(await list({ labels: 'orch' })).toEqual(['PR', 'b', 'a']);
    expect(await list({ labels: 'orch,bug' })).toEqual(['a']);
    expect(await list({ assignee: 'alice' })).toEqual(['a']);
    expect(await list({ assignee: 'none', labels: 'orch' })).toEqual(['PR', 'b']);
    expect(await list({ creator: 'mallory' })).toEqual(['b']);
    expect(await list({ labels: 'orch', sort: 'updated', direction: 'asc' })).toEqual(['a', 'b', 'PR']);

    repo.updateIssue(first.number, { title: 'a2' });
    const since = new Date(repo.issue(first.number).updatedAt).toISOString();
    expect(await list({ since, state: 'all' })).toEqual(['a2']);

    const issues = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', labels: 'orch' });
    const asIssue = issues.data.find((issue) => issue.title === 'PR');
    expect(asIssue?.pull_request?.url).toBe(`${fake.url}/repos/acme/widgets/pulls/${pull.number}`);
    expect(issues.data.find((issue) => issue.title === 'b')?.pull_request).toBeUndefined();
  });

  it('pages with per_page and page and a Link header', async () => {
    for (let index = 1; index <= 7; index++) repo.addIssue({ title: `issue ${index}` });
    const first = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', per_page: 3, direction: 'asc' });
    expect(first.data.map((issue) => issue.number)).toEqual([1, 2, 3]);
    expect(first.headers.link).toContain('page=2>; rel="next"');
    expect(first.headers.link).toContain('page=3>; rel="last"');
    const all = await octokit.paginate(octokit.rest.issues.listForRepo, { owner: 'acme', repo: 'widgets', per_page: 3, direction: 'asc' });
    expect(all.map((issue) => issue.number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const last = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', per_page: 3, page: 3, direction: 'asc' });
    expect(last.headers.link).toContain('rel="prev"');
    expect(last.headers.link).not.toContain('rel="next"');
  });

  it('answers 304 to a matching If-None-Match, without spending the rate limit', async () => {
    repo.addIssue({ title: 'a' });
    const first = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' });
    const etag = String(first.headers.etag);
    const remaining = Number(first.headers['x-ratelimit-remaining']);
    const again = await status(octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', headers: { 'if-none-match': etag } }));
    expect(again.status).toBe(304);
    expect(Number(again.headers['x-ratelimit-remaining'])).toBe(remaining);

    repo.addIssue({ title: 'b' });
    const changed = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets', headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.data).toHaveLength(2);
  });

  it('sends rate-limit headers, refuses with 403 once the window is spent and serves again after the reset', async () => {
    repo.addIssue({ title: 'a' });
    const ok = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' });
    expect(ok.headers).toMatchObject({ 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-used': '1', 'x-ratelimit-resource': 'core' });

    fake.rateLimit.setRemaining(1);
    const lastOne = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' });
    expect(lastOne.headers['x-ratelimit-remaining']).toBe('0');
    const refused = await status(octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' }));
    expect(refused.status).toBe(403);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(refused.headers['x-ratelimit-reset']) * 1000).toBe(fake.rateLimit.resetsAt);

    fake.clock.advance(fake.rateLimit.resetsAt - fake.clock.now());
    const served = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' });
    expect(served.headers['x-ratelimit-remaining']).toBe('4999');
  });

  it('answers a secondary limit with 429 and retry-after', async () => {
    fake.rateLimit.triggerSecondary(42);
    const refused = await status(octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' }));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('42');
    expect((await status(octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'widgets' }))).status).toBe(200);
  });

  it('creates labels and adds them to and removes them from issues', async () => {
    const label = await octokit.rest.issues.createLabel({ owner: 'acme', repo: 'widgets', name: 'orch:queued', color: '#0e8a16', description: 'Queued' });
    expect(label.data).toMatchObject({ name: 'orch:queued', color: '0e8a16', description: 'Queued', default: false });
    expect((await status(octokit.rest.issues.createLabel({ owner: 'acme', repo: 'widgets', name: 'orch:queued' }))).status).toBe(422);
    const listed = await octokit.rest.issues.listLabelsForRepo({ owner: 'acme', repo: 'widgets' });
    expect(listed.data.map((entry) => entry.name)).toEqual(['orch:queued']);

    const issue = repo.addIssue({ title: 'a', labels: ['bug'] });
    const added = await octokit.rest.issues.addLabels({ owner: 'acme', repo: 'widgets', issue_number: issue.number, labels: ['orch:queued', 'agent:claude'] });
    expect(added.data.map((entry) => entry.name)).toEqual(['bug', 'orch:queued', 'agent:claude']);
    const removed = await octokit.rest.issues.removeLabel({ owner: 'acme', repo: 'widgets', issue_number: issue.number, name: 'orch:queued' });
    expect(removed.data.map((entry) => entry.name)).toEqual(['bug', 'agent:claude']);
    const missing = await status(octokit.rest.issues.removeLabel({ owner: 'acme', repo: 'widgets', issue_number: issue.number, name: 'nope' }));
    expect(missing.status).toBe(404);
  });

  it('lists, creates and updates issue comments, per issue and for the whole repository', async () => {
    const issue = repo.addIssue({ title: 'a' });
    const other = repo.addIssue({ title: 'b' });
    repo.addComment(other.number, 'alice', 'first');
    const created = await octokit.rest.issues.createComment({ owner: 'acme', repo: 'widgets', issue_number: issue.number, body: 'hello' });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ body: 'hello', user: { login: 'orch-bot' }, issue_url: `${fake.url}/repos/acme/widgets/issues/${issue.number}` });
    const updated = await octokit.rest.issues.updateComment({ owner: 'acme', repo: 'widgets', comment_id: created.data.id, body: 'hello again' });
    expect(updated.data.body).toBe('hello again');
    expect(Date.parse(updated.data.updated_at)).toBeGreaterThan(Date.parse(updated.data.created_at));

    const onIssue = await octokit.rest.issues.listComments({ owner: 'acme', repo: 'widgets', issue_number: issue.number });
    expect(onIssue.data.map((comment) => comment.body)).toEqual(['hello again']);
    const inRepo = await octokit.rest.issues.listCommentsForRepo({ owner: 'acme', repo: 'widgets', sort: 'created', direction: 'asc' });
    expect(inRepo.data.map((comment) => comment.body)).toEqual(['first', 'hello again']);
    const since = await octokit.rest.issues.listCommentsForRepo({ owner: 'acme', repo: 'widgets', since: updated.data.updated_at });
    expect(since.data.map((comment) => comment.body)).toEqual(['hello again']);
    expect((await octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: issue.number })).data.comments).toBe(1);
  });

  it('creates, finds and gets pull requests, refuses a second one for the same head, and reports merges', async () => {
    repo.addIssue({ title: 'Fix login' });
    const created = await octokit.rest.pulls.create({ owner: 'acme', repo: 'widgets', title: 'Fix login', head: 'orch/1-fix-login', base: 'main', body: 'Closes #1' });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ number: 2, state: 'open', merged: false, head: { ref: 'orch/1-fix-login' }, base: { ref: 'main' } });
    const duplicate = await status(octokit.rest.pulls.create({ owner: 'acme', repo: 'widgets', title: 'again', head: 'orch/1-fix-login', base: 'main' }));
    expect(duplicate.status).toBe(422);

    const byHead = await octokit.rest.pulls.list({ owner: 'acme', repo: 'widgets', head: 'acme:orch/1-fix-login', state: 'open' });
    expect(byHead.data.map((pull) => pull.number)).toEqual([2]);
    expect((await octokit.rest.pulls.list({ owner: 'acme', repo: 'widgets', head: 'acme:other' })).data).toEqual([]);

    repo.mergePull(2, 'alice');
    const merged = await octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 2 });
    expect(merged.data).toMatchObject({ state: 'closed', merged: true, merged_by: { login: 'alice' } });
    expect(merged.data.merged_at).not.toBeNull();
    // GitHub closes the issues a merged pull request names with a closing keyword.
    expect((await octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: 1 })).data.state).toBe('closed');
    expect((await status(octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 1 }))).status).toBe(404);
  });

  it('lists and adds sub-issues', async () => {
    const parent = repo.addIssue({ title: 'epic' });
    const child = repo.addIssue({ title: 'part 1' });
    const second = repo.addIssue({ title: 'part 2' });
    repo.addSubIssue(parent.number, child.number);
    const added = await octokit.rest.issues.addSubIssue({ owner: 'acme', repo: 'widgets', issue_number: parent.number, sub_issue_id: second.id });
    expect(added.status).toBe(201);
    repo.updateIssue(child.number, { state: 'closed' });
    const listed = await octokit.rest.issues.listSubIssues({ owner: 'acme', repo: 'widgets', issue_number: parent.number });
    expect(listed.data.map((issue) => [issue.number, issue.state])).toEqual([
      [child.number, 'closed'],
      [second.number, 'open'],
    ]);
    const epic = await octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: parent.number });
    expect(epic.data.sub_issues_summary).toEqual({ total: 2, completed: 1, percent_completed: 50 });
    const part = await octokit.rest.issues.get({ owner: 'acme', repo: 'widgets', issue_number: child.number });
    expect(part.data.parent_issue_url).toBe(`${fake.url}/repos/acme/widgets/issues/${parent.number}`);
  });

  it('answers 404 for an unknown repository or path', async () => {
    expect((await status(octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'nothing' }))).status).toBe(404);
    expect((await status(octokit.request('GET /repos/acme/widgets/nothing'))).status).toBe(404);
  });
});

describe('coverage of the schemas', () => {
  it('every operation the schemas describe was exercised in this file (CI and reviews: in fake-github-pulls.test.ts)', () => {
    // Runs last in the file: the earlier tests have recorded what they called.
    const elsewhere = new Set([...CI_ROUTES, ...REVIEW_ROUTES].map((route) => `${route.method} ${route.template}`));
    expect(DESCRIBED_OPERATIONS.filter((operation) => !elsewhere.has(operation) && !operationsSeen.has(operation))).toEqual([]);
  });
});
