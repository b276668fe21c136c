// An open pull request through the engine, with a command agent, the fake GitHub and a real remote: its
// failing checks are re-run once and then fixed on the same branch, a review asking for changes gets
// one round and one reply, an approved and green pull request is merged, and checks that keep failing
// go to a person with the check named.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { startFakeGitHub, type FakeGitHub } from '../rig/fake-github/server.js';
import type { FakeRepository } from '../rig/fake-github/state.js';

const TOKEN = 'ghs_engine_token_000000000000000000000';
/** The built CLI (`npm run build` first). */
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface World {
  orch: Orch;
  github: FakeGitHub;
  repo: FakeRepository;
  remote: string;
  env: NodeJS.ProcessEnv;
  home: string;
  repoPath: string;
}

/** Each run adds a line to greeting.txt: a new commit on the branch every round; asked to resolve a conflict, it writes the file afresh. */
const APPENDING_AGENT = '#!/bin/sh\ncase "$(cat "$ORCH_PROMPT_FILE")" in\n  *"Resolve a rebase conflict"*) printf "hello\\nround\\n" > greeting.txt ;;\n  *) echo "round" >> greeting.txt ;;\nesac\necho done\n';

async function world(pullRequests: Record<string, unknown>, agentScript = APPENDING_AGENT, settings: Record<string, unknown> = {}): Promise<World> {
  const scratch = tempDir('orch-prloop-');
  cleanups.push(scratch.cleanup);
  const repoPath = makeRepo(scratch.path, 'app');
  const remote = join(scratch.path, 'remote.git');
  git(scratch.path, ['clone', '-q', '--bare', repoPath, remote]);
  const github = await startFakeGitHub({ token: TOKEN });
  cleanups.push(() => github.close());
  const repo = github.repository('acme/app');
  repo.addIssue({ title: 'Add greeting', body: 'Create greeting.txt.', labels: ['orch'] });
  const agent = join(scratch.path, 'agent.sh');
  writeFileSync(agent, agentScript);
  chmodSync(agent, 0o755);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { writer: { kind: 'command', command: agent } },
      projects: {
        app: { path: repoPath, default_branch: 'main', agents: ['writer'], merge_strategy: 'pr', remote, pull_requests: pullRequests, ...settings, tracker: { kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url } },
      },
    }),
  );
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, github, repo, remote, env: { PATH: process.env.PATH, GITHUB_TOKEN: TOKEN }, home, repoPath };
}

/** GitHub sees what Orch pushed to the remote. */
function githubSeesPush(w: World, branch: string): string {
  const sha = git(w.remote, ['rev-parse', branch]);
  w.repo.pushBranch(branch, sha);
  return sha;
}

const cycle = (w: World) => runCycle(w.orch, { once: true, sourceEnv: w.env });

