import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { startDaemon } from '../../src/engine/daemon.js';
import { deliverHeld, heldDelivery } from '../../src/engine/delivery.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { eventually } from '../workspace/fixtures.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

// A merge whose delivery git refused (the person's checkout was dirty) waits in Orch's clone; once the
// checkout is clean, a retry delivers it without another task having to merge.

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;

beforeEach(async () => {
  scratch = tempDir('orch-held-delivery-');
  repo = makeRepo(scratch.path, 'app');
  writeFileSync(join(repo, 'app.txt'), 'version 1\n');
  git(repo, ['add', 'app.txt']);
  git(repo, ['commit', '-q', '-m', 'app']);
  const agent = join(scratch.path, 'adder.sh');
  writeFileSync(agent, '#!/bin/sh\necho "added by $ORCH_TASK_ID" > "task-$ORCH_TASK_ID.txt"\necho done\n');
  chmodSync(agent, 0o755);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { adder: { kind: 'command', command: agent } }, projects: { app: { path: repo, agents: ['adder'] } } }));
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

const clone = () => join(orch.home, 'projects', 'app', 'repo');
const deliveryEvents = async () => (await orch.store.listEvents({ project: 'app', types: ['delivery.done', 'delivery.pending'] })).map((e) => ({ type: e.type, taskId: e.taskId }));

/** Runs a task to done while the checkout has an unsaved edit: merged, its delivery held. */
async function mergeWhileDirty(): Promise<number> {
  writeFileSync(join(repo, 'app.txt'), 'my unsaved work\n');
  const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
  const summary = await runTask(orch, task.id, { sourceEnv: { PATH: process.env.PATH } });
  expect(summary.task.state).toBe('done');
  expect(summary.delivery).toMatchObject({ delivered: false, reason: 'dirty_checkout' });
  return task.id;
}

describe('a held delivery', () => {
  it('is reported with its commits and why, and left alone while the checkout stays dirty', async () => {
    const taskId = await mergeWhileDirty();
    const held = await heldDelivery(orch, 'app');
    expect(held).toMatchObject({ project: 'app', branch: 'main', destination: 'checkout', commits: 1, reason: 'dirty_checkout' });
    expect(held?.summary).toBe('1 commit waiting for your checkout: changes in your checkout of main are in the way (Working directory has unstaged changes): commit or stash them');

    // Tried again and again while nothing changed: refused each time, recorded once.
    for (let i = 0; i < 3; i++) expect((await deliverHeld(orch, 'app')).result).toMatchObject({ delivered: false, reason: 'dirty_checkout' });
    expect(await deliveryEvents()).toEqual([{ type: 'delivery.pending', taskId }]);
    expect(git(repo, ['status', '--porcelain'])).toBe('M app.txt');
    expect(existsSync(join(repo, `task-${taskId}.txt`))).toBe(false);
    await expect(deliverHeld(orch, 'nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it("is delivered by the daemon's timer once the checkout is clean", async () => {
    const taskId = await mergeWhileDirty();
    const daemon = await startDaemon(orch, { port: 0, logger: pino({ level: 'silent' }), deliveryRetryMs: 50 });
    try {
      git(repo, ['checkout', '--', 'app.txt']);
      expect(await eventually(() => git(repo, ['rev-parse', 'main']) === git(clone(), ['rev-parse', 'main']), 30_000)).toBe(true);
    } finally {
      await daemon.stop(0);
    }
    expect(git(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(git(repo, ['show', `main:task-${taskId}.txt`])).toBe(`added by ${taskId}`);
    expect(await heldDelivery(orch, 'app')).toBeNull();
    // The task's refusal, then the timer's delivery: many tries while it was dirty, one event.
    expect(await deliveryEvents()).toEqual([
      { type: 'delivery.pending', taskId },
      { type: 'delivery.done', taskId: null },
    ]);
    expect((await deliverHeld(orch, 'app')).commits).toBe(0);
  });
});
