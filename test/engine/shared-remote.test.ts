import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { recover } from '../../src/engine/recovery.js';
import { mergeBranch } from '../../src/engine/refinery.js';
import { remoteLanding } from '../../src/engine/shared-remote.js';
import { addTask } from '../../src/engine/tasks.js';
import { advisoryLocks } from '../../src/locks/advisory-locks.js';
import { ensureClone } from '../../src/workspace/clone.js';
import { git, tempDir } from '../helpers/git.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

// A project served from several hosts: each ORCH_HOME has its own clone of one bare remote, and the
// remote's main is the truth. Every merge must end on the remote, one commit per task, none lost,
// whoever else merges or pushes meanwhile.

const TASKS_PER_HOME = 4;
const env = { PATH: process.env.PATH };
const block = `printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}' '\`\`\`'`;

let cluster: PostgresCluster;
let scratch: { path: string; cleanup: () => void };
let remote: string;
const opened: Orch[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});
beforeEach(() => {
  scratch = tempDir('orch-shared-remote-');
  remote = join(scratch.path, 'remote.git');
  git(scratch.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  const seed = join(scratch.path, 'seed');
  git(scratch.path, ['clone', '-q', remote, seed]);
  mkdirSync(join(seed, 'src'));
  writeFileSync(join(seed, 'src', 'a.txt'), 'one\n');
  writeFileSync(join(seed, 'test.sh'), '#!/bin/sh\nif grep -rq BUG src; then echo "found BUG in src" >&2; exit 1; fi\necho ok\n');
  chmodSync(join(seed, 'test.sh'), 0o755);
  git(seed, ['add', '-A']);
  git(seed, ['commit', '-q', '-m', 'app with tests']);
  git(seed, ['push', '-q', 'origin', 'HEAD:main']);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map(async (orch) => {
    await orch.close();
    await orch.sharedLocks?.close();
  }));
  scratch.cleanup();
});

/** An Orch of its own home (as on a host of its own) whose agent adds a file named after the home and task. */
async function host(name: string): Promise<Orch> {
  const home = join(scratch.path, name);
  mkdirSync(home);
  // Outside the home: a sandboxed run sees nothing of ORCH_HOME.
  mkdirSync(join(scratch.path, `bin-${name}`));
  const adder = join(scratch.path, `bin-${name}`, 'adder');
  writeFileSync(adder, `#!/bin/sh\necho "added by ${name} $ORCH_TASK_ID" > "src/${name}-$ORCH_TASK_ID.txt"\n${block}\n`);
  chmodSync(adder, 0o755);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { adder: { kind: 'command', command: adder } },
      projects: { app: { remote, default_branch: 'main', agents: ['adder'], max_attempts: 3, max_agents: 3, backoff: { base_s: 0.05, cap_s: 0.1, jitter: 0 }, judge: { test: ['./test.sh'] } } },
    }),
  );
  const orch = await openOrch(home);
  opened.push(orch);
  return orch;
}

/** Both homes add their tasks, then run their backlogs at the same time. */
async function mergeConcurrently(homes: Orch[]): Promise<void> {
  for (const orch of homes) {
    for (let i = 0; i < TASKS_PER_HOME; i++) await addTask(orch.store, { project: 'app', title: `File ${i}` }, orch.now());
  }
  const results = await Promise.all(homes.map((orch) => runCycle(orch, { once: true, pollMs: 50, sourceEnv: env })));
  for (const [i, summaries] of results.entries()) {
    // Every run, retries included, and how it ended: what to read when a task did not land.
    const story = summaries.map((s) => `#${s.task.id} ${s.task.state}: ${s.note}`).join('\n');
    const states = (await homes[i]!.store.listTasks({ project: 'app' })).map((t) => t.state);
    expect(states, story).toEqual(Array.from({ length: TASKS_PER_HOME }, () => 'done'));
  }
}

/** The remote's main: one commit per task on top of the seed, each task's file there, nothing lost. */
async function expectEveryTaskOnTheRemote(homes: { name: string; orch: Orch }[]): Promise<void> {
  const log = git(remote, ['log', '--format=%s%x09%b', 'main']).split('\n').filter((line) => line.includes('Orch task #'));
  expect(Number(git(remote, ['rev-list', '--count', 'main']))).toBe(1 + homes.length * TASKS_PER_HOME);
  expect(log).toHaveLength(homes.length * TASKS_PER_HOME);
  const files = new Set(git(remote, ['ls-tree', '-r', '--name-only', 'main']).split('\n'));
  for (const { name, orch } of homes) {
    const tasks = await orch.store.listTasks({ project: 'app' });
    expect(tasks.map((t) => t.state)).toEqual(Array.from({ length: TASKS_PER_HOME }, () => 'done'));
    for (const task of tasks) {
      expect(files.has(`src/${name}-${task.id}.txt`), `${name} task ${task.id}`).toBe(true);
      expect(git(remote, ['show', `main:src/${name}-${task.id}.txt`])).toBe(`added by ${name} ${task.id}`);
    }
    // Each clone's main is where the remote's is, or behind it: never ahead with something undelivered.
    const clone = join(orch.home, 'projects', 'app', 'repo');
    expect(git(remote, ['merge-base', '--is-ancestor', git(clone, ['rev-parse', 'refs/heads/main']), 'main'])).toBe('');
  }
}

