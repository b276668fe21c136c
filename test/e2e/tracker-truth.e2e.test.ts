// The tracker is the truth while agents run. For each kind of tracker a real `orch serve` runs two tasks
// with a `command` agent that works until stopped; a person then closes one and holds the other where
// they work (the CLI for local tasks, a file move or edit for the markdown queue, the fake GitHub or
// Linear plus a signed webhook). The daemon ticks and polls once an hour, so only the event itself can
// explain what follows: the closed task's agent stops, its worktree goes and its branch stays (it holds
// the agent's commit); the held one's agent stops, its worktree stays, and once the hold is lifted the
// task goes on in that same worktree and lands.

import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { clonePath } from '../../src/workspace/layout.js';
import { CLI, orch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { startFakeGitHub, type FakeGitHub } from '../rig/fake-github/server.js';
import { startFakeLinear, type FakeLinear } from '../rig/fake-linear/server.js';

const SECRET = 'tracker-truth-secret-3b9e';
const TOKEN = 'ghs_truth_token_000000000000000000000';
const LINEAR_KEY = 'lin_api_truth_key';

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
    await new Promise((r) => setTimeout(r, 25));
  }
};

interface RunRow {
  id: number;
  worktree: string | null;
  branch: string | null;
  endedAt: number | null;
  endReason: string | null;
}
interface TaskRow {
  id: number;
  title: string;
  state: string;
  blockKind: string | null;
}

/** What a person does to one task, in the tracker's own way. */
interface PersonActions {
  /** Makes the two tasks exist where the tracker keeps them (before the daemon starts). */
  setup(scratch: string, repo: string): Promise<Record<string, unknown>>;
  close(title: string, w: World): Promise<void>;
  hold(title: string, w: World): Promise<void>;
  release(title: string, w: World): Promise<void>;
  /** Makes the tasks once the daemon runs, for trackers that keep none (local tasks). */
  started?(w: World): Promise<void>;
}

interface World {
  home: string;
  repo: string;
  scratch: string;
  url: string;
  auth: Record<string, string>;
  logs: () => string;
  stop(): Promise<number | null>;
  taskNamed(title: string): Promise<TaskRow | undefined>;
  runsOf(taskId: number): Promise<RunRow[]>;
}

/** Works until stopped; started again in a worktree that holds its first file, it finishes. */
const AGENT = ['#!/bin/sh', 'if [ -f first.txt ]; then echo resumed > resumed.txt; echo done; exit 0; fi', 'echo first > first.txt', 'exec sleep 300', ''].join('\n');

async function world(actions: PersonActions): Promise<World> {
  const scratch = tempDir('orch-truth-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  const agent = join(scratch.path, 'agent.sh');
  writeFileSync(agent, AGENT);
  chmodSync(agent, 0o755);
  const tracker = await actions.setup(scratch.path, repo);
  const home = join(scratch.path, 'home');
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      // An hour between ticks and between polls of the tracker: only the person's act can move anything.
      scheduler: { max_agents: 2, tick_interval_s: 3600 },
      webhooks: { github: { secret_env: 'ORCH_TRUTH_SECRET' }, linear: { secret_env: 'ORCH_TRUTH_SECRET' } },
      agents: { worker: { kind: 'command', command: agent } },
      projects: { app: { path: repo, default_branch: 'main', agents: ['worker'], merge_strategy: 'direct', ...tracker } },
    }),
  );
  const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '5', '--port', '0'], {
    cwd: scratch.path,
    env: { ...process.env, ORCH_HOME: home, ORCH_TRUTH_SECRET: SECRET, GITHUB_TOKEN: TOKEN, LINEAR_API_KEY: LINEAR_KEY },
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
  const get = async <T>(path: string) => (await (await fetch(`${url}${path}`, { headers: auth })).json()) as T;
  return {
    home,
    repo,
    scratch: scratch.path,
    url,
    auth,
    logs: () => logs,
    async stop() {
      daemon.kill('SIGTERM');
      return exited;
    },
    taskNamed: async (title) => (await get<TaskRow[]>('/tasks?project=app')).find((t) => t.title === title),
    runsOf: (taskId) => get<RunRow[]>(`/runs?task=${taskId}`),
  };
}

/** The task's first run, once its agent is at work in its worktree. */
async function atWork(w: World, title: string): Promise<{ task: TaskRow; run: RunRow }> {
  return until(
    async () => {
      const task = await w.taskNamed(title);
      const run = task ? (await w.runsOf(task.id))[0] : undefined;
      return task && run?.worktree && existsSync(join(run.worktree, 'first.txt')) ? { task, run } : undefined;
    },
    60_000,
    () => `the agent of "${title}" to be at work\n${w.logs()}`,
  );
}

