import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { TrackerSync } from '../../src/engine/tracker-sync.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const taskFile = (title: string, role: string, priority: string) =>
  [`# ${title}`, '', `ROLE: ${role}`, `PRIORITY: ${priority}`, 'CREATED: 2026-11-01T10:00:00Z', 'CREATED_BY: pm', '', '## Context', `Write ${title}.`, '', '## Acceptance Criteria', '- [ ] the file exists', ''].join('\n');

interface WorldOptions {
  /** The agent's script after `name` (the task's title) is set; default: write `<name>.txt`. */
  agent?: (scratch: string, queue: string) => string;
  /** More settings of the project, and of the config. */
  project?: Record<string, unknown>;
  config?: Record<string, unknown>;
  now?: () => number;
}

async function queueWorld(options: WorldOptions = {}): Promise<{ orch: Orch; repo: string; queue: string; scratch: string }> {
  const scratch = tempDir('orch-queue-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  // The queue lives in the repository but is not tracked: moving its files leaves the checkout clean.
  writeFileSync(join(repo, '.gitignore'), 'queue/\n');
  git(repo, ['add', '.gitignore']);
  git(repo, ['commit', '-q', '-m', 'ignore the queue']);
  const queue = join(repo, 'queue');
  for (const folder of ['incoming', 'claimed', 'done', 'failed']) mkdirSync(join(queue, folder), { recursive: true });
  writeFileSync(join(queue, 'incoming', '0001-alpha.md'), taskFile('alpha', 'implementer', 'P1'));
  writeFileSync(join(queue, 'incoming', '0002-beta.md'), taskFile('beta', 'bugfix', 'P2'));
  writeFileSync(join(queue, 'incoming', '0003-broken.md'), 'PRIORITY: soon\n');
  const agent = join(scratch.path, 'agent.sh');
  // Writes the file its task names (from the prompt's `# Task #N: <title>` line).
  const work = options.agent?.(scratch.path, queue) ?? 'echo "$name" > "$name.txt"\necho done';
  writeFileSync(agent, `#!/bin/sh\nname=$(grep -m 1 "^# Task #" "$ORCH_PROMPT_FILE" | sed "s/.*: //")\n${work}\n`);
  chmodSync(agent, 0o755);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { writer: { kind: 'command', command: agent } },
      projects: { app: { path: repo, default_branch: 'main', agents: ['writer'], tracker: { kind: 'markdown', dir: 'queue' }, ...options.project } },
      ...options.config,
    }),
  );
  const orch = await openOrch(home, options.now);
  cleanups.push(() => orch.close());
  return { orch, repo, queue, scratch: scratch.path };
}