const mergeRounds = async (orch: Orch) => (await orch.store.listEvents({ project: 'app', types: ['merge.done'] })).map((e) => (e.data as { rounds: number }).rounds);

describe('a project served from one remote by two homes', () => {
  it('on one machine with file locks: every task of both lands on the remote, one commit each', { timeout: 300_000 }, async () => {
    const [a, b] = [await host('alpha'), await host('beta')];
    await mergeConcurrently([a, b]);
    await expectEveryTaskOnTheRemote([{ name: 'alpha', orch: a }, { name: 'beta', orch: b }]);
    // Two homes do not share their file locks: where both landed at once, the lease sent one back for another round.
    expect((await mergeRounds(a)).length + (await mergeRounds(b)).length).toBe(2 * TASKS_PER_HOME);
  });

  it('on two hosts with PostgreSQL advisory locks: every task lands, each on its first try', { timeout: 300_000 }, async () => {
    const url = await cluster.createDatabase(`merges_${Date.now()}`);
    const [a, b] = [await host('alpha'), await host('beta')];
    a.sharedLocks = advisoryLocks(url);
    b.sharedLocks = advisoryLocks(url);
    await mergeConcurrently([a, b]);
    await expectEveryTaskOnTheRemote([{ name: 'alpha', orch: a }, { name: 'beta', orch: b }]);
    // The merge lock covers fetch to push on both hosts, so no push ever met a remote that had moved.
    expect([...(await mergeRounds(a)), ...(await mergeRounds(b))]).toEqual(Array.from({ length: 2 * TASKS_PER_HOME }, () => 1));
  });
});

