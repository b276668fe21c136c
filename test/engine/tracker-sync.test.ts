import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { TrackerSync } from '../../src/engine/tracker-sync.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const taskFile = (title: string, role: string, priority: string) =>
  [`# ${title}`, '', `ROLE: ${role}`, `PRIORITY: ${priority}`, 'CREATED: 2026-11-01T10:00:00Z', 'CREATED_BY: pm', '', '## Context', `Write ${title}.`, '', '## Acceptance Criteria', '- [ ] the file exists', ''].join('\n');

async function queueWorld(): Promise<{ orch: Orch; repo: string; queue: string }> {
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
  writeFileSync(agent, '#!/bin/sh\nname=$(grep -m 1 "^# Task #" "$ORCH_PROMPT_FILE" | sed "s/.*: //")\necho "$name" > "$name.txt"\necho done\n');
  chmodSync(agent, 0o755);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { writer: { kind: 'command', command: agent } },
      projects: { app: { path: repo, default_branch: 'main', agents: ['writer'], tracker: { kind: 'markdown', dir: 'queue' } } },
    }),
  );
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, repo, queue };
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