describe('a markdown queue as the tracker', () => {
  it('claims each task file, runs it to a merged commit and files it under done/ with a status note', async () => {
    const { orch, repo, queue } = await queueWorld();
    await runCycle(orch, { once: true, sourceEnv: { PATH: process.env.PATH } });

    const tasks = await orch.store.listTasks({ project: 'app' });
    expect(tasks.map((t) => ({ ref: t.externalRef, state: t.state, role: t.role }))).toEqual([
      { ref: 'queue:0001-alpha.md', state: 'done', role: 'implement' },
      { ref: 'queue:0002-beta.md', state: 'done', role: 'fix' },
    ]);
    // P1 runs before P2.
    expect(tasks[0]!.priority).toBeGreaterThan(tasks[1]!.priority);
    expect(git(repo, ['show', 'main:alpha.txt'])).toBe('alpha');
    expect(git(repo, ['show', 'main:beta.txt'])).toBe('beta');
    expect(readdirSync(join(queue, 'done')).sort()).toEqual(['0001-alpha.md', '0002-beta.md']);
    expect(readdirSync(join(queue, 'claimed'))).toEqual([]);
    const note = readFileSync(join(queue, 'done', '0001-alpha.md'), 'utf8');
    expect(note).toContain('## Orch');
    expect(note.match(/^## Orch/gm)).toHaveLength(1);
    expect(note).toContain('## Acceptance Criteria');
    // The malformed file is left where it was, and did not stop the others.
    expect(existsSync(join(queue, 'incoming', '0003-broken.md'))).toBe(true);
  });

  it('cancels the task of a file someone moved out of the queue, and picks up edits to one not started', async () => {
    const { orch, queue } = await queueWorld();
    const sync = new TrackerSync(orch);
    const [first] = await sync.syncDue();
    expect(first!.created).toEqual([1, 2]);
    // Mirrored, not claimed: nothing works on them yet, so the files stay in incoming/.
    expect(readdirSync(join(queue, 'claimed'))).toEqual([]);
    expect(readdirSync(join(queue, 'incoming')).sort()).toEqual(['0001-alpha.md', '0002-beta.md', '0003-broken.md']);

    writeFileSync(join(queue, 'incoming', '0002-beta.md'), taskFile('beta', 'bugfix', 'P0'));
    const { renameSync } = await import('node:fs');
    renameSync(join(queue, 'incoming', '0001-alpha.md'), join(queue, 'failed', '0001-alpha.md'));
    sync.requestSync();
    const [second] = await sync.syncDue();
    expect(second).toMatchObject({ cancelled: [1], updated: [2], error: null });
    expect((await orch.store.getTask(1))!.state).toBe('cancelled');
    expect((await orch.store.getTask(2))!.priority).toBe(2);
  });

  it('leaves the file of a task that waits in incoming/ and claims it as the task starts', async () => {
    const { orch, queue } = await queueWorld();
    // Held back: the project is paused, so its tasks wait.
    await orch.store.setProjectPaused('app', true, 'held', orch.now(), { type: 'project.paused', data: { reason: 'held' } });
    await runCycle(orch, { once: true, sourceEnv: { PATH: process.env.PATH } });
    expect((await orch.store.listTasks({ project: 'app' })).map((t) => t.state)).toEqual(['new', 'new']);
    expect(readdirSync(join(queue, 'claimed'))).toEqual([]);

    await orch.store.setProjectPaused('app', false, null, orch.now(), { type: 'project.resumed', data: {} });
    await runCycle(orch, { once: true, sourceEnv: { PATH: process.env.PATH } });
    expect(readdirSync(join(queue, 'done')).sort()).toEqual(['0001-alpha.md', '0002-beta.md']);
    expect((await orch.store.listEvents({ types: ['tracker.claimed'] })).map((e) => e.taskId)).toEqual([1, 2]);
  });

  it('never follows a link in incoming/: what it points at reaches no task, prompt or event', async () => {
    const { orch, repo, queue } = await queueWorld();
    const secret = join(repo, '..', 'secret.md');
    writeFileSync(secret, taskFile('SENTINEL-c41d', 'implementer', 'P0'));
    symlinkSync(secret, join(queue, 'incoming', '0004-link.md'));
    await runCycle(orch, { once: true, sourceEnv: { PATH: process.env.PATH } });

    expect((await orch.store.listTasks({ project: 'app' })).map((t) => t.externalRef)).toEqual(['queue:0001-alpha.md', 'queue:0002-beta.md']);
    const skipped = await orch.store.listEvents({ types: ['tracker.skipped'] });
    expect(skipped.map((e) => e.data.reason)).toContain('queue/incoming/0004-link.md: is a symbolic link; Orch reads only regular files in the queue');
    // Nothing Orch wrote (the store, run files, prompts, logs) holds a byte of it.
    const everything = await orch.store.listEvents({});
    expect(JSON.stringify(everything)).not.toContain('SENTINEL');
    // grep -r does not follow links, so the one in incoming/ is not searched through either.
    expect(spawnSync('grep', ['-rla', 'SENTINEL', orch.home, repo], { encoding: 'utf8' }).stdout).toBe('');
  });

  it('sees a file moved in the queue at once, with the poll and the tick an hour apart', { timeout: 120_000 }, async () => {
    const { orch, queue, scratch } = await queueWorld({
      // Each agent works until the test lets it finish.
      agent: (dir) => `while [ ! -e ${dir}/release ]; do sleep 0.05; done\necho "$name" > "$name.txt"`,
      project: { tracker: { kind: 'markdown', dir: 'queue', poll_interval_s: 3600 } },
      config: { scheduler: { tick_interval_s: 3600 } },
    });
    const stop = new AbortController();
    const cycle = runCycle(orch, { signal: stop.signal, sourceEnv: { PATH: process.env.PATH } });
    cleanups.push(async () => {
      writeFileSync(join(scratch, 'release'), '');
      stop.abort();
      await cycle;
    });
    const stateOf = async (ref: string) => (await orch.store.listTasks({ project: 'app', externalRefs: [ref] }))[0]?.state;
    // The first tick's sync: both files are claimed and running.
    await vi.waitFor(async () => expect(readdirSync(join(queue, 'claimed')).sort()).toEqual(['0001-alpha.md', '0002-beta.md']), { timeout: 60_000, interval: 50 });
    await vi.waitFor(async () => expect(await stateOf('queue:0001-alpha.md')).toBe('running'), { timeout: 60_000, interval: 50 });

    // Nothing polls for an hour: only the watch can see these.
    writeFileSync(join(queue, 'incoming', '0004-gamma.md'), taskFile('gamma', 'implementer', 'P2'));
    await vi.waitFor(async () => expect(await stateOf('queue:0004-gamma.md')).toBe('new'), { timeout: 60_000, interval: 50 });
    renameSync(join(queue, 'claimed', '0001-alpha.md'), join(queue, 'failed', '0001-alpha.md'));
    await vi.waitFor(async () => expect(await stateOf('queue:0001-alpha.md')).toBe('cancelled'), { timeout: 60_000, interval: 50 });
    await vi.waitFor(async () => expect((await orch.store.listRuns({ taskId: 1 }))[0]?.endedAt).not.toBeNull(), { timeout: 60_000, interval: 50 });
    // The file stays where the person put it.
    expect(readdirSync(join(queue, 'failed'))).toEqual(['0001-alpha.md']);
  });

  it("asks each tracker on its project's own poll interval", async () => {
    const start = Date.now();
    let offset = 0;
    const { orch } = await queueWorld({ project: { tracker: { kind: 'markdown', dir: 'queue', poll_interval_s: 5 } }, now: () => start + offset });
    const sync = new TrackerSync(orch);
    sync.close();
    expect(await sync.syncDue()).toHaveLength(1);
    expect(await sync.syncDue()).toHaveLength(0);
    offset = 4_000;
    expect(await sync.syncDue()).toHaveLength(0);
    offset = 5_500;
    expect(await sync.syncDue()).toHaveLength(1);
  });

  it('stops the attempt of a task the same tick\'s sync cancelled', async () => {
    const { orch, queue, scratch } = await queueWorld({ agent: (dir) => `while [ ! -e ${dir}/release ]; do sleep 0.05; done` });
    const sync = new TrackerSync(orch, { pollMs: 3_600_000 });
    sync.close();
    const cancelling: number[] = [];
    const scheduler = new Scheduler(orch, { trackers: sync, sourceEnv: { PATH: process.env.PATH }, onProgress: (p) => p.type === 'cancelling' && cancelling.push(p.taskId) });
    cleanups.push(async () => {
      writeFileSync(join(scratch, 'release'), '');
      await scheduler.drainInFlight();
    });
    await scheduler.tick();
    expect(scheduler.running().sort()).toEqual([1, 2]);
    renameSync(join(queue, 'claimed', '0001-alpha.md'), join(queue, 'failed', '0001-alpha.md'));
    sync.requestSync();
    await scheduler.tick();
    expect(cancelling).toEqual([1]);
  });

  it("never undoes a person's move to failed/ that the sync had not seen when the attempt ended, nor runs the task again", async () => {
    let offset = 0;
    const { orch, queue } = await queueWorld({
      // A person moves the file to failed/ while the attempt runs, and the attempt then fails on its own.
      // The agent plays that person, in the checkout a sandboxed run may not write: sandbox off.
      agent: (_dir, queuePath) => `mv "${queuePath}/claimed/"*-"$name".md "${queuePath}/failed/"\nexit 1`,
      project: { sandbox: 'off', max_attempts: 3, backoff: { base_s: 0.05, cap_s: 0.05, jitter: 0 } },
      now: () => Date.now() + offset,
    });
    // Unwatched and polled hourly: the sync does not see the move before the attempt ends.
    const sync = new TrackerSync(orch, { pollMs: 3_600_000 });
    sync.close();
    const scheduler = new Scheduler(orch, { trackers: sync, sourceEnv: { PATH: process.env.PATH } });
    await scheduler.tick();
    await scheduler.drainInFlight();
    expect((await orch.store.listTasks({ project: 'app' })).map((t) => [t.state, t.attempts])).toEqual([['routed', 1], ['routed', 1]]);
    await scheduler.reported();
    await sync.reportChanges();
    expect(readdirSync(join(queue, 'failed')).sort()).toEqual(['0001-alpha.md', '0002-beta.md']);
    expect(readdirSync(join(queue, 'claimed'))).toEqual([]);

    // The backoff is over: the next tick would start attempt 2.
    offset = 1000;
    await scheduler.tick();
    await scheduler.drainInFlight();
    await scheduler.reported();
    await sync.reportChanges();
    const tasks = await orch.store.listTasks({ project: 'app' });
    expect(tasks.map((t) => [t.state, t.attempts])).toEqual([['cancelled', 1], ['cancelled', 1]]);
    expect(await orch.store.listRuns({ project: 'app' })).toHaveLength(2);
    expect(readdirSync(join(queue, 'failed')).sort()).toEqual(['0001-alpha.md', '0002-beta.md']);
    expect(readdirSync(join(queue, 'claimed'))).toEqual([]);
    expect(readFileSync(join(queue, 'failed', '0001-alpha.md'), 'utf8')).toContain('- state: cancelled');
  });

  it('gives up a task whose file another taker claimed before it started, and leaves that file alone', async () => {
    const { orch, queue } = await queueWorld();
    const sync = new TrackerSync(orch);
    expect((await sync.syncDue())[0]!.created).toEqual([1, 2]);
    // Another scheduler sharing the queue takes alpha first.
    const { renameSync } = await import('node:fs');
    renameSync(join(queue, 'incoming', '0001-alpha.md'), join(queue, 'claimed', '0001-alpha.md'));
    const before = readFileSync(join(queue, 'claimed', '0001-alpha.md'), 'utf8');

    await runCycle(orch, { once: true, sourceEnv: { PATH: process.env.PATH } });
    expect((await orch.store.getTask(1))!).toMatchObject({ state: 'cancelled', attempts: 0 });
    expect((await orch.store.getTask(2))!.state).toBe('done');
    expect(readFileSync(join(queue, 'claimed', '0001-alpha.md'), 'utf8')).toBe(before);
    expect(readdirSync(join(queue, 'done'))).toEqual(['0002-beta.md']);
  });
});