describe('landing on a remote', () => {
  async function cloneWithTaskCommit(): Promise<{ home: string; clone: string; worktree: string; project: { name: string; path: null; remote: string; defaultBranch: string } }> {
    const home = join(scratch.path, 'home');
    const project = { name: 'app', path: null, remote, defaultBranch: 'main' };
    const clone = (await ensureClone(home, project)).path;
    const worktree = join(scratch.path, 'worktree');
    git(clone, ['worktree', 'add', '-q', '-b', 'orch/1', worktree, 'main']);
    writeFileSync(join(worktree, 'task.txt'), 'task\n');
    git(worktree, ['add', '-A']);
    git(worktree, ['commit', '-q', '-m', 'task\n\nOrch task #1']);
    return { home, clone, worktree, project };
  }

  it('goes round again when a person pushed between the fetch and the push, and keeps their commit', async () => {
    const { home, clone, worktree, project } = await cloneWithTaskCommit();
    const person = join(scratch.path, 'person');
    git(scratch.path, ['clone', '-q', remote, person]);
    let refreshes = 0;
    const merged = await mergeBranch({
      clonePath: clone,
      worktree,
      defaultBranch: 'main',
      refresh: async () => {
        await ensureClone(home, project);
        if (++refreshes > 1) return;
        writeFileSync(join(person, 'person.txt'), 'mine\n');
        git(person, ['add', '-A']);
        git(person, ['commit', '-q', '-m', 'a person commits']);
        git(person, ['push', '-q', 'origin', 'HEAD:main']);
      },
      retest: null,
      landing: remoteLanding({ home }, { project: 'app', remote, clonePath: clone, branch: 'main', beforePush: async () => undefined }),
    });
    expect(merged).toMatchObject({ kind: 'merged', rounds: 2, rebased: true });
    expect(git(remote, ['log', '--format=%s', 'main']).split('\n')).toEqual(['task', 'a person commits', 'app with tests']);
    expect(git(remote, ['rev-parse', 'main'])).toBe(merged.kind === 'merged' ? merged.commit : '');
    expect(git(clone, ['rev-parse', 'refs/heads/main', 'refs/remotes/origin/main']).split('\n')).toEqual([merged.kind === 'merged' ? merged.commit : '', merged.kind === 'merged' ? merged.commit : '']);
  });

  it('gives up a rebase an Orch killed during it left half done, and rebases afresh', async () => {
    const { home, clone, worktree, project } = await cloneWithTaskCommit();
    const person = join(scratch.path, 'person');
    git(scratch.path, ['clone', '-q', remote, person]);
    writeFileSync(join(person, 'person.txt'), 'mine\n');
    git(person, ['add', '-A']);
    git(person, ['commit', '-q', '-m', 'a person commits']);
    git(person, ['push', '-q', 'origin', 'HEAD:main']);
    await ensureClone(home, project);
    // Stopped after its first step, as a rebase is when its process dies: git refuses a new one until this one ends.
    expect(() => git(worktree, ['rebase', '--exec', 'false', 'HEAD~1'])).toThrow();
    const merged = await mergeBranch({
      clonePath: clone,
      worktree,
      defaultBranch: 'main',
      refresh: async () => void (await ensureClone(home, project)),
      retest: null,
      landing: remoteLanding({ home }, { project: 'app', remote, clonePath: clone, branch: 'main', beforePush: async () => undefined }),
    });
    expect(merged).toMatchObject({ kind: 'merged' });
    expect(git(remote, ['log', '--format=%s', 'main']).split('\n')).toEqual(['task', 'a person commits', 'app with tests']);
  });

  it('takes along commits merged in the clone and never delivered, when they sit on the remote tip', async () => {
    const { home, clone, worktree, project } = await cloneWithTaskCommit();
    // A commit merged before (its delivery refused), ahead of the remote in the clone.
    const held = join(scratch.path, 'held');
    git(clone, ['worktree', 'add', '-q', '-b', 'orch/0', held, 'main']);
    writeFileSync(join(held, 'held.txt'), 'held\n');
    git(held, ['add', '-A']);
    git(held, ['commit', '-q', '-m', 'held back']);
    git(clone, ['update-ref', 'refs/heads/main', git(held, ['rev-parse', 'HEAD'])]);
    const merged = await mergeBranch({ clonePath: clone, worktree, defaultBranch: 'main', refresh: async () => void (await ensureClone(home, project)), retest: null, landing: remoteLanding({ home }, { project: 'app', remote, clonePath: clone, branch: 'main', beforePush: async () => undefined }) });
    expect(merged).toMatchObject({ kind: 'merged', rounds: 1 });
    expect(git(remote, ['log', '--format=%s', 'main']).split('\n')).toEqual(['task', 'held back', 'app with tests']);
  });

  it('fails the merge with git’s reason when the remote cannot be reached, leaving the clone as it was', async () => {
    const { home, clone, worktree, project } = await cloneWithTaskCommit();
    const before = git(clone, ['rev-parse', 'refs/heads/main']);
    const gone = join(scratch.path, 'gone.git');
    const landing = remoteLanding({ home }, { project: 'app', remote: gone, clonePath: clone, branch: 'main', beforePush: async () => undefined });
    await expect(mergeBranch({ clonePath: clone, worktree, defaultBranch: 'main', refresh: async () => void (await ensureClone(home, project)), retest: null, landing })).rejects.toThrow(/pushing main to .*gone\.git failed/);
    expect(git(clone, ['rev-parse', 'refs/heads/main'])).toBe(before);
  });
});

