// The pr strategy through the engine, with a command agent and the fake GitHub: a task whose change is in
// an open pull request is `in_review` (a successful run, the pull request kept on the task), patrol never
// pauses a project for its pull requests, and a pull request closed without merging cancels its task.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { patrol, PAUSE_AFTER_FAILURES } from '../../src/engine/patrol.js';
import { publishTask } from '../../src/engine/publish.js';
import { addTask } from '../../src/engine/tasks.js';
import { TrackerSync } from '../../src/engine/tracker-sync.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { startFakeGitHub, type FakeGitHub } from '../rig/fake-github/server.js';

const TOKEN = 'ghs_engine_token_000000000000000000000';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface World {
  orch: Orch;
  github: FakeGitHub;
  remote: string;
  env: NodeJS.ProcessEnv;
}

async function world(issues: number, project: (github: FakeGitHub) => Record<string, unknown> = () => ({})): Promise<World> {
  const scratch = tempDir('orch-prs-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  const remote = join(scratch.path, 'remote.git');
  git(scratch.path, ['clone', '-q', '--bare', repo, remote]);
  const github = await startFakeGitHub({ token: TOKEN });
  cleanups.push(() => github.close());
  github.repository('acme/app');
  for (let n = 1; n <= issues; n++) github.repository('acme/app').addIssue({ title: `Add file${n}`, body: `Create file${n}.txt.`, labels: ['orch'] });
  const agent = join(scratch.path, 'agent.sh');
  // Writes the file its task names (from the prompt's `# Task #N: Add <name>` line).
  writeFileSync(agent, '#!/bin/sh\nname=$(grep -m 1 "^# Task #" | sed "s/.*: Add //")\necho "$name" > "$name.txt"\necho done\n');
  chmodSync(agent, 0o755);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 2 },
      agents: { writer: { kind: 'command', command: agent } },
      projects: {
        app: { path: repo, default_branch: 'main', agents: ['writer'], merge_strategy: 'pr', remote, tracker: { kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url }, ...project(github) },
      },
    }),
  );
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, github, remote, env: { PATH: process.env.PATH, GITHUB_TOKEN: TOKEN } };
}

