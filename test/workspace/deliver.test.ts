import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureClone } from '../../src/workspace/clone.js';
import { deliverBranch, interpretPush, pushBranch, undeliveredCommits } from '../../src/workspace/deliver.js';
import { worktreesDir } from '../../src/workspace/layout.js';
import { createWorktree } from '../../src/workspace/worktrees.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { commitFile, eventually, snapshotTree } from './fixtures.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let user: string;
let clone: string;

beforeEach(async () => {
  scratch = tempDir('orch-deliver-');
  home = join(scratch.path, 'home');
  user = makeRepo(scratch.path, 'user');
  commitFile(user, 'app.txt', 'version 1\n');
  clone = (await ensureClone(home, { name: 'app', path: user, remote: null, defaultBranch: 'main' })).path;
});
afterEach(() => scratch.cleanup());

/** A task's commit merged into the clone's main, as the refinery leaves it. Returns the new main. */
async function mergeTask(taskId: number, file: string, content: string): Promise<string> {
  const worktree = await createWorktree(clone, worktreesDir(home, 'app'), taskId, `orch/${taskId}-task`, 'main');
  const commit = commitFile(worktree.path, file, content);
  git(clone, ['update-ref', 'refs/heads/main', commit]);
  return commit;
}

const workingFiles = (repo: string) => snapshotTree(repo, (path) => path === '.git');
const userHead = () => git(user, ['rev-parse', 'main']);

describe('deliverBranch into a bare remote', () => {
  it('fast-forwards the branch', async () => {
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['clone', '-q', '--bare', user, remote]);
    const merged = await mergeTask(1, 'app.txt', 'version 2\n');
    expect(await deliverBranch(clone, { remote }, 'main')).toEqual({ delivered: true });
    expect(git(remote, ['rev-parse', 'main'])).toBe(merged);
    expect(await deliverBranch(clone, { remote }, 'main')).toEqual({ delivered: true });
  });

  it('counts what the remote lacks from the clone alone, right after a delivery too', async () => {
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['clone', '-q', '--bare', user, remote]);
    const remoteClone = (await ensureClone(join(scratch.path, 'home2'), { name: 'app', path: null, remote, defaultBranch: 'main' })).path;
    const worktree = await createWorktree(remoteClone, join(scratch.path, 'worktrees2'), 1, 'orch/1-task', 'main');
    commitFile(worktree.path, 'one.txt', 'one\n');
    git(remoteClone, ['update-ref', 'refs/heads/main', commitFile(worktree.path, 'two.txt', 'two\n')]);
    expect(await undeliveredCommits(remoteClone, { remote }, 'main')).toBe(2);
    expect(await deliverBranch(remoteClone, { remote }, 'main')).toEqual({ delivered: true });
    expect(await undeliveredCommits(remoteClone, { remote }, 'main')).toBe(0);
  });
});

describe('undeliveredCommits into a checkout', () => {
  it("counts the clone's commits the user's branch lacks, also once the person has committed on it", async () => {
    expect(await undeliveredCommits(clone, { repoPath: user }, 'main')).toBe(0);
    await mergeTask(1, 'task.txt', 'task\n');
    expect(await undeliveredCommits(clone, { repoPath: user }, 'main')).toBe(1);
    commitFile(user, 'mine.txt', 'mine\n');
    expect(await undeliveredCommits(clone, { repoPath: user }, 'main')).toBe(1);
    expect(await undeliveredCommits(clone, { repoPath: join(scratch.path, 'missing') }, 'main')).toBe(1);
  });
});

