// GitHub issues to merged code, end to end: a real `orch serve` syncs issues from the fake GitHub
// (driven by the real Octokit, every response checked against GitHub's schemas), runs each with the real
// claude CLI against the fake model server, and tells the story back on the issue — status labels and
// one marker comment. With the direct strategy the change lands on main and the issue is closed; with
// the pr strategy a pull request linked to the issue is opened, and merging it finishes the task. A
// signed webhook starts work at once although the daemon polls GitHub only once an hour.

import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { STATUS_MARKER } from '../../src/trackers/github-issues.js';
import { CLI } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import { startFakeGitHub, type FakeGitHub } from '../rig/fake-github/server.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';

const SECRET = 'github-e2e-secret-7d1f';
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
    await new Promise((r) => setTimeout(r, 50));
  }
};

interface World {
  github: FakeGitHub;
  repo: string;
  home: string;
  url: string;
  auth: Record<string, string>;
  logs: () => string;
  stop(): Promise<number | null>;
  webhook(event: string, payload: unknown): Promise<Response>;
}

/** The fake model writes `<slug>.txt` for the issue titled "Add <slug>", then reports done. */
async function world(setup: (github: FakeGitHub, scratch: string, repo: string) => Record<string, unknown>): Promise<World> {
  expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
  const scratch = tempDir('orch-github-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  const github = await startFakeGitHub({ token: TOKEN });
  cleanups.push(() => github.close());
  const project = setup(github, scratch.path, repo);
  const model = await startFakeModelServer({
    scriptFor: (texts) => {
      const slug = /# Task #\d+: Add (\w+)/.exec(texts.join('\n'))?.[1];
      return slug
        ? [
            { text: 'Writing.', tools: [{ tool: 'write_file', path: `${slug}.txt`, content: `${slug}\n` }] },
            { text: ['Done.', '```json', `{"status":"done","summary":"added ${slug}.txt","remaining":"","follow_ups":[]}`, '```'].join('\n') },
          ]
        : undefined;
    },
  });
  cleanups.push(() => model.close());
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      // An hour between ticks and between polls of GitHub: only the start, a finished run or a webhook moves anything.
      scheduler: { max_agents: 2, tick_interval_s: 3600 },
      webhooks: { github: { secret_env: 'ORCH_GITHUB_WEBHOOK_SECRET' } },
      prices: { 'fake-model': { input: 5, output: 25 } },
      agents: { claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${model.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] } },
      projects: { app: { path: repo, default_branch: 'main', agents: ['claude'], tracker: { kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url, poll_interval_s: 3600 }, ...project } },
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
  const auth = { authorization: `Bearer ${readFileSync(join(home, 'token'), 'utf8').trim()}` };
  return {
    github,
    repo,
    home,
    url,
    auth,
    logs: () => logs,
    async stop() {
      daemon.kill('SIGTERM');
      return exited;
    },
    webhook(event, payload) {
      const body = JSON.stringify(payload);
      return fetch(`${url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
        body,
      });
    },
  };
}

const tasksOf = async (w: World) => (await (await fetch(`${w.url}/tasks?project=app`, { headers: w.auth })).json()) as { id: number; state: string; externalRef: string | null }[];
const statusComments = (w: World, number: number) => w.github.repository('acme/app').commentsOn(number).filter((c) => c.body.trimStart().startsWith(STATUS_MARKER));

describe('GitHub issues, end to end', () => {
  it('turns labelled issues into merged commits, tells the story on each issue, and starts at once on a webhook', async () => {
    const w = await world((github) => {
      const repo = github.repository('acme/app');
      repo.addIssue({ title: 'Add alpha', body: 'Create alpha.txt.', labels: ['orch'] });
      repo.addIssue({ title: 'Add beta', body: 'Create beta.txt.', labels: ['orch'] });
      repo.addIssue({ title: 'Add ignored', body: 'Not for Orch: no label.' });
      repo.addIssue({ title: 'Add held', body: 'Waits.', labels: ['orch', 'blocked'] });
      return { merge_strategy: 'direct' };
    });
    const done = await until(
      async () => {
        const tasks = await tasksOf(w);
        return tasks.length === 2 && tasks.every((t) => t.state === 'done') ? tasks : undefined;
      },
      90_000,
      () => `both labelled issues to be done\n${w.logs()}`,
    );
    expect(done.map((t) => t.externalRef).sort()).toEqual(['github:acme/app#1', 'github:acme/app#2']);
    expect(git(w.repo, ['show', 'main:alpha.txt'])).toBe('alpha');
    expect(git(w.repo, ['show', 'main:beta.txt'])).toBe('beta');

    // The story on each issue: the status label of the end, one marker comment (updated in place as
    // the task moved, never a second one), and the issue closed by the direct merge.
    const repo = w.github.repository('acme/app');
    await until(() => [1, 2].every((n) => repo.issue(n).state === 'closed' && repo.issue(n).labels.includes('orch:done') && /done/i.test(statusComments(w, n)[0]?.body ?? '')), 20_000, () => `issues closed and labelled done: ${JSON.stringify([repo.issue(1), repo.issue(2)])}`);
    for (const number of [1, 2]) {
      const issue = repo.issue(number);
      expect(issue.labels.filter((l) => l.startsWith('orch:'))).toEqual(['orch:done']);
      expect(issue.labels).toContain('agent:claude');
      const comments = statusComments(w, number);
      expect(comments).toHaveLength(1);
      expect(comments[0]!.body).toMatch(/done/i);
      expect(comments[0]!.updatedAt).toBeGreaterThan(comments[0]!.createdAt);
    }
    // Unlabelled and blocked issues were left alone.
    expect(repo.issue(3).labels).toEqual([]);
    expect(repo.issue(4).labels).toEqual(['orch', 'blocked']);

    // A new issue with a webhook: the daemon polls GitHub hourly, so only the delivery explains a start.
    const opened = repo.addIssue({ title: 'Add gamma', body: 'Create gamma.txt.', labels: ['orch'] });
    const sent = Date.now();
    const response = await w.webhook('issues', { action: 'opened', issue: { number: opened.number }, repository: { full_name: 'acme/app' } });
    expect(response.status).toBe(202);
    const spawnedAt = await until(
      async () => {
        const look = await openOrch(w.home);
        try {
          const [task] = await look.store.listTasks({ project: 'app', externalRefs: [`github:acme/app#${opened.number}`] });
          const spawned = task ? await look.store.listEvents({ taskId: task.id, types: ['run.spawned'] }) : [];
          return spawned.length > 0 ? Date.now() : undefined;
        } finally {
          await look.close();
        }
      },
      30_000,
      () => `the agent of the new issue to start\n${w.logs()}`,
    );
    console.log(`webhook to agent spawned: about ${spawnedAt - sent} ms (seen by polling the store every 50 ms)`);
    await until(async () => (await tasksOf(w)).filter((t) => t.state === 'done').length === 3, 60_000, () => `the new issue's task to be done\n${w.logs()}`);
    expect(git(w.repo, ['show', 'main:gamma.txt'])).toBe('gamma');

    // Asked in a comment on the unlabelled issue: the mention becomes a task, and its story is one
    // reply to that comment; the issue itself keeps its labels and stays open.
    const asked = repo.addComment(3, 'acme', '@orch Add epsilon\n\nA file named epsilon.txt, please.');
    expect((await w.webhook('issue_comment', { action: 'created', issue: { number: 3 }, comment: { id: asked.id }, repository: { full_name: 'acme/app' } })).status).toBe(202);
    const mentionRef = `github:acme/app#3/comment-${asked.id}`;
    await until(async () => (await tasksOf(w)).find((t) => t.externalRef === mentionRef && t.state === 'done'), 60_000, () => `the mention's task to be done\n${w.logs()}`);
    expect(git(w.repo, ['show', 'main:epsilon.txt'])).toBe('epsilon');
    const reply = await until(() => repo.commentsOn(3).find((c) => c.body.startsWith(`<!-- orch:status comment-${asked.id} -->`) && /done/i.test(c.body)), 20_000, () => `a done reply to the mention: ${JSON.stringify(repo.commentsOn(3))}`);
    expect(reply.body).toMatch(/\*\*Orch: done\*\*/);
    expect(repo.commentsOn(3).filter((c) => c.body.includes('orch:status'))).toHaveLength(1);
    expect(repo.issue(3)).toMatchObject({ state: 'open', labels: [] });

    expect(await w.stop(), w.logs()).toBe(0);
    expect(w.github.violations).toEqual([]);
  });

  it('opens a pull request linked to the issue, and finishes the task when it is merged', async () => {
    let remote = '';
    const w = await world((github, scratch, repo) => {
      github.repository('acme/app').addIssue({ title: 'Add delta', body: 'Create delta.txt.', labels: ['orch'] });
      remote = join(scratch, 'remote.git');
      git(scratch, ['clone', '-q', '--bare', repo, remote]);
      // One open pull request at a time: the second issue waits until the first one's is merged.
      return { merge_strategy: 'pr', remote, backpressure: { max_open_prs: 1 } };
    });
    const repo = w.github.repository('acme/app');
    const pull = await until(() => repo.pulls()[0], 90_000, () => `a pull request\n${w.logs()}`);
    expect(pull.pull).toMatchObject({ head: expect.stringMatching(/^orch\/\d+-add-delta$/), base: 'main' });
    expect(pull.body).toContain('Closes #1');
    // The judged branch is on the remote, main is not touched.
    expect(git(remote, ['show', `${pull.pull!.head}:delta.txt`])).toBe('delta');
    expect(git(w.repo, ['ls-tree', '--name-only', 'main'])).not.toContain('delta.txt');
    // Labels first, then the comment: wait for both to say so.
    await until(
      async () => (await tasksOf(w)).find((t) => t.externalRef === 'github:acme/app#1')?.state === 'in_review' && repo.issue(1).labels.includes('orch:in-review') && statusComments(w, 1)[0]?.body.includes(`#${pull.number}`),
      20_000,
      () => `the task to wait for review, linked to its pull request: ${JSON.stringify(repo.commentsOn(1))}\n${w.logs()}`,
    );
    expect(statusComments(w, 1)).toHaveLength(1);
    // A second issue becomes a task, held back by the open pull request.
    // (Pull requests share the issues' numbers: this one is #3.)
    const epsilon = repo.addIssue({ title: 'Add epsilon', body: 'Create epsilon.txt.', labels: ['orch'] });
    expect((await w.webhook('issues', { action: 'opened', issue: { number: epsilon.number }, repository: { full_name: 'acme/app' } })).status).toBe(202);
    const held = await until(async () => (await tasksOf(w)).find((t) => t.externalRef === `github:acme/app#${epsilon.number}`), 20_000, () => `the second issue's task\n${w.logs()}`);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await tasksOf(w)).find((t) => t.id === held.id)!.state).toMatch(/^(new|routed)$/);
    expect(repo.pulls()).toHaveLength(1);

    // A person merges it; GitHub tells Orch, which finishes the task (and does not cancel it for its closed issue).
    repo.mergePull(pull.number);
    expect(repo.issue(1).state).toBe('closed');
    expect((await w.webhook('pull_request', { action: 'closed', number: pull.number, pull_request: { number: pull.number, merged: true }, repository: { full_name: 'acme/app' } })).status).toBe(202);
    await until(async () => (await tasksOf(w)).find((t) => t.externalRef === 'github:acme/app#1')?.state === 'done', 20_000, () => `the task to finish after the merge\n${w.logs()}`);
    await until(() => repo.issue(1).labels.includes('orch:done'), 20_000, () => `the done label: ${JSON.stringify(repo.issue(1).labels)}`);
    expect(statusComments(w, 1)).toHaveLength(1);
    // With the first pull request merged, the second issue's work starts and gets its own.
    const second = await until(() => repo.pulls().find((p) => p.pull?.head.endsWith('-add-epsilon')), 60_000, () => `the second pull request\n${w.logs()}`);
    expect(second.body).toContain(`Closes #${epsilon.number}`);

    expect(await w.stop(), w.logs()).toBe(0);
    expect(w.github.violations).toEqual([]);
  });
});
