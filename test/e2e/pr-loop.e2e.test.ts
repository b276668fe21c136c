// A pull request all the way, end to end: a real `orch serve` takes a GitHub issue from the fake GitHub,
// the real claude CLI (against the fake model server) makes the change, and Orch opens a pull request.
// CI fails on its head (re-run once, fails again): the agent's fix goes on in its session and is pushed
// to the same branch; CI passes; a reviewer asks for two changes inline: one round addresses both and
// one reply is posted; the reviewer approves; Orch merges it, the task is done, the issue closed, and
// `orch log` tells the story. Every move is started by a signed webhook: the daemon polls hourly.

import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OrchEvent, Task } from '../../src/core/types.js';
import { openOrch } from '../../src/engine/context.js';
import { CLI, orch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import { startFakeGitHub, type FakeGitHub } from '../rig/fake-github/server.js';
import type { FakeRepository } from '../rig/fake-github/state.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';

const SECRET = 'github-e2e-secret-pr-loop';
const TOKEN = 'ghs_e2e_token_0000000000000000000000';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async <T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: () => string): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Each assistant text starts with this, so a resumed session's earlier turns can be counted. */
const STEP = 'Step:';

/** One round's turns: write greeting.txt, then finish; preceded by as many fillers as the session had turns before this round. */
function roundScript(texts: readonly string[]) {
  const all = texts.join('\n');
  // The checks of the second test fail with "round N: still red": each round writes something new.
  const red = /round (\d+): still red/.exec(texts.filter((t) => t.includes('still red')).at(-1) ?? '')?.[1] ?? '';
  const [round, content, summary] = all.includes('Reviewers asked for changes')
    ? ['review', 'Hello, world!\n', 'Capitalised the greeting and ended it with an exclamation mark']
    : /Check "\w+" failed/.test(all)
      ? [`ci${red}`, `hello, world${red}\n`, 'The greeting now says hello, world as the test expects']
      : all.includes('# Task #1: Add greeting')
        ? ['first', 'hello\n', 'Added greeting.txt']
        : [null, null, null];
  if (round === null) return undefined;
  const earlier = texts.filter((t) => t.startsWith(STEP) && !t.startsWith(`${STEP} ${round} `)).length;
  const filler = { text: `${STEP} earlier.` };
  return [
    ...Array.from({ length: earlier }, () => filler),
    { text: `${STEP} ${round} writing.`, tools: [{ tool: 'write_file', path: 'greeting.txt', content }] },
    { text: [`${STEP} ${round} done.`, '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n') },
  ];
}

interface Served {
  home: string;
  scratch: string;
  remote: string;
  github: FakeGitHub;
  repo: FakeRepository;
  logs: () => string;
  exited: Promise<number | null>;
  stop(): void;
  webhook(event: string, payload: Record<string, unknown>): Promise<void>;
  task(): Promise<Task | undefined>;
  events(taskId: number, type: string): Promise<OrchEvent[]>;
  /** GitHub sees what Orch pushed: the pull request's head moves to the remote branch's tip. */
  githubSeesPush(branch: string): string;
}