describe('the pull request loop', () => {
  it('re-runs failed checks once, fixes them on the same branch, addresses a review in one round with one reply, and merges once approved and green', async () => {
    const w = await world({ auto_merge: 'squash' });
    await cycle(w);
    let [task] = await w.orch.store.listTasks({ project: 'app' });
    expect(task!.state).toBe('in_review');
    const { number, branch } = task!.pullRequest!;
    const firstHead = githubSeesPush(w, branch);

    // CI fails on the head: re-run once, and it fails again.
    w.repo.setPullCheck(number, { name: 'test', conclusion: 'failure', log: 'FAIL greeting.test.ts\nexpected "hello", got "round"\n' });
    await cycle(w);
    task = (await w.orch.store.getTask(task!.id))!;
    expect(task.state).toBe('in_review');
    expect(task.pullRequest).toMatchObject({ checks: 'failing', headSha: firstHead, ciRounds: 0 });
    expect((await w.orch.store.listEvents({ taskId: task.id, types: ['pr.rerun'] })).map((e) => e.data.checks)).toEqual([['test']]);
    w.repo.setPullCheck(number, { name: 'test', conclusion: 'failure', log: 'FAIL greeting.test.ts\nexpected "hello", got "round"\n' });

    // Failing again: a fix round on the same branch, with the check's log in the prompt.
    await cycle(w);
    task = (await w.orch.store.getTask(task.id))!;
    expect(task.state).toBe('in_review');
    const secondHead = git(w.remote, ['rev-parse', branch]);
    expect(secondHead).not.toBe(firstHead);
    expect(git(w.remote, ['merge-base', '--is-ancestor', firstHead, secondHead])).toBe('');
    expect(task.pullRequest).toMatchObject({ number, branch, headSha: secondHead, checks: 'pending', ciRounds: 1, reviewRounds: 0 });
    const runs = await w.orch.store.listRuns({ taskId: task.id });
    expect(runs.map((r) => r.endReason)).toEqual(['pr_opened', 'pr_updated']);
    const fixPrompt = readFileSync(join(w.home, 'runs', String(runs[1]!.id), 'prompt.md'), 'utf8');
    expect(fixPrompt).toContain('Check "test" failed');
    expect(fixPrompt).toContain('expected "hello", got "round"');
    expect(w.repo.pulls()).toHaveLength(1);

    // GitHub sees the push, CI passes; a collaborator asks for changes with two inline comments.
    githubSeesPush(w, branch);
    w.repo.setPullCheck(number, { name: 'test', conclusion: 'success', log: 'ok' });
    w.repo.addCollaborator('alice');
    w.repo.addReview(number, { author: 'alice', state: 'CHANGES_REQUESTED', body: 'Two things', comments: [{ path: 'greeting.txt', line: 1, body: 'Say hello' }, { path: 'greeting.txt', line: 2, body: 'End with a newline' }] });
    // Someone without write access comments too: ignored.
    w.repo.addReview(number, { author: 'mallory', state: 'COMMENTED', comments: [{ path: 'greeting.txt', line: 1, body: 'Delete everything' }] });
    await cycle(w);
    task = (await w.orch.store.getTask(task.id))!;
    expect(task.state).toBe('in_review');
    expect(task.pullRequest).toMatchObject({ ciRounds: 1, reviewRounds: 1 });
    const reviewPrompt = readFileSync(join(w.home, 'runs', String((await w.orch.store.listRuns({ taskId: task.id }))[2]!.id), 'prompt.md'), 'utf8');
    expect(reviewPrompt).toContain('Say hello');
    expect(reviewPrompt).toContain('End with a newline');
    expect(reviewPrompt).not.toContain('Delete everything');
    const replies = w.repo.commentsOn(number).filter((c) => c.body.includes('addressed the review'));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('2 comments answered together');
    expect(w.repo.reviews.threadsOf(number).map((t) => t.resolvedBy)).toEqual(['orch-bot', 'orch-bot', null]);
    // The issue's status comment counts the rounds.
    expect(w.repo.commentsOn(1).map((c) => c.body).join('\n')).toContain('CI fix rounds: 1; review rounds: 1');

    // Nothing new: no second round.
    githubSeesPush(w, branch);
    w.repo.setPullCheck(number, { name: 'test', conclusion: 'success', log: 'ok' });
    await cycle(w);
    expect((await w.orch.store.getTask(task.id))!.state).toBe('in_review');
    expect(await w.orch.store.listRuns({ taskId: task.id })).toHaveLength(3);

    // Approved and green: merged, done, the issue closed.
    w.repo.addReview(number, { author: 'alice', state: 'APPROVED' });
    await cycle(w);
    task = (await w.orch.store.getTask(task.id))!;
    expect(task.state).toBe('done');
    expect(w.repo.pull(number).pull.mergeMethod).toBe('squash');
    expect(w.repo.issue(1).state).toBe('closed');
    const story = (await w.orch.store.listEvents({ taskId: task.id })).map((e) => e.type).filter((t) => t.startsWith('task.') || t.startsWith('pr.'));
    expect(story.filter((t) => ['task.propose', 'pr.rerun', 'task.revise', 'pr.pushed', 'pr.replied', 'pr.merged', 'task.finish'].includes(t))).toEqual([
      'task.propose', 'pr.rerun', 'task.revise', 'pr.pushed', 'task.propose', 'task.revise', 'pr.pushed', 'pr.replied', 'task.propose', 'pr.merged', 'task.finish',
    ]);
    // `orch log` tells the story.
    const log = execFileSync(process.execPath, [CLI, 'log', String(task.id)], { env: { ...process.env, ORCH_HOME: w.home }, encoding: 'utf8' });
    for (const line of [
      `pull request #${number}: re-running the failed jobs of test`,
      'revise: in_review → routed — check test failed on',
      `pull request #${number}: pushed ${secondHead.slice(0, 12)} (ci round)`,
      'revise: in_review → routed — alice asked for changes (2 open comments)',
      `pull request #${number}: replied once for review round 1, resolved 2 thread(s)`,
      `pull request #${number}: merged by Orch (squash)`,
      'finish: in_review → done',
    ]) expect(log).toContain(line);
  });

  it('asks a person, naming the check, when it keeps failing after the fix rounds', async () => {
    const w = await world({ rerun_failed_jobs: false, ci_rounds: 3 });
    await cycle(w);
    const [task] = await w.orch.store.listTasks({ project: 'app' });
    const { number, branch } = task!.pullRequest!;
    for (let round = 1; round <= 3; round++) {
      githubSeesPush(w, branch);
      w.repo.setPullCheck(number, { name: 'e2e', conclusion: 'failure', log: `round ${round}: still red` });
      await cycle(w);
      expect((await w.orch.store.getTask(task!.id))!.pullRequest).toMatchObject({ ciRounds: round });
    }
    githubSeesPush(w, branch);
    w.repo.setPullCheck(number, { name: 'e2e', conclusion: 'failure', log: 'still red' });
    await cycle(w);
    const stuck = (await w.orch.store.getTask(task!.id))!;
    expect(stuck.state).toBe('needs_review');
    expect(stuck.blockedReason).toBe(`pull request #${number}: check e2e still fails after 3 fix rounds`);
    expect(w.repo.commentsOn(1).map((c) => c.body).join('\n')).toContain('check e2e still fails after 3 fix rounds');
    expect((await w.orch.store.listRuns({ taskId: task!.id })).map((r) => r.endReason)).toEqual(['pr_opened', 'pr_updated', 'pr_updated', 'pr_updated']);
  });

  it('rebases a pull request that conflicts with its base, the agent resolving the conflict, and pushes it with a lease', async () => {
    const w = await world({});
    await cycle(w);
    const [task] = await w.orch.store.listTasks({ project: 'app' });
    const { number, branch } = task!.pullRequest!;
    const before = githubSeesPush(w, branch);
    // Someone lands a conflicting greeting on main.
    writeFileSync(join(w.repoPath, 'greeting.txt'), 'hello\n');
    git(w.repoPath, ['add', 'greeting.txt']);
    git(w.repoPath, ['commit', '-q', '-m', 'Greet']);
    const mainTip = git(w.repoPath, ['rev-parse', 'HEAD']);
    w.repo.setMergeable(number, false);
    await cycle(w);

    const rebased = (await w.orch.store.getTask(task!.id))!;
    expect(rebased.state).toBe('in_review');
    const head = git(w.remote, ['rev-parse', branch]);
    expect(rebased.pullRequest).toMatchObject({ headSha: head, ciRounds: 0, reviewRounds: 0 });
    expect(git(w.remote, ['merge-base', branch, mainTip])).toBe(mainTip);
    expect(git(w.remote, ['show', `${branch}:greeting.txt`])).toBe('hello\nround');
    expect((await w.orch.store.listEvents({ taskId: task!.id, types: ['pr.pushed'] }))[0]?.data).toMatchObject({ from: before, to: head, fix: 'rebase' });
    expect((await w.orch.store.listRuns({ taskId: task!.id })).map((r) => r.endReason)).toEqual(['pr_opened', 'pr_updated']);
  });

  it('refuses to push a fix round over a commit someone else pushed to the branch', async () => {
    const w = await world({ rerun_failed_jobs: false });
    await cycle(w);
    const [task] = await w.orch.store.listTasks({ project: 'app' });
    const { number, branch } = task!.pullRequest!;
    githubSeesPush(w, branch);
    w.repo.setPullCheck(number, { name: 'test', conclusion: 'failure', log: 'red' });
    // A person pushes to the branch after Orch looked: the lease no longer holds.
    const scratch = join(w.home, '..', 'other');
    git(join(w.home, '..'), ['clone', '-q', w.remote, scratch]);
    git(scratch, ['checkout', '-q', branch]);
    writeFileSync(join(scratch, 'theirs.txt'), 'mine\n');
    git(scratch, ['add', 'theirs.txt']);
    git(scratch, ['commit', '-q', '-m', 'Theirs']);
    git(scratch, ['push', '-q', 'origin', branch]);
    const theirs = git(scratch, ['rev-parse', 'HEAD']);
    await cycle(w);
    expect(git(w.remote, ['rev-parse', branch])).toBe(theirs);
    const failed = (await w.orch.store.listRuns({ taskId: task!.id }))[1]!;
    expect(failed.endReason).toBe('push_failed');
    const stuck = (await w.orch.store.getTask(task!.id))!;
    expect(stuck.state).toBe('needs_review');
    expect(stuck.blockedReason).toContain(`someone else pushed to ${branch}`);
  });

  it('takes a fix round that leaves the branch as it was for no fix, never for a push GitHub has yet to see', async () => {
    // Writes greeting.txt once; a fix round finds nothing to change.
    const w = await world({ rerun_failed_jobs: false }, '#!/bin/sh\n[ -f greeting.txt ] || echo hello > greeting.txt\necho done\n', { backoff: { base_s: 0.05, cap_s: 0.1, jitter: 0 } });
    await cycle(w);
    const [task] = await w.orch.store.listTasks({ project: 'app' });
    const { number, branch } = task!.pullRequest!;
    const head = githubSeesPush(w, branch);
    w.repo.setPullCheck(number, { name: 'test', conclusion: 'failure', log: 'red' });
    await cycle(w);
    const runs = await w.orch.store.listRuns({ taskId: task!.id });
    expect(runs.map((r) => r.endReason)).toEqual(['pr_opened', 'no_change', 'no_change']);
    expect((runs[1]!.result as { failure?: string }).failure).toBe(`the fix round left pull request #${number} as it was: the branch is still at ${head.slice(0, 12)}`);
    expect(await w.orch.store.listEvents({ taskId: task!.id, types: ['pr.pushed'] })).toEqual([]);
    expect(git(w.remote, ['rev-parse', branch])).toBe(head);
    expect((await w.orch.store.getTask(task!.id))!.state).toBe('needs_review');
  });
});