describe("deliverBranch into the user's repository with the branch checked out", () => {
  it('updates a clean working tree along with the branch', async () => {
    const merged = await mergeTask(1, 'app.txt', 'version 2\n');
    expect(await deliverBranch(clone, { repoPath: user }, 'main')).toEqual({ delivered: true });
    expect(userHead()).toBe(merged);
    expect(readFileSync(join(user, 'app.txt'), 'utf8')).toBe('version 2\n');
    expect(git(user, ['status', '--porcelain'])).toBe('');
  });

  it('is refused as dirty_checkout when a tracked file is modified, leaving every file as it was', async () => {
    const before = userHead();
    await mergeTask(1, 'app.txt', 'version 2\n');
    writeFileSync(join(user, 'app.txt'), 'my unsaved work\n');
    const files = workingFiles(user);
    const result = await deliverBranch(clone, { repoPath: user }, 'main');
    expect(result).toMatchObject({ delivered: false, reason: 'dirty_checkout' });
    expect(result.delivered === false && result.message).toMatch(/unstaged changes/);
    expect(workingFiles(user)).toEqual(files);
    expect(userHead()).toBe(before);
  });

  it('is refused as dirty_checkout when changes are staged', async () => {
    await mergeTask(1, 'other.txt', 'new\n');
    writeFileSync(join(user, 'app.txt'), 'staged work\n');
    git(user, ['add', 'app.txt']);
    const files = workingFiles(user);
    expect(await deliverBranch(clone, { repoPath: user }, 'main')).toMatchObject({ delivered: false, reason: 'dirty_checkout' });
    expect(workingFiles(user)).toEqual(files);
    expect(git(user, ['diff', '--cached', '--name-only'])).toBe('app.txt');
  });

  it('is delivered past an untracked file, which stays untouched', async () => {
    const merged = await mergeTask(1, 'app.txt', 'version 2\n');
    writeFileSync(join(user, 'notes.txt'), 'my notes\n');
    expect(await deliverBranch(clone, { repoPath: user }, 'main')).toEqual({ delivered: true });
    expect(userHead()).toBe(merged);
    expect(readFileSync(join(user, 'notes.txt'), 'utf8')).toBe('my notes\n');
    expect(git(user, ['status', '--porcelain'])).toBe('?? notes.txt');
  });

  it('is refused as dirty_checkout when an untracked file is in the way of an incoming one', async () => {
    await mergeTask(1, 'notes.txt', 'from the task\n');
    writeFileSync(join(user, 'notes.txt'), 'my notes\n');
    expect(await deliverBranch(clone, { repoPath: user }, 'main')).toMatchObject({ delivered: false, reason: 'dirty_checkout' });
    expect(readFileSync(join(user, 'notes.txt'), 'utf8')).toBe('my notes\n');
  });
});