/** A real `orch serve` on one project whose issue #1 asks for greeting.txt, with these pull_requests settings. */
async function serve(pullRequests: Record<string, unknown>): Promise<Served> {
  expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
  const scratch = tempDir('orch-prloop-e2e-');
  cleanups.push(scratch.cleanup);
  const repoPath = makeRepo(scratch.path, 'app');
  const remote = join(scratch.path, 'remote.git');
  git(scratch.path, ['clone', '-q', '--bare', repoPath, remote]);
  const github = await startFakeGitHub({ token: TOKEN });
  cleanups.push(() => github.close());
  const repo = github.repository('acme/app');
  repo.addIssue({ title: 'Add greeting', body: 'Create greeting.txt saying hello.', labels: ['orch'] });
  const model = await startFakeModelServer({ scriptFor: roundScript });
  cleanups.push(() => model.close());
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 1, tick_interval_s: 3600 },
      webhooks: { github: { secret_env: 'ORCH_GITHUB_WEBHOOK_SECRET' } },
      agents: { claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${model.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] } },
      projects: {
        app: {
          path: repoPath,
          default_branch: 'main',
          agents: ['claude'],
          merge_strategy: 'pr',
          remote,
          pull_requests: pullRequests,
          tracker: { kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url },
        },
      },
    }),
  );
  const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '10', '--port', '0'], {
    cwd: scratch.path,
    env: { ...process.env, ORCH_HOME: home, GITHUB_TOKEN: TOKEN, ORCH_GITHUB_WEBHOOK_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  daemon.stdout.on('data', (c: Buffer) => (logs += c.toString()));
  daemon.stderr.on('data', (c: Buffer) => (logs += c.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    await exited;
  });
  await until(() => existsSync(join(home, 'daemon.json')), 20_000, () => `the daemon to listen\n${logs}`);
  const { url } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { url: string };
  const webhook = async (event: string, payload: Record<string, unknown>) => {
    const body = JSON.stringify({ ...payload, repository: { full_name: 'acme/app' } });
    const response = await fetch(`${url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      body,
    });
    expect(response.status).toBe(202);
  };
  const task = async (): Promise<Task | undefined> => {
    const look = await openOrch(home);
    try {
      return (await look.store.listTasks({ project: 'app' }))[0];
    } finally {
      await look.close();
    }
  };
  const events = async (taskId: number, type: string) => {
    const look = await openOrch(home);
    try {
      return await look.store.listEvents({ taskId, types: [type] });
    } finally {
      await look.close();
    }
  };
  /** GitHub sees what Orch pushed: the pull request's head moves to the remote branch's tip. */
  const githubSeesPush = (branch: string) => repo.pushBranch(branch, git(remote, ['rev-parse', branch]));

  return {
  home,
  scratch: scratch.path,
  remote,
  github,
  repo,
  logs: () => logs,
  exited,
  stop: () => daemon.kill('SIGTERM'),
  webhook,
  task,
  events,
  githubSeesPush,
  };
}

describe('a pull request all the way', () => {
  it('fixes failing CI on the same branch, addresses a review in one round, merges when approved and green, and closes the issue', async () => {
    const { home, scratch, remote, github, repo, webhook, task, events, githubSeesPush, logs: logsOf, exited, stop } = await serve({ auto_merge: 'squash' });
    const logs = { toString: logsOf };
    // The issue becomes a pull request.
    const opened = await until(async () => ((await task())?.state === 'in_review' ? await task() : undefined), 90_000, () => `a pull request\n${logs}`);
    const { number, branch } = opened.pullRequest!;
    const firstHead = githubSeesPush(branch);

    // CI fails on the head; Orch re-runs it once, and it fails again.
    repo.setPullCheck(number, { name: 'test', conclusion: 'failure', log: 'FAIL greeting.test.ts\nexpected "hello, world", got "hello"\n' });
    await webhook('check_run', { action: 'completed' });
    await until(async () => (await events(opened.id, 'pr.rerun')).length === 1, 30_000, () => `a re-run\n${logs}`);
    repo.setPullCheck(number, { name: 'test', conclusion: 'failure', log: 'FAIL greeting.test.ts\nexpected "hello, world", got "hello"\n' });
    await webhook('check_run', { action: 'completed' });

    // The agent's fix is pushed to the same branch.
    const fixed = await until(async () => {
      const t = await task();
      return t?.state === 'in_review' && t.pullRequest?.ciRounds === 1 ? t : undefined;
    }, 90_000, () => `the CI fix round\n${logs}`);
    const secondHead = git(remote, ['rev-parse', branch]);
    expect(secondHead).not.toBe(firstHead);
    expect(git(remote, ['show', `${branch}:greeting.txt`])).toBe('hello, world');
    expect(fixed.pullRequest!.headSha).toBe(secondHead);
    expect(repo.pulls()).toHaveLength(1);

    // CI passes; a collaborator asks for two changes inline.
    githubSeesPush(branch);
    repo.setPullCheck(number, { name: 'test', conclusion: 'success', log: 'ok' });
    repo.addCollaborator('alice');
    repo.addReview(number, { author: 'alice', state: 'CHANGES_REQUESTED', body: 'Two things', comments: [{ path: 'greeting.txt', line: 1, body: 'Capitalise Hello' }, { path: 'greeting.txt', line: 1, body: 'End with an exclamation mark' }] });
    await webhook('pull_request_review', { action: 'submitted' });

    // One round addresses both, with one reply, and the threads resolved.
    await until(async () => {
      const t = await task();
      return t?.state === 'in_review' && t.pullRequest?.reviewRounds === 1 ? t : undefined;
    }, 90_000, () => `the review round\n${logs}`);
    expect(git(remote, ['show', `${branch}:greeting.txt`])).toBe('Hello, world!');
    const replies = repo.commentsOn(number).filter((c) => c.body.includes('addressed the review'));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('Capitalised the greeting');
    expect(repo.reviews.threadsOf(number).map((t) => t.resolvedBy)).toEqual(['orch-bot', 'orch-bot']);

    // Approved and green: merged, done, the issue closed.
    githubSeesPush(branch);
    repo.setPullCheck(number, { name: 'test', conclusion: 'success', log: 'ok' });
    repo.addReview(number, { author: 'alice', state: 'APPROVED' });
    await webhook('pull_request_review', { action: 'submitted' });
    await until(async () => (await task())?.state === 'done', 60_000, () => `the task to be done\n${logs}`);
    expect(repo.pull(number).pull.mergeMethod).toBe('squash');
    expect(repo.issue(1).state).toBe('closed');

    // Both fix rounds went on in the session that made the change.
    expect((await events(opened.id, 'run.continuing')).map((e) => e.data.sessionId)).toHaveLength(2);

    const story = orch(['log', String(opened.id)], { cwd: scratch, home }).stdout;
    for (const line of [
      'propose: merging → in_review',
      `pull request #${number}: re-running the failed jobs of test`,
      'revise: in_review → routed — check test failed on',
      `pull request #${number}: pushed ${secondHead.slice(0, 12)} (ci round)`,
      'revise: in_review → routed — alice asked for changes (2 open comments)',
      `pull request #${number}: replied once for review round 1, resolved 2 thread(s)`,
      `pull request #${number}: merged by Orch (squash)`,
      'finish: in_review → done',
    ]) expect(story).toContain(line);

    stop();
    expect(await exited, logsOf()).toBe(0);
    expect(github.violations).toEqual([]);
  }, 300_000);

  it('asks a person, naming the check, when CI keeps failing after three fix rounds', async () => {
    const { remote, repo, webhook, task, githubSeesPush, logs, exited, stop, github } = await serve({ rerun_failed_jobs: false, ci_rounds: 3 });
    const opened = await until(async () => ((await task())?.state === 'in_review' ? await task() : undefined), 90_000, () => `a pull request\n${logs()}`);
    const { number, branch } = opened.pullRequest!;
    for (let round = 1; round <= 4; round++) {
      githubSeesPush(branch);
      repo.setPullCheck(number, { name: 'e2e', conclusion: 'failure', log: `round ${round}: still red` });
      await webhook('check_run', { action: 'completed' });
      if (round === 4) break;
      await until(async () => {
        const t = await task();
        return t?.state === 'in_review' && t.pullRequest?.ciRounds === round ? t : undefined;
      }, 90_000, () => `CI fix round ${round}\n${logs()}`);
    }
    const stuck = await until(async () => ((await task())?.state === 'needs_review' ? await task() : undefined), 60_000, () => `a person to be asked\n${logs()}`);
    expect(stuck.blockedReason).toBe(`pull request #${number}: check e2e still fails after 3 fix rounds`);
    // The first change and one commit per round, all on the same branch.
    expect(git(remote, ['rev-list', '--count', `main..${branch}`])).toBe('4');
    expect(git(remote, ['show', `${branch}:greeting.txt`])).toBe('hello, world3');
    stop();
    expect(await exited, logs()).toBe(0);
    expect(github.violations).toEqual([]);
  }, 300_000);
});
