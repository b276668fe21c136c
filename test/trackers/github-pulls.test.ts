// Looking at an open pull request through the GitHub tracker, against the fake GitHub: one look reads
// the head's checks, reviews and threads with trust from the repository; a second look at an unchanged
// pull request is answered 304 throughout and asks GraphQL nothing, so it costs no rate limit.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubTracker } from '../../src/trackers/github.js';
import { startFakeGitHub, type FakeGitHub } from '../rig/fake-github/server.js';
import type { FakeRepository } from '../rig/fake-github/state.js';

const TOKEN = 'ghp_fakeTokenForTheRig';
let fake: FakeGitHub;
let repo: FakeRepository;
let tracker: GitHubTracker;

beforeEach(async () => {
  fake = await startFakeGitHub({ token: TOKEN });
  repo = fake.repository('acme/widgets');
  tracker = new GitHubTracker({ repo: 'acme/widgets', token: TOKEN, apiUrl: fake.url });
});

afterEach(async () => {
  expect(fake.violations).toEqual([]);
  await fake.close();
});

describe('an open pull request', () => {
  it('reads checks, statuses, reviews and threads, with who may ask for changes', async () => {
    const pull = repo.openPull({ title: 'Fix login', head: 'orch/1-fix', base: 'main', author: 'orch-bot' });
    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'failure', log: 'line 1\nexpected 200, got 500\n' });
    repo.setPullCheck(pull.number, { name: 'lint', conclusion: null });
    repo.addCollaborator('alice');
    repo.addReview(pull.number, { author: 'alice', state: 'CHANGES_REQUESTED', body: 'Please', comments: [{ path: 'a.ts', line: 3, body: 'Rename' }] });
    repo.addReview(pull.number, { author: 'mallory', state: 'COMMENTED', comments: [{ path: 'b.ts', line: 1, body: 'Nope' }] });

    const look = await tracker.pulls.look(pull.number, []);
    expect(look).toMatchObject({ merged: false, closed: false, mergeableState: 'blocked', author: 'orch-bot' });
    expect(look.checks.map((c) => [c.name, c.state, c.workflowRunId !== null])).toEqual([
      ['lint', 'pending', true],
      ['test', 'failing', true],
    ]);
    expect(look.reviews.map((r) => [r.author, r.state, r.trusted])).toEqual([
      ['alice', 'CHANGES_REQUESTED', true],
      ['mallory', 'COMMENTED', false],
    ]);
    expect(look.threads.map((t) => [t.path, t.line, t.resolved, t.comments.map((c) => [c.author, c.body, c.trusted])])).toEqual([
      ['a.ts', 3, false, [['alice', 'Rename', true]]],
      ['b.ts', 1, false, [['mallory', 'Nope', false]]],
    ]);
    // A listed reviewer is the only one trusted.
    expect((await tracker.pulls.look(pull.number, ['mallory'])).reviews.map((r) => r.trusted)).toEqual([false, true]);

    const [failure] = await tracker.pulls.failures(look.checks.filter((c) => c.state === 'failing'));
    expect(failure).toMatchObject({ name: 'test', logTail: 'line 1\nexpected 200, got 500' });
    expect(failure!.url).toContain('/actions/runs/');
  });

  it('looks again at an unchanged pull request with conditional requests only', async () => {
    const pull = repo.openPull({ title: 'Fix login', head: 'orch/1-fix', base: 'main', author: 'orch-bot' });
    repo.setPullCheck(pull.number, { name: 'test', conclusion: 'success' });
    repo.addReview(pull.number, { author: 'octocat', state: 'COMMENTED', comments: [{ path: 'a.ts', line: 1, body: 'Why?' }] });
    const first = await tracker.pulls.look(pull.number, []);
    const seen = fake.requests.length;
    const again = await tracker.pulls.look(pull.number, []);
    expect(again).toEqual(first);
    const later = fake.requests.slice(seen);
    expect(later.length).toBeGreaterThan(0);
    expect(later.filter((r) => r.status !== 304)).toEqual([]);
  });
});