/** How long after `act` the run ended; fails when it does not end (nothing else would end it). */
async function stoppedAfter(w: World, taskId: number, runId: number, act: () => Promise<void>): Promise<{ run: RunRow; ms: number }> {
  const began = Date.now();
  await act();
  const run = await until(async () => (await w.runsOf(taskId)).find((r) => r.id === runId && r.endedAt !== null), 30_000, () => `run ${runId} to stop\n${w.logs()}`);
  return { run, ms: Date.now() - began };
}

async function closeAndHold(actions: PersonActions, kind: string): Promise<void> {
  const w = await world(actions);
  await actions.started?.(w);
  const closing = await atWork(w, 'Closed while it runs');
  const holding = await atWork(w, 'Held while it runs');

  const closed = await stoppedAfter(w, closing.task.id, closing.run.id, () => actions.close('Closed while it runs', w));
  expect(closed.run.endReason).toBe('cancelled');
  expect((await w.taskNamed('Closed while it runs'))!.state).toBe('cancelled');
  // The worktree goes at once; the branch stays, holding what the agent wrote.
  await until(() => !existsSync(closing.run.worktree!), 10_000, () => 'the closed task\'s worktree to be removed');
  expect(git(clonePath(w.home, 'app'), ['show', `${closed.run.branch}:first.txt`])).toBe('first');

  const held = await stoppedAfter(w, holding.task.id, holding.run.id, () => actions.hold('Held while it runs', w));
  expect(held.run.endReason).toBe('paused');
  await until(async () => (await w.taskNamed('Held while it runs'))?.state === 'blocked', 10_000, () => 'the held task to be blocked');
  expect(existsSync(join(holding.run.worktree!, 'first.txt'))).toBe(true);

  await actions.release('Held while it runs', w);
  await until(async () => (await w.taskNamed('Held while it runs'))?.state === 'done', 60_000, () => `the released task to finish\n${w.logs()}`);
  expect(git(w.repo, ['show', 'main:resumed.txt'])).toBe('resumed');
  console.log(`${kind}: the agent stopped ${closed.ms} ms after the close and ${held.ms} ms after the hold`);

  expect(await w.stop()).toBe(0);
  const after = await openOrch(w.home);
  cleanups.push(() => after.close());
  const heldTask = (await after.store.listTasks({ project: 'app' })).find((t) => t.title === 'Held while it runs')!;
  const ready = await after.store.listEvents({ taskId: heldTask.id, types: ['workspace.ready'] });
  expect(ready.map((e) => (e.data as { from: string }).from)).toEqual(['new_branch', 'existing_worktree']);
  const runs = await after.store.listRuns({ taskId: heldTask.id });
  // The paused run gave its attempt back: the task took one attempt in all.
  expect(runs.map((r) => r.endReason)).toEqual(['paused', 'merged']);
  expect(heldTask.attempts).toBe(1);
  const decisions = (await after.store.listEvents({ types: ['task.reconciled'] })).map((e) => (e.data as { decision: string }).decision).sort();
  expect(decisions).toEqual(['stop_and_cancel', 'stop_and_wait']);
}

const TITLES = ['Closed while it runs', 'Held while it runs'];

