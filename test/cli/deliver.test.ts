import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HeldDelivery } from '../../src/core/delivery.js';
import { orch as runOrch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

// A task merged while the person's checkout had an unsaved edit: its delivery is held. The CLI says so
// and delivers it once the checkout is clean, without another task having to merge.

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });
const WHY = 'changes in your checkout of main are in the way (Working directory has unstaged changes): commit or stash them';

beforeEach(() => {
  scratch = tempDir('orch-cli-deliver-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  writeFileSync(join(repo, 'app.txt'), 'version 1\n');
  git(repo, ['add', 'app.txt']);
  git(repo, ['commit', '-q', '-m', 'app']);
  mkdirSync(home);
  const agent = join(scratch.path, 'agent.sh');
  writeFileSync(agent, '#!/bin/sh\necho "hello" > "hello-$ORCH_TASK_ID.txt"\necho "wrote the file"\n');
  chmodSync(agent, 0o755);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { script: { kind: 'command', command: agent } }, projects: { app: { path: repo, agents: ['script'] } } }));
});
afterEach(() => scratch.cleanup());

/** `orch run --once` on one task while app.txt has an unsaved edit. */
function mergeWhileDirty(): void {
  writeFileSync(join(repo, 'app.txt'), 'my unsaved work\n');
  expect(orch('task', 'add', 'Say hello').code).toBe(0);
  const run = orch('run', '--once');
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain('✓ #1 done');
  // Tried once more before it ended: still dirty, and it says why.
  expect(run.stdout).toContain(`! app: 1 commit waiting for your checkout: ${WHY}`);
  expect(existsSync(join(repo, 'hello-1.txt'))).toBe(false);
}

describe('a held delivery from the CLI', () => {
  it('is shown by orch status and orch project status, refused by orch deliver while dirty, and delivered once clean', () => {
    mergeWhileDirty();
    const status = orch('status');
    expect(status.stdout).toContain(`app: 1 commit waiting for your checkout: ${WHY}`);
    const statusJson = orch('status', '--json').json<{ projects: { name: string; delivery: HeldDelivery | null }[] }>();
    expect(statusJson.projects[0]?.delivery).toMatchObject({ commits: 1, reason: 'dirty_checkout', branch: 'main' });
    expect(orch('project', 'status', 'app').stdout).toContain(`  delivery    1 commit waiting for your checkout: ${WHY}`);
    expect(orch('project', 'status', 'app', '--json').json<{ delivery: HeldDelivery }>().delivery).toMatchObject({ commits: 1 });

    const refused = orch('deliver');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toBe(`orch: app: 1 commit waiting for your checkout: ${WHY}\n`);
    const refusedJson = orch('deliver', 'app', '--json');
    expect(refusedJson.code).toBe(4);
    expect(refusedJson.json<{ deliveries: unknown[] }>().deliveries).toEqual([
      expect.objectContaining({ project: 'app', commits: 1, result: expect.objectContaining({ delivered: false, reason: 'dirty_checkout' }) }),
    ]);
    expect(orch('deliver', 'nope').code).toBe(3);
    expect(git(repo, ['status', '--porcelain'])).toBe('M app.txt');

    git(repo, ['checkout', '--', 'app.txt']);
    const delivered = orch('deliver');
    expect(delivered.code, delivered.stderr).toBe(0);
    expect(delivered.stdout).toBe('app: delivered 1 commit\n');
    expect(git(repo, ['show', 'main:hello-1.txt'])).toBe('hello');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    expect(orch('status').stdout).not.toContain('waiting for your checkout');
    expect(orch('project', 'status', 'app', '--json').json<{ delivery: null }>().delivery).toBeNull();
    const again = orch('deliver', '--json');
    expect(again.code).toBe(0);
    expect(again.json()).toEqual({ deliveries: [{ project: 'app', commits: 0, result: { delivered: true }, held: null }] });
  });

  it('is delivered by orch run --once before it ends, with no task to run', () => {
    mergeWhileDirty();
    git(repo, ['checkout', '--', 'app.txt']);
    const run = orch('run', '--once');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('⇣ app: delivered 1 held commit(s)');
    expect(git(repo, ['show', 'main:hello-1.txt'])).toBe('hello');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  });
});
