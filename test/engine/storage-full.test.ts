import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { addTask } from '../../src/engine/tasks.js';
import { createApp } from '../../src/server/app.js';
import { makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
});

const env = { PATH: process.env.PATH };

/** An Orch home in `home` with one project whose agent writes a file and exits 0. */
async function setUp(scratch: string, home: string): Promise<Orch> {
  const repo = makeRepo(scratch, 'app');
  const agent = join(scratch, 'agent.sh');
  writeFileSync(agent, '#!/bin/sh\necho "done by the agent" > "done-$ORCH_TASK_ID.txt"\necho finished\n');
  chmodSync(agent, 0o755);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { writer: { kind: 'command', command: agent } }, projects: { app: { path: repo, agents: ['writer'] } } }));
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return orch;
}

/** Why the scheduler's loop ended early, if it did: the wait in `until` stops at once then. */
let loopFailure: Error | null = null;

/** Waits for `check` to hold; the test's own time limit ends a wait that never does. */
async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  for (;;) {
    if (loopFailure) throw new Error(`the scheduler stopped: ${loopFailure.message}`);
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function health(orch: Orch, scheduler: Scheduler): Promise<{ storage: string; dispatching: boolean }> {
  const app = createApp({ orch, token: 't', requestTick: () => undefined, tickStats: () => scheduler.stats, dashboardDir: null });
  return (await app.request('/healthz')).json() as Promise<{ storage: string; dispatching: boolean }>;
}

async function metric(orch: Orch, scheduler: Scheduler, name: string): Promise<string | undefined> {
  const app = createApp({ orch, token: 't', requestTick: () => undefined, tickStats: () => scheduler.stats, dashboardDir: null });
  const text = await (await app.request('/metrics', { headers: { authorization: 'Bearer t' } })).text();
  return text.split('\n').find((line) => line.startsWith(`${name} `));
}

/** Runs the scheduler until the test ends. */
function start(scheduler: Scheduler): void {
  const controller = new AbortController();
  loopFailure = null;
  const loop = scheduler.run({ signal: controller.signal, graceMs: 5000 }).catch((error: Error) => {
    loopFailure = error;
  });
  cleanups.push(async () => {
    controller.abort();
    await loop;
  });
}

describe('a full disk', () => {
  it('pauses dispatch when the store says SQLITE_FULL, says so in /healthz and /metrics, and resumes once there is room', async () => {
    const scratch = tempDir('orch-storage-');
    cleanups.push(scratch.cleanup);
    const orch = await setUp(scratch.path, join(scratch.path, 'home'));
    const task = await addTask(orch.store, { project: 'app', title: 'Write a file' }, orch.now());

    // The store refuses every write as SQLite does when its disk is full.
    let full = true;
    const transaction = orch.store.transaction.bind(orch.store);
    orch.store.transaction = ((fn: Parameters<typeof transaction>[0]) => {
      if (full) return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
      return transaction(fn);
    }) as typeof orch.store.transaction;

    const scheduler = new Scheduler(orch, { pollMs: 50, sourceEnv: env });
    start(scheduler);
    await until(() => (scheduler.stats.storageFull ?? null) !== null && scheduler.stats.ticks >= 3);
    expect(scheduler.stats.storageFull?.reason).toContain('database or disk is full');
    expect(await health(orch, scheduler)).toMatchObject({ storage: 'full', dispatching: false });
    expect(await metric(orch, scheduler, 'orch_storage_full')).toBe('orch_storage_full 1');
    expect(await orch.store.listRuns({ taskId: task.id })).toEqual([]);

    full = false;
    const done = await until(async () => ((await orch.store.getTask(task.id))!.state === 'done' ? true : undefined));
    expect(done).toBe(true);
    expect(scheduler.stats.storageFull).toBeNull();
    expect(await health(orch, scheduler)).toMatchObject({ storage: 'ok', dispatching: true });
    expect(await metric(orch, scheduler, 'orch_storage_full')).toBe('orch_storage_full 0');
    expect((await orch.store.listEvents({ types: ['storage.available'] })).length).toBe(1);
  });

  it('on a real full filesystem (a small tmpfs): nothing is lost, dispatch waits, and the task runs once space is freed', async (context) => {
    const scratch = tempDir('orch-storage-tmpfs-');
    cleanups.push(scratch.cleanup);
    const mount = join(scratch.path, 'disk');
    mkdirSync(mount);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount], { stdio: 'pipe' });
    } catch (error) {
      context.skip(`mounting a tmpfs is not permitted here (${(error as Error).message.split('\n')[0]}); the injected SQLITE_FULL test covers the condition`);
    }
    cleanups.push(() => {
      execFileSync('umount', ['-l', mount]);
    });
    const orch = await setUp(scratch.path, join(mount, 'home'));
    const progress = (p: object) => process.env.DEBUG_STORAGE && console.log(JSON.stringify(p));
    // One task first, so the store's files have grown to their working size.
    const first = await addTask(orch.store, { project: 'app', title: 'Before the disk fills' }, orch.now());
    await new Scheduler(orch, { sourceEnv: env, onProgress: progress }).run({ drain: true });
    expect((await orch.store.getTask(first.id))!.state).toBe('done');

    // A task waits; then the disk fills to its last byte, and Orch starts.
    const task = await addTask(orch.store, { project: 'app', title: 'While the disk is full' }, orch.now());
    const filler = join(mount, 'filler');
    const fd = openSync(filler, 'w');
    const block = Buffer.alloc(64 * 1024, 1);
    try {
      for (let size = block.length; size >= 1; ) {
        try {
          writeSync(fd, block, 0, size);
        } catch {
          size = Math.floor(size / 2);
        }
      }
    } finally {
      closeSync(fd);
    }
    const scheduler = new Scheduler(orch, { pollMs: 50, sourceEnv: env, onProgress: progress });
    start(scheduler);
    await until(() => (scheduler.stats.storageFull ?? null) !== null && scheduler.stats.ticks >= 3);
    expect(await health(orch, scheduler)).toMatchObject({ storage: 'full', dispatching: false });
    expect((await orch.store.getTask(task.id))!.state).not.toBe('done');

    rmSync(filler);
    await until(async () => ((await orch.store.getTask(task.id))!.state === 'done' ? true : undefined));
    expect(scheduler.stats.storageFull).toBeNull();
    expect(await health(orch, scheduler)).toMatchObject({ storage: 'ok', dispatching: true });
    const runs = await orch.store.listRuns({ taskId: task.id });
    expect(runs.at(-1)!.outcome).toBe('succeeded');
  });
});