describe('pull requests', () => {
  it('puts a task whose pull request is open in review, as a successful run, and never pauses the project for it', async () => {
    const w = await world(PAUSE_AFTER_FAILURES + 1);
    await runCycle(w.orch, { once: true, sourceEnv: w.env });

    const tasks = await w.orch.store.listTasks({ project: 'app' });
    expect(tasks).toHaveLength(PAUSE_AFTER_FAILURES + 1);
    const pulls = w.github.repository('acme/app').pulls();
    expect(pulls).toHaveLength(tasks.length);
    for (const task of tasks) {
      expect(task.state).toBe('in_review');
      const pull = pulls.find((p) => p.number === task.pullRequest?.number)!;
      expect(task.pullRequest).toEqual({ number: pull.number, url: expect.stringMatching(new RegExp(`/pull/${pull.number}$`)), branch: pull.pull!.head, headSha: git(w.remote, ['rev-parse', pull.pull!.head]), checks: null, ciRounds: 0, reviewRounds: 0 });
      const runs = await w.orch.store.listRuns({ taskId: task.id });
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ outcome: 'succeeded', endReason: 'pr_opened' });
      expect((runs[0]!.result as { failure?: string } | null)?.failure).toBeUndefined();
    }
    const report = await patrol(w.orch, new Set());
    expect(report.paused).toEqual([]);
    expect((await w.orch.store.getProject('app'))!.paused).toBe(false);
  });

  it('finishes a task whose pull request was merged and cancels one whose pull request was closed unmerged', async () => {
    const w = await world(2);
    await runCycle(w.orch, { once: true, sourceEnv: w.env });
    const [merged, closed] = await w.orch.store.listTasks({ project: 'app' });
    const repo = w.github.repository('acme/app');
    repo.mergePull(merged!.pullRequest!.number);
    repo.updateIssue(closed!.pullRequest!.number, { state: 'closed', stateReason: 'not_planned' });

    const sync = new TrackerSync(w.orch, { env: w.env });
    sync.requestSync();
    await sync.syncDue();
    expect((await w.orch.store.getTask(merged!.id))!.state).toBe('done');
    const cancelled = (await w.orch.store.getTask(closed!.id))!;
    expect(cancelled.state).toBe('cancelled');
    const cancel = (await w.orch.store.listEvents({ taskId: closed!.id, types: ['task.cancel'] })).at(-1);
    expect(cancel?.data.reason).toBe(`pull request #${closed!.pullRequest!.number} was closed without merging`);
  });

  it('gives a local task of a pull-request project a pull request too, one that closes no issue', async () => {
    const w = await world(0);
    const local = await addTask(w.orch.store, { project: 'app', title: 'Add local' }, w.orch.now());
    await runCycle(w.orch, { once: true, sourceEnv: w.env });
    const task = (await w.orch.store.getTask(local.id))!;
    expect(task.state).toBe('in_review');
    const pull = w.github.repository('acme/app').pull(task.pullRequest!.number);
    expect(pull.pull.head).toBe(task.pullRequest!.branch);
    expect(pull.body).not.toMatch(/closes #/i);
    expect(w.github.violations).toEqual([]);
  });

  it('publishes a local task as an issue it then follows: one task, its pull request closing that issue', async () => {
    const w = await world(0);
    const local = await addTask(w.orch.store, { project: 'app', title: 'Add published', body: 'Create published.txt.', labels: ['docs'] }, w.orch.now());
    const { task, url } = await publishTask(w.orch, local.id, w.env);
    const issue = w.github.repository('acme/app').issue(1);
    expect(task.externalRef).toBe('github:acme/app#1');
    expect(url).toMatch(/\/issues\/1$/);
    expect(issue).toMatchObject({ title: 'Add published', body: 'Create published.txt.' });
    expect(issue.labels.sort()).toEqual(['docs', 'orch']);
    await expect(publishTask(w.orch, local.id, w.env)).rejects.toThrow(/already follows github:acme\/app#1/);

    await runCycle(w.orch, { once: true, sourceEnv: w.env });
    const tasks = await w.orch.store.listTasks({ project: 'app' });
    expect(tasks.map((t) => [t.id, t.externalRef, t.state])).toEqual([[local.id, 'github:acme/app#1', 'in_review']]);
    expect(w.github.repository('acme/app').pull(tasks[0]!.pullRequest!.number).body).toContain('Closes #1');
    expect(w.github.violations).toEqual([]);
  });

  it('refuses to publish a task of a project whose tracker files no issues, saying what to set', async () => {
    const w = await world(0);
    w.orch.config.projects.app!.tracker = { kind: 'local', pollIntervalS: 30 };
    const local = await addTask(w.orch.store, { project: 'app', title: 'Add nothing' }, w.orch.now());
    await expect(publishTask(w.orch, local.id, w.env)).rejects.toThrow('project app has a local tracker, which cannot file issues: give it `tracker: {kind: github, repo: owner/name}`');
  });

  it('opens the pull request a pushed branch lacks once the tracker can, and puts its task in review', async () => {
    const w = await world(0);
    const local = await addTask(w.orch.store, { project: 'app', title: 'Add pushed' }, w.orch.now());
    // No token: the tracker cannot be made, so the judged branch is pushed and left for a person.
    await runCycle(w.orch, { once: true, sourceEnv: { PATH: process.env.PATH } });
    const pushed = (await w.orch.store.getTask(local.id))!;
    expect(pushed).toMatchObject({ state: 'needs_review', pullRequest: null });
    const [run] = await w.orch.store.listRuns({ taskId: local.id });
    expect(run!.endReason).toBe('branch_pushed');
    expect(w.github.repository('acme/app').pulls()).toEqual([]);

    const sync = new TrackerSync(w.orch, { env: w.env });
    await sync.syncDue();
    const proposed = (await w.orch.store.getTask(local.id))!;
    expect(proposed.state).toBe('in_review');
    const pull = w.github.repository('acme/app').pull(proposed.pullRequest!.number);
    expect(pull.pull.head).toBe(run!.branch);
    expect(git(w.remote, ['show', `${run!.branch}:pushed.txt`])).toBe('pushed');
    // Once is enough: a second look opens nothing more.
    sync.requestSync();
    await sync.syncDue();
    expect(w.github.repository('acme/app').pulls()).toHaveLength(1);
    expect(w.github.violations).toEqual([]);
  });

  it('opens, watches and finishes the pull request of a project whose tasks are local and whose remote is on GitHub', async () => {
    const w = await world(0, (github) => ({ tracker: { kind: 'local' }, pull_requests: { github: { repo: 'acme/app', api_url: github.url } } }));
    const local = await addTask(w.orch.store, { project: 'app', title: 'Add remote' }, w.orch.now());
    await runCycle(w.orch, { once: true, sourceEnv: w.env });
    const task = (await w.orch.store.getTask(local.id))!;
    expect(task.state).toBe('in_review');
    const repo = w.github.repository('acme/app');
    expect(repo.pull(task.pullRequest!.number).body).not.toMatch(/closes #/i);
    repo.mergePull(task.pullRequest!.number);
    const sync = new TrackerSync(w.orch, { env: w.env });
    await sync.syncDue();
    expect((await w.orch.store.getTask(local.id))!.state).toBe('done');
    expect(w.github.violations).toEqual([]);
  });
});