describe('deliverBranch when the branch moves while the push is under way', () => {
  it('puts back what the push wrote into the checkout when it could not move the branch', async () => {
    // The first push waits in its hook until the second has read the branch and reached its own hook,
    // then lands while the second waits there; the second then writes the working tree and index and
    // fails to move the branch.
    const signals = join(scratch.path, 'signals');
    const hook = join(user, '.git', 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      [
        '#!/bin/sh',
        `if mkdir '${signals}' 2>/dev/null; then`,
        `  while [ ! -e '${signals}/second' ]; do sleep 0.05; done`,
        'else',
        `  touch '${signals}/second'; sleep 2`,
        'fi',
        '',
      ].join('\n'),
    );
    chmodSync(hook, 0o755);
    const other = join(scratch.path, 'other.git');
    git(scratch.path, ['clone', '-q', '--bare', clone, other]);
    const first = await mergeTask(1, 'first.txt', 'first\n');
    git(other, ['fetch', '-q', clone, 'main:main']);
    const second = await mergeTask(2, 'second.txt', 'second\n');

    const firstPush = deliverBranch(other, { repoPath: user }, 'main');
    expect(await eventually(() => existsSync(signals))).toBe(true);
    const secondPush = await deliverBranch(clone, { repoPath: user }, 'main');

    expect(await firstPush).toEqual({ delivered: true });
    expect(secondPush).toMatchObject({ delivered: false, reason: 'other' });
    expect(secondPush.delivered === false && secondPush.message).toMatch(/cannot lock ref.*; the files the push had written into your checkout were put back$/);
    expect(userHead()).toBe(first);
    expect(git(user, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(existsSync(join(user, 'second.txt'))).toBe(false);
    // Once the way is clear the same delivery lands.
    expect(await deliverBranch(clone, { repoPath: user }, 'main')).toEqual({ delivered: true });
    expect(userHead()).toBe(second);
  });
});

describe("deliverBranch into the user's repository, other cases", () => {
  it('moves only the branch when the user has another one checked out', async () => {
    git(user, ['checkout', '-q', '-b', 'feature']);
    writeFileSync(join(user, 'app.txt'), 'edits on feature\n');
    const files = workingFiles(user);
    const merged = await mergeTask(1, 'app.txt', 'version 2\n');
    expect(await deliverBranch(clone, { repoPath: user }, 'main')).toEqual({ delivered: true });
    expect(userHead()).toBe(merged);
    expect(git(user, ['branch', '--show-current'])).toBe('feature');
    expect(workingFiles(user)).toEqual(files);
  });

  it('refuses a push that is not a fast-forward and changes nothing', async () => {
    await mergeTask(1, 'task.txt', 'task\n');
    const theirs = commitFile(user, 'user.txt', 'the user moved on\n');
    const files = workingFiles(user);
    const result = await deliverBranch(clone, { repoPath: user }, 'main');
    expect(result).toMatchObject({ delivered: false, reason: 'not_fast_forward' });
    expect(userHead()).toBe(theirs);
    expect(workingFiles(user)).toEqual(files);
  });

  it('reports an unreachable target as other, and refuses arguments git would misread', async () => {
    const result = await deliverBranch(clone, { repoPath: join(scratch.path, 'missing') }, 'main');
    expect(result).toMatchObject({ delivered: false, reason: 'other' });
    expect(result.delivered === false && result.message.length).toBeGreaterThan(0);
    await expect(deliverBranch(clone, { repoPath: user }, '--all')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(deliverBranch(clone, { remote: '--mirror' }, 'main')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(deliverBranch(clone, { repoPath: 'relative' }, 'main')).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('pushBranch', () => {
  it('pushes a task branch; rewriting it needs force', async () => {
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['init', '-q', '--bare', remote]);
    const worktree = await createWorktree(clone, worktreesDir(home, 'app'), 3, 'orch/3-task', 'main');
    const first = commitFile(worktree.path, 'a.txt', 'a\n');
    expect(await pushBranch(clone, remote, 'orch/3-task', { force: false })).toEqual({ delivered: true });
    expect(git(remote, ['rev-parse', 'orch/3-task'])).toBe(first);

    git(worktree.path, ['commit', '-q', '--amend', '-m', 'rebased']);
    const rewritten = git(worktree.path, ['rev-parse', 'HEAD']);
    expect(await pushBranch(clone, remote, 'orch/3-task', { force: false })).toMatchObject({
      delivered: false,
      reason: 'not_fast_forward',
    });
    expect(await pushBranch(clone, remote, 'orch/3-task', { force: true })).toEqual({ delivered: true });
    expect(git(remote, ['rev-parse', 'orch/3-task'])).toBe(rewritten);
  });

  it('with a lease, replaces the branch only while it is still at the commit given', async () => {
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['init', '-q', '--bare', remote]);
    const worktree = await createWorktree(clone, worktreesDir(home, 'app'), 4, 'orch/4-task', 'main');
    const first = commitFile(worktree.path, 'a.txt', 'a\n');
    expect(await pushBranch(clone, remote, 'orch/4-task', { force: false })).toEqual({ delivered: true });
    git(worktree.path, ['commit', '-q', '--amend', '-m', 'rebased']);
    const rewritten = git(worktree.path, ['rev-parse', 'HEAD']);

    // Someone else's idea of the branch: refused, and the remote keeps its commit.
    expect(await pushBranch(clone, remote, 'orch/4-task', { force: false, lease: rewritten })).toMatchObject({ delivered: false, reason: 'not_fast_forward' });
    expect(git(remote, ['rev-parse', 'orch/4-task'])).toBe(first);
    expect(await pushBranch(clone, remote, 'orch/4-task', { force: false, lease: first })).toEqual({ delivered: true });
    expect(git(remote, ['rev-parse', 'orch/4-task'])).toBe(rewritten);
  });
});

describe('interpretPush', () => {
  const ref = 'refs/heads/main';
  const outcome = (ok: boolean, stdout: string, stderr = '') => ({ ok, exitCode: ok ? 0 : 1, stdout, stderr });
  it("reads git's porcelain lines", () => {
    expect(interpretPush(outcome(true, `To x\n \t${ref}:${ref}\taaa..bbb\nDone\n`), ref)).toEqual({ delivered: true });
    expect(interpretPush(outcome(true, `To x\n=\t${ref}:${ref}\t[up to date]\nDone\n`), ref)).toEqual({ delivered: true });
    expect(interpretPush(outcome(false, `To x\n!\t${ref}:${ref}\t[rejected] (non-fast-forward)\nDone\n`), ref)).toMatchObject({
      reason: 'not_fast_forward',
    });
    expect(
      interpretPush(outcome(false, `!\t${ref}:${ref}\t[remote rejected] (Working directory has staged changes)\n`), ref),
    ).toMatchObject({ reason: 'dirty_checkout', message: '[remote rejected] (Working directory has staged changes)' });
    expect(
      interpretPush(outcome(false, `!\t${ref}:${ref}\t[remote rejected] (pre-receive hook declined)\n`, 'remote: no\nhint: x\n'), ref),
    ).toEqual({ delivered: false, reason: 'other', message: '[remote rejected] (pre-receive hook declined); remote: no' });
    expect(interpretPush(outcome(false, '', "fatal: '/x' does not appear to be a git repository\n"), ref)).toMatchObject({
      reason: 'other',
      message: "fatal: '/x' does not appear to be a git repository",
    });
  });
});