describe('recovery of a project served from its remote', () => {
  it('finishes a task whose push landed before Orch died, though its clone had not followed yet', async () => {
    const orch = await host('alpha');
    const project = { name: 'app', path: null, remote, defaultBranch: 'main' };
    const clone = (await ensureClone(orch.home, project)).path;
    const worktree = join(scratch.path, 'worktree');
    git(clone, ['worktree', 'add', '-q', '-b', 'orch/1-add-a-file', worktree, 'main']);
    writeFileSync(join(worktree, 'task.txt'), 'task\n');
    git(worktree, ['add', '-A']);
    git(worktree, ['commit', '-q', '-m', 'Add a file\n\nOrch task #1']);
    // The push landed; Orch died before moving the clone's main and before recording the merge.
    const commit = git(worktree, ['rev-parse', 'HEAD']);
    git(clone, ['push', '-q', remote, `${commit}:refs/heads/main`]);
    const before = git(clone, ['rev-parse', 'refs/heads/main']);

    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const dead = `${hostname()}:${spawnSync('true').pid}`;
    const claim = (await orch.store.claimTask({ taskId: task.id, owner: dead, leaseMs: 600_000, now: orch.now() }))!;
    const run = await orch.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'adder', startedAt: orch.now(), branch: 'orch/1-add-a-file' }, claim.token);
    await orch.store.updateRun(run.id, claim.token, { endedAt: orch.now(), outcome: 'succeeded' }, orch.now());
    await orch.store.updateTask(task.id, { fence: claim.token, expectedVersion: task.version }, { state: 'merging' }, orch.now(), { type: 'test.merging' });
    await orch.store.appendEvent({ type: 'merge.landing', project: 'app', taskId: task.id, runId: run.id, data: { commit, remote } }, orch.now());

    const recovered = await recover(orch);
    expect(recovered).toEqual([expect.objectContaining({ taskId: task.id, action: 'finished' })]);
    expect((await orch.store.getTask(task.id))!.state).toBe('done');
    expect(git(clone, ['rev-parse', 'refs/heads/main'])).not.toBe(before);
  });

  it('runs a task again whose attempt never landed, though an earlier attempt left its branch in this clone on a commit main holds', async () => {
    // Killed at a random moment: this host's first attempt had made the task's branch and no commit
    // on it yet; the next attempt, on another host, died while merging, before it pushed anything.
    const alpha = await host('alpha');
    const project = { name: 'app', path: null, remote, defaultBranch: 'main' };
    const clone = (await ensureClone(alpha.home, project)).path;
    git(clone, ['branch', 'orch/1-add-a-file', 'main']);
    const task = await addTask(alpha.store, { project: 'app', title: 'Add a file' }, alpha.now());
    const claim = (await alpha.store.claimTask({ taskId: task.id, owner: `other-host:${spawnSync('true').pid}`, leaseMs: 1, now: alpha.now() - 10 }))!;
    const run = await alpha.store.createRun({ taskId: task.id, project: 'app', attempt: 2, agent: 'adder', startedAt: alpha.now(), branch: 'orch/1-add-a-file', host: 'beta' }, claim.token);
    await alpha.store.updateRun(run.id, claim.token, { endedAt: alpha.now(), outcome: 'succeeded' }, alpha.now());
    await alpha.store.updateTask(task.id, { fence: claim.token, expectedVersion: task.version }, { state: 'merging' }, alpha.now(), { type: 'test.merging' });

    expect(await recover(alpha)).toEqual([expect.objectContaining({ taskId: task.id, action: 'retry' })]);
    expect((await alpha.store.getTask(task.id))!.state).not.toBe('done');
    expect((await alpha.store.listRuns({ taskId: task.id }))[0]).toMatchObject({ endReason: 'host_lost' });
  });

  it('finishes it from another host too, whose clone never had the branch: by the commit the attempt named before pushing', async () => {
    const alpha = await host('alpha');
    const beta = await host('beta');
    const project = { name: 'app', path: null, remote, defaultBranch: 'main' };
    const alphaClone = (await ensureClone(alpha.home, project)).path;
    const worktree = join(scratch.path, 'worktree');
    git(alphaClone, ['worktree', 'add', '-q', '-b', 'orch/1-add-a-file', worktree, 'main']);
    writeFileSync(join(worktree, 'task.txt'), 'task\n');
    git(worktree, ['add', '-A']);
    git(worktree, ['commit', '-q', '-m', 'Add a file\n\nOrch task #1']);
    const commit = git(worktree, ['rev-parse', 'HEAD']);

    // Beta's store stands for the shared one: alpha's attempt, as alpha left it when it was killed.
    const attempt = async (title: string, named: boolean) => {
      const task = await addTask(beta.store, { project: 'app', title }, beta.now());
      const dead = `other-host:${spawnSync('true').pid}`;
      const claim = (await beta.store.claimTask({ taskId: task.id, owner: dead, leaseMs: 1, now: beta.now() - 10 }))!;
      const run = await beta.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'adder', startedAt: beta.now(), branch: 'orch/1-add-a-file', host: 'alpha' }, claim.token);
      await beta.store.updateRun(run.id, claim.token, { endedAt: beta.now(), outcome: 'succeeded' }, beta.now());
      await beta.store.updateTask(task.id, { fence: claim.token, expectedVersion: task.version }, { state: 'merging' }, beta.now(), { type: 'test.merging' });
      if (named) await beta.store.appendEvent({ type: 'merge.landing', project: 'app', taskId: task.id, runId: run.id, data: { commit, remote } }, beta.now());
      return task;
    };
    // Named, and on the remote (the push landed, then alpha died before recording the merge): finished.
    const landed = await attempt('Add a file', true);
    git(alphaClone, ['push', '-q', remote, `${commit}:refs/heads/main`]);
    // Not named: beta cannot tell what the attempt pushed, and it runs again.
    const unnamed = await attempt('Another', false);

    const recovered = await recover(beta);
    expect(recovered).toEqual(expect.arrayContaining([expect.objectContaining({ taskId: landed.id, action: 'finished' }), expect.objectContaining({ taskId: unnamed.id, action: 'retry' })]));
    expect((await beta.store.getTask(landed.id))!.state).toBe('done');
    expect((await beta.store.listRuns({ taskId: landed.id }))[0]).toMatchObject({ endReason: 'merged' });
  });
});
