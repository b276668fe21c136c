import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { recover } from '../../src/engine/recovery.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { ensureClone } from '../../src/workspace/clone.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

// Orch died while a task was merging: recovery finishes the task only when this attempt's own record
// says what it landed and that commit is on the default branch. A branch of the task left in the
// clone by an earlier attempt, with no commit of its own, sits on a commit main holds: taking that
// for a landed merge would finish the task with its work lost.

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;

beforeEach(async () => {
  scratch = tempDir('orch-recovery-landed-');
  repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const adder = join(scratch.path, 'adder');
  writeFileSync(adder, '#!/bin/sh\necho "added by $ORCH_TASK_ID" > "task-$ORCH_TASK_ID.txt"\n', { mode: 0o755 });
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { adder: { kind: 'command', command: adder } }, projects: { app: { path: repo, agents: ['adder'] } } }));
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

/** A task left in `merging` by an Orch that died (its owner's process is gone), with its run. */
async function diedWhileMerging(title: string, branch: string) {
  const task = await addTask(orch.store, { project: 'app', title }, orch.now());
  const dead = `${hostname()}:${spawnSync('true').pid}`;
  const claim = (await orch.store.claimTask({ taskId: task.id, owner: dead, leaseMs: 600_000, now: orch.now() }))!;
  const run = await orch.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'adder', startedAt: orch.now(), branch }, claim.token);
  await orch.store.updateRun(run.id, claim.token, { endedAt: orch.now(), outcome: 'succeeded' }, orch.now());
  await orch.store.updateTask(task.id, { fence: claim.token, expectedVersion: task.version }, { state: 'merging' }, orch.now(), { type: 'test.merging' });
  return { task, run };
}

describe('recovery of a task Orch died under while merging', () => {
  it('runs it again when its branch in the clone holds no commit of its own, though main holds that branch', async () => {
    const clone = (await ensureClone(orch.home, { name: 'app', path: repo, remote: null, defaultBranch: null })).path;
    git(clone, ['branch', 'orch/1-add-a-file', 'main']);
    const { task } = await diedWhileMerging('Add a file', 'orch/1-add-a-file');
    expect(await recover(orch)).toEqual([expect.objectContaining({ taskId: task.id, action: 'retry' })]);
    expect((await orch.store.getTask(task.id))!.state).toBe('routed');
  });

  it('finishes it when the head it named before landing is on main, and runs it again when that head never got there', async () => {
    const clone = (await ensureClone(orch.home, { name: 'app', path: repo, remote: null, defaultBranch: null })).path;
    const worktree = join(scratch.path, 'worktree');
    git(clone, ['worktree', 'add', '-q', '-b', 'orch/1-add-a-file', worktree, 'main']);
    writeFileSync(join(worktree, 'task.txt'), 'task\n');
    git(worktree, ['add', '-A']);
    git(worktree, ['commit', '-q', '-m', 'Add a file']);
    const landedCommit = git(worktree, ['rev-parse', 'HEAD']);
    // Landed: main moved to the head, then Orch died before recording the merge.
    git(clone, ['update-ref', 'refs/heads/main', landedCommit]);
    const landed = await diedWhileMerging('Add a file', 'orch/1-add-a-file');
    await orch.store.appendEvent({ type: 'merge.landing', project: 'app', taskId: landed.task.id, runId: landed.run.id, data: { commit: landedCommit } }, orch.now());
    // Named, never landed: Orch died between naming the head and moving main.
    git(worktree, ['checkout', '-q', '-b', 'orch/2-another']);
    writeFileSync(join(worktree, 'other.txt'), 'other\n');
    git(worktree, ['add', '-A']);
    git(worktree, ['commit', '-q', '-m', 'Another']);
    const unlanded = await diedWhileMerging('Another', 'orch/2-another');
    await orch.store.appendEvent({ type: 'merge.landing', project: 'app', taskId: unlanded.task.id, runId: unlanded.run.id, data: { commit: git(worktree, ['rev-parse', 'HEAD']) } }, orch.now());

    const recovered = await recover(orch);
    expect(recovered).toEqual(expect.arrayContaining([expect.objectContaining({ taskId: landed.task.id, action: 'finished' }), expect.objectContaining({ taskId: unlanded.task.id, action: 'retry' })]));
    expect((await orch.store.getTask(landed.task.id))!.state).toBe('done');
    expect((await orch.store.listRuns({ taskId: landed.task.id }))[0]).toMatchObject({ endReason: 'merged' });
  });

  it('a merge names its head before it lands it', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'adder', sourceEnv: { PATH: process.env.PATH } });
    expect(summary.task.state).toBe('done');
    const types = (await orch.store.listEvents({ taskId: task.id, types: ['merge.landing', 'merge.done'] })).map((e) => [e.type, e.data.commit]);
    expect(types).toEqual([
      ['merge.landing', summary.merged],
      ['merge.done', summary.merged],
    ]);
  });
});