describe('the tracker is the truth while agents run', () => {
  it('local tasks: `orch task cancel` and `orch task block` stop the agent at once; `orch task unblock` goes on in the same worktree', async () => {
    const idOf = async (w: World, title: string) => String((await w.taskNamed(title))!.id);
    const cli = (w: World, args: string[]) => {
      const result = orch(args, { cwd: w.scratch, home: w.home });
      expect(result.code, result.stderr).toBe(0);
    };
    await closeAndHold(
      {
        async setup() {
          return {};
        },
        async started(w) {
          for (const title of TITLES) cli(w, ['task', 'add', title, '--project', 'app', '--body', 'Work until stopped.']);
        },
        close: async (title, w) => cli(w, ['task', 'cancel', await idOf(w, title)]),
        hold: async (title, w) => cli(w, ['task', 'block', await idOf(w, title), '--reason', 'waiting for the API keys']),
        release: async (title, w) => cli(w, ['task', 'unblock', await idOf(w, title)]),
      },
      'local',
    );
  });

  it('a markdown queue: a file moved to failed/ or given a BLOCKED header stops the agent at once; deleting the header goes on', async () => {
    let queue = '';
    const claimed = (title: string) => join(queue, 'claimed', `${title.split(' ')[0]!.toLowerCase()}.md`);
    await closeAndHold(
      {
        async setup(_scratch, repo) {
          writeFileSync(join(repo, '.gitignore'), 'queue/\n');
          git(repo, ['add', '.gitignore']);
          git(repo, ['commit', '-q', '-m', 'ignore the queue']);
          queue = join(repo, 'queue');
          for (const folder of ['incoming', 'claimed', 'done', 'failed']) mkdirSync(join(queue, folder), { recursive: true });
          for (const title of TITLES) writeFileSync(join(queue, 'incoming', `${title.split(' ')[0]!.toLowerCase()}.md`), `# ${title}\n\nPRIORITY: P1\n\nWork until stopped.\n`);
          return { tracker: { kind: 'markdown', dir: 'queue', poll_interval_s: 3600 } };
        },
        async close(title) {
          renameSync(claimed(title), join(queue, 'failed', `${title.split(' ')[0]!.toLowerCase()}.md`));
        },
        async hold(title) {
          const file = claimed(title);
          writeFileSync(file, readFileSync(file, 'utf8').replace('PRIORITY: P1', 'PRIORITY: P1\nBLOCKED: waiting for the API keys'));
        },
        async release(title) {
          const file = claimed(title);
          writeFileSync(file, readFileSync(file, 'utf8').replace('BLOCKED: waiting for the API keys\n', ''));
        },
      },
      'markdown',
    );
    // A person's failed/ stays failed/.
    expect(existsSync(join(queue, 'failed', 'closed.md'))).toBe(true);
  });

  it('GitHub: closing the issue or labelling it blocked stops the agent on the webhook; removing the label goes on', async () => {
    let github: FakeGitHub | null = null;
    const numbers = new Map<string, number>();
    const webhook = (w: World, action: string, number: number) => {
      const body = JSON.stringify({ action, issue: { number }, repository: { full_name: 'acme/app' } });
      return fetch(`${w.url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
        body,
      }).then((r) => expect(r.status).toBe(202));
    };
    const repo = () => github!.repository('acme/app');
    await closeAndHold(
      {
        async setup() {
          github = await startFakeGitHub({ token: TOKEN });
          cleanups.push(() => github!.close());
          for (const title of TITLES) numbers.set(title, repo().addIssue({ title, body: 'Work until stopped.', labels: ['orch'] }).number);
          return { tracker: { kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url, poll_interval_s: 3600 } };
        },
        async close(title, w) {
          repo().updateIssue(numbers.get(title)!, { state: 'closed' });
          await webhook(w, 'closed', numbers.get(title)!);
        },
        async hold(title, w) {
          repo().addLabels(numbers.get(title)!, ['blocked']);
          await webhook(w, 'labeled', numbers.get(title)!);
        },
        async release(title, w) {
          repo().removeLabel(numbers.get(title)!, 'blocked');
          await webhook(w, 'unlabeled', numbers.get(title)!);
        },
      },
      'github',
    );
  });

  it('Linear: cancelling the issue or moving it back to Backlog stops the agent on the webhook; moving it to Todo goes on', async () => {
    let linear: FakeLinear | null = null;
    const webhook = (w: World) => {
      const body = JSON.stringify({ type: 'Issue', action: 'update', webhookTimestamp: Date.now(), data: { team: { key: 'ENG' } } });
      return fetch(`${w.url}/webhooks/linear`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'linear-delivery': randomUUID(), 'linear-signature': createHmac('sha256', SECRET).update(body).digest('hex') },
        body,
      }).then((r) => expect(r.status).toBe(202));
    };
    const move = (title: string, state: string) => {
      const issue = [...linear!.workspace.issues.values()].find((i) => i.title === title)!;
      linear!.clock.advance(1000);
      linear!.workspace.updateIssue(issue.id, { state });
    };
    await closeAndHold(
      {
        async setup() {
          linear = await startFakeLinear({ apiKey: LINEAR_KEY });
          cleanups.push(() => linear!.close());
          linear.workspace.addTeam('ENG');
          for (const title of TITLES) linear.workspace.addIssue({ team: 'ENG', title, description: 'Work until stopped.', state: 'Todo' });
          return { tracker: { kind: 'linear', team: 'ENG', api_url: linear.url, poll_interval_s: 3600 } };
        },
        async close(title, w) {
          move(title, 'Canceled');
          await webhook(w);
        },
        async hold(title, w) {
          move(title, 'Backlog');
          await webhook(w);
        },
        async release(title, w) {
          move(title, 'Todo');
          await webhook(w);
        },
      },
      'linear',
    );
  });
});
