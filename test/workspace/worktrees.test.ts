import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import { diskUsage } from '../../src/workspace/disk-usage.js';
import { ensureClone } from '../../src/workspace/clone.js';
import { worktreesDir } from '../../src/workspace/layout.js';
import { adoptWorkerWorktree, createWorkerWorktree, createWorktree, createWorktrees, listWorktrees, prepareSpareWorktree, removeWorktree, spareWorktreePath, sweepOrphans } from '../../src/workspace/worktrees.js';
import { countGitStarts } from '../helpers/git-counter.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { commitFile } from './fixtures.js';

let scratch: { path: string; cleanup: () => void };
let clone: string;
let worktrees: string;

beforeEach(async () => {
  scratch = tempDir('orch-worktrees-');
  const home = join(scratch.path, 'home');
  const user = makeRepo(scratch.path, 'user');
  commitFile(user, 'README.md', '# app\n');
  clone = (await ensureClone(home, { name: 'app', path: user, remote: null, defaultBranch: 'main' })).path;
  worktrees = worktreesDir(home, 'app');
});
afterEach(() => scratch.cleanup());

/** A tree: `ref`'s, with `file` added at the top. */
function treeWith(repo: string, ref: string, file: string, content: string): string {
  const withInput = (args: string[], input: string) => execFileSync('git', args, { cwd: repo, input, encoding: 'utf8' }).trim();
  const blob = withInput(['hash-object', '-w', '--stdin'], content);
  return withInput(['mktree'], `${git(repo, ['ls-tree', ref])}\n100644 blob ${blob}\t${file}\n`);
}

const branches = () => git(clone, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/']).split('\n').filter(Boolean).sort();

describe('createWorktree', () => {
  it('branches a new worktree from the base, named by the task id', async () => {
    const worktree = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    expect(worktree).toEqual({ path: join(worktrees, '7'), branch: 'orch/7-fix-it', from: 'new_branch' });
    expect(git(worktree.path, ['branch', '--show-current'])).toBe('orch/7-fix-it');
    expect(git(worktree.path, ['rev-parse', 'HEAD'])).toBe(git(clone, ['rev-parse', 'main']));
    expect(readFileSync(join(worktree.path, 'README.md'), 'utf8')).toBe('# app\n');
    expect(git(worktree.path, ['status', '--porcelain'])).toBe('');
  });

  it('reuses the worktree of a retry, uncommitted work included', async () => {
    const first = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    writeFileSync(join(first.path, 'wip.txt'), 'half done\n');
    const again = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    expect(again).toEqual({ ...first, from: 'existing_worktree' });
    expect(readFileSync(join(again.path, 'wip.txt'), 'utf8')).toBe('half done\n');
  });

  it('checks the same branch out again when the worktree was removed', async () => {
    const first = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    const work = commitFile(first.path, 'done.txt', 'first attempt\n');
    await removeWorktree(clone, first.path, { deleteBranch: false });
    const again = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    expect(again.from).toBe('existing_branch');
    expect(git(again.path, ['rev-parse', 'HEAD'])).toBe(work);
  });

  it('replaces a leftover directory git does not know, and refuses a worktree on another branch', async () => {
    mkdirSync(join(worktrees, '8'), { recursive: true });
    writeFileSync(join(worktrees, '8', 'junk'), 'from a crash\n');
    const worktree = await createWorktree(clone, worktrees, 8, 'orch/8-a', 'main');
    expect(worktree.from).toBe('new_branch');
    expect(existsSync(join(worktree.path, 'junk'))).toBe(false);
    await expect(createWorktree(clone, worktrees, 8, 'orch/8-renamed', 'main')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('adds the worktree of a first attempt, or of a retry whose worktree is gone, without pruning or listing', async () => {
    const counter = countGitStarts(scratch.path);
    try {
      const first = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
      expect(first.from).toBe('new_branch');
      expect(counter.commands()).toEqual(['update-ref', 'worktree add']);
      await removeWorktree(clone, first.path, { deleteBranch: false });
      counter.reset();
      expect((await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main')).from).toBe('existing_branch');
      expect(counter.commands()).toEqual(['update-ref', 'worktree add']);
    } finally {
      counter.restore();
    }
  });

  it('clears the registration of a worktree whose directory was deleted behind git, keeping a new branch new', async () => {
    const first = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    const work = commitFile(first.path, 'done.txt', 'first attempt\n');
    rmSync(first.path, { recursive: true });
    const again = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    expect(again.from).toBe('existing_branch');
    expect(git(again.path, ['rev-parse', 'HEAD'])).toBe(work);

    // `worktree add -b` makes the branch before it finds the path taken; the attempt's branch is still new.
    rmSync(again.path, { recursive: true });
    git(clone, ['update-ref', '-d', 'refs/heads/orch/7-fix-it']);
    const fresh = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    expect(fresh.from).toBe('new_branch');
    expect(git(fresh.path, ['rev-parse', 'HEAD'])).toBe(git(clone, ['rev-parse', 'main']));
    expect((await listWorktrees(clone)).map((worktree) => worktree.path)).toEqual([fresh.path]);
  });

  it('refuses branch names and bases git would misread', async () => {
    for (const branch of ['-x', 'a..b', 'HEAD', 'x.lock', 'a b']) {
      await expect(createWorktree(clone, worktrees, 9, branch, 'main')).rejects.toBeInstanceOf(OrchError);
    }
    await expect(createWorktree(clone, worktrees, 9, 'orch/9-x', '--orphan')).rejects.toBeInstanceOf(OrchError);
    expect(existsSync(join(worktrees, '9'))).toBe(false);
  });
});

describe('the spare worktree', () => {
  const registered = async () => (await listWorktrees(clone)).map((w) => w.path).sort();

  it("becomes the next task's worktree: its branch from the current base, moved into place", async () => {
    await prepareSpareWorktree(clone, worktrees, 'main');
    const spare = spareWorktreePath(worktrees);
    expect(await registered()).toEqual([spare]);
    await prepareSpareWorktree(clone, worktrees, 'main'); // one is enough
    // The base moves after the spare was made (a merge): the task still starts from where it is now.
    const moved = git(clone, ['commit-tree', '-p', 'main', '-m', 'merged meanwhile', `${git(clone, ['rev-parse', 'main^{tree}'])}`]);
    git(clone, ['update-ref', 'refs/heads/main', moved]);

    const worktree = await createWorktree(clone, worktrees, 9, 'orch/9-from-spare', 'main');
    expect(worktree).toEqual({ path: join(worktrees, '9'), branch: 'orch/9-from-spare', from: 'new_branch' });
    expect(existsSync(spare)).toBe(false);
    expect(await registered()).toEqual([worktree.path]);
    expect(git(worktree.path, ['branch', '--show-current'])).toBe('orch/9-from-spare');
    expect(git(worktree.path, ['rev-parse', 'HEAD'])).toBe(moved);
    expect(git(worktree.path, ['status', '--porcelain'])).toBe('');
  });

  it('is moved into place while the base settles, and branched only from the settled base', async () => {
    await prepareSpareWorktree(clone, worktrees, 'main');
    let settle: (base: string) => void = () => undefined;
    const base = new Promise<string>((resolve) => (settle = resolve));
    const made = createWorktree(clone, worktrees, 5, 'orch/5-later', base);
    // The base moves while the task waits for it (a fetch brought a push): the task starts from there.
    const moved = git(clone, ['commit-tree', '-p', 'main', '-m', 'pushed meanwhile', `${git(clone, ['rev-parse', 'main^{tree}'])}`]);
    git(clone, ['update-ref', 'refs/heads/main', moved]);
    settle('main');
    const worktree = await made;
    expect(worktree).toEqual({ path: join(worktrees, '5'), branch: 'orch/5-later', from: 'new_branch' });
    expect(git(worktree.path, ['rev-parse', 'HEAD'])).toBe(moved);
    expect(await registered()).toEqual([worktree.path]);
  });

  it("keeps the task's branch on the commit its files were checked out from when a merge lands during the checkout", async () => {
    await prepareSpareWorktree(clone, worktrees, 'main');
    // main has moved past the spare, and moves again while the spare's files are being switched: a
    // smudge filter, run by git for each file it writes, lands a merge then (as another task would).
    const changed = git(clone, ['commit-tree', '-p', 'main', '-m', 'merged before', treeWith(clone, 'main', 'merged-before.txt', 'before\n')]);
    git(clone, ['update-ref', 'refs/heads/main', changed]);
    const during = git(clone, ['commit-tree', '-p', 'main', '-m', 'merged during', treeWith(clone, 'main', 'merged-during.txt', 'during\n')]);
    writeFileSync(join(clone, 'info', 'attributes'), 'merged-before.txt filter=lands\n');
    git(clone, ['config', 'filter.lands.smudge', `git --git-dir="${clone}" update-ref refs/heads/main ${during} && cat`]);

    const worktree = await createWorktree(clone, worktrees, 7, 'orch/7-raced', 'main');
    expect(git(clone, ['rev-parse', 'refs/heads/main'])).toBe(during);
    // The branch is where the files came from; the task's commit will not undo the merge that landed meanwhile.
    expect(git(worktree.path, ['rev-parse', 'HEAD'])).toBe(changed);
    expect(git(worktree.path, ['status', '--porcelain'])).toBe('');
  });

  it('is not left in the task\'s place when the base cannot be settled', async () => {
    await prepareSpareWorktree(clone, worktrees, 'main');
    await expect(createWorktree(clone, worktrees, 6, 'orch/6-x', Promise.reject(new Error('the remote is down')))).rejects.toThrow('the remote is down');
    expect(existsSync(join(worktrees, '6'))).toBe(false);
    expect(await registered()).toEqual([]);
    // The next attempt makes its worktree the usual way.
    expect((await createWorktree(clone, worktrees, 6, 'orch/6-x', 'main')).from).toBe('new_branch');
  });

  it('checks out the existing branch of a retry, and writes whole what a kill left half made', async () => {
    const first = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    const work = commitFile(first.path, 'done.txt', 'first attempt\n');
    await removeWorktree(clone, first.path, { deleteBranch: false });
    await prepareSpareWorktree(clone, worktrees, 'main');
    // As if Orch died while checking the spare out: a file missing, another half written.
    rmSync(join(spareWorktreePath(worktrees), 'README.md'));
    const again = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    expect(again.from).toBe('existing_branch');
    expect(git(again.path, ['rev-parse', 'HEAD'])).toBe(work);
    expect(readFileSync(join(again.path, 'README.md'), 'utf8')).toBe('# app\n');
    expect(git(again.path, ['status', '--porcelain'])).toBe('');
  });

  it('is dropped, never half used, when it is no worktree of the clone, and the worktree is made the usual way', async () => {
    // ORCH_HOME inside someone's repository: git run in a stray spare directory would act on that one.
    const enclosing = scratch.path;
    git(enclosing, ['init', '-q', '-b', 'theirs']);
    git(enclosing, ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'theirs']);
    mkdirSync(spareWorktreePath(worktrees), { recursive: true });
    writeFileSync(join(spareWorktreePath(worktrees), 'junk'), 'not a worktree\n');
    const worktree = await createWorktree(clone, worktrees, 4, 'orch/4-a', 'main');
    expect(git(enclosing, ['for-each-ref', '--format=%(refname)'])).toBe('refs/heads/theirs');
    expect(git(enclosing, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/theirs');
    expect(worktree.from).toBe('new_branch');
    expect(existsSync(spareWorktreePath(worktrees))).toBe(false);
    expect(existsSync(join(worktree.path, 'junk'))).toBe(false);
    expect(git(worktree.path, ['status', '--porcelain'])).toBe('');
  });

  it('is kept by the sweep', async () => {
    await prepareSpareWorktree(clone, worktrees, 'main');
    const report = await sweepOrphans(clone, worktrees, new Set());
    expect(report.worktrees).toEqual([]);
    expect(await registered()).toEqual([spareWorktreePath(worktrees)]);
  });
});

describe('createWorktrees', () => {
  it('makes the worktrees of tasks starting together side by side, each on its own branch, a retry\'s and a crash\'s leftovers included', async () => {
    const retry = await createWorktree(clone, worktrees, 3, 'orch/3-retry', 'main');
    writeFileSync(join(retry.path, 'wip.txt'), 'half done\n');
    const removed = await createWorktree(clone, worktrees, 4, 'orch/4-again', 'main');
    const work = commitFile(removed.path, 'done.txt', 'first attempt\n');
    await removeWorktree(clone, removed.path, { deleteBranch: false });
    mkdirSync(join(worktrees, '5'), { recursive: true });
    writeFileSync(join(worktrees, '5', 'junk'), 'from a crash\n');
    await prepareSpareWorktree(clone, worktrees, 'main');
    const fresh = Array.from({ length: 8 }, (_, i) => ({ taskId: 10 + i, branch: `orch/${10 + i}-new` }));
    const requests = [{ taskId: 3, branch: 'orch/3-retry' }, { taskId: 4, branch: 'orch/4-again' }, { taskId: 5, branch: 'orch/5-leftover' }, ...fresh, { taskId: 20, branch: 'orch/20 bad' }];

    const made = await createWorktrees(clone, worktrees, requests, Promise.resolve('main'));
    expect(made.map((m) => m.status)).toEqual([...requests.slice(0, -1).map(() => 'fulfilled'), 'rejected']);
    const values = made.flatMap((m) => (m.status === 'fulfilled' ? [m.value] : []));
    expect(values.map((w) => w.from)).toEqual(['existing_worktree', 'existing_branch', 'new_branch', ...fresh.map(() => 'new_branch')]);
    // Never two tasks in one worktree or on one branch: each where its id says, on the branch it asked for.
    for (const [index, worktree] of values.entries()) {
      expect(worktree.path).toBe(join(worktrees, String(requests[index]!.taskId)));
      expect(git(worktree.path, ['branch', '--show-current'])).toBe(requests[index]!.branch);
    }
    const listed = await listWorktrees(clone);
    expect(listed.map((w) => w.path).sort()).toEqual(values.map((w) => w.path).sort());
    expect(new Set(listed.map((w) => w.branch)).size).toBe(values.length);
    // The spare went to one of them.
    expect(existsSync(spareWorktreePath(worktrees))).toBe(false);
    expect(readFileSync(join(retry.path, 'wip.txt'), 'utf8')).toBe('half done\n');
    expect(git(join(worktrees, '4'), ['rev-parse', 'HEAD'])).toBe(work);
    expect(existsSync(join(worktrees, '5', 'junk'))).toBe(false);
    for (const { taskId } of fresh) {
      expect(git(join(worktrees, String(taskId)), ['rev-parse', 'HEAD'])).toBe(git(clone, ['rev-parse', 'main']));
      expect(git(join(worktrees, String(taskId)), ['status', '--porcelain'])).toBe('');
    }
  });
  it('tells a new branch from one a retry left, when the branches are made together', async () => {
    const first = await createWorktree(clone, worktrees, 6, 'orch/6-again', 'main');
    const work = commitFile(first.path, 'done.txt', 'first attempt\n');
    await removeWorktree(clone, first.path, { deleteBranch: false });
    const requests = [{ taskId: 1, branch: 'orch/1-new' }, { taskId: 2, branch: 'orch/2-new' }, { taskId: 6, branch: 'orch/6-again' }, { taskId: 7, branch: 'orch/7-new' }];
    const made = await createWorktrees(clone, worktrees, requests, 'main');
    expect(made.map((m) => (m.status === 'fulfilled' ? m.value.from : m.reason))).toEqual(['new_branch', 'new_branch', 'existing_branch', 'new_branch']);
    expect(git(join(worktrees, '6'), ['rev-parse', 'HEAD'])).toBe(work);
    expect(git(join(worktrees, '7'), ['rev-parse', 'HEAD'])).toBe(git(clone, ['rev-parse', 'main']));
  });
  it('tells each task its worktree as soon as it is made, the first before the last is begun', async () => {
    const requests = Array.from({ length: 4 }, (_, i) => ({ taskId: 30 + i, branch: `orch/${30 + i}-early` }));
    const told: { index: number; madeSoFar: string[] }[] = [];
    const madeSoFar = () => requests.map(({ taskId }) => String(taskId)).filter((id) => existsSync(join(worktrees, id)));
    const made = await createWorktrees(clone, worktrees, requests, 'main', (index, outcome) => {
      expect(outcome.status).toBe('fulfilled');
      told.push({ index, madeSoFar: madeSoFar() });
    });
    expect(told.map((t) => t.index)).toEqual([0, 1, 2, 3]);
    // When the first was told, the last had not been started: a task need not wait for the others'.
    expect(told[0]!.madeSoFar).toEqual(['30']);
    expect(made.every((m) => m.status === 'fulfilled')).toBe(true);
  });
});

describe('removeWorktree and listWorktrees', () => {
  it('lists linked worktrees and removes one with its changes, deleting its branch when asked', async () => {
    const a = await createWorktree(clone, worktrees, 1, 'orch/1-a', 'main');
    const b = await createWorktree(clone, worktrees, 2, 'orch/2-b', 'main');
    const listed = await listWorktrees(clone);
    expect(listed.map((worktree) => [worktree.path, worktree.branch])).toEqual([
      [a.path, 'refs/heads/orch/1-a'],
      [b.path, 'refs/heads/orch/2-b'],
    ]);
    expect(listed[0]?.head).toBe(git(clone, ['rev-parse', 'main']));

    writeFileSync(join(a.path, 'README.md'), 'changed\n');
    expect(await removeWorktree(clone, a.path, { deleteBranch: false })).toEqual({ removed: true, deletedBranch: null });
    expect(await removeWorktree(clone, b.path, { deleteBranch: true })).toEqual({ removed: true, deletedBranch: 'orch/2-b' });
    expect(existsSync(a.path) || existsSync(b.path)).toBe(false);
    expect(branches()).toEqual(['main', 'orch/1-a']);
    expect(await listWorktrees(clone)).toEqual([]);
    expect(await removeWorktree(clone, a.path, { deleteBranch: true })).toEqual({ removed: false, deletedBranch: null });
  });
});

describe('sweepOrphans', () => {
  it("removes the worktrees, directories and orch branches of tasks that are not live, and nothing else", async () => {
    const live = await createWorktree(clone, worktrees, 1, 'orch/1-live', 'main');
    writeFileSync(join(live.path, 'wip.txt'), 'keep\n');
    const orphanA = await createWorktree(clone, worktrees, 2, 'orch/2-orphan', 'main');
    commitFile(orphanA.path, 'a.txt', 'a\n');
    await createWorktree(clone, worktrees, 3, 'orch/3-orphan', 'main');
    git(clone, ['branch', 'orch/4-branch-only', 'main']);
    git(clone, ['branch', 'orch/1-older-name-of-live', 'main']);
    git(clone, ['branch', 'feature', 'main']);
    mkdirSync(join(worktrees, '5'));
    mkdirSync(join(worktrees, 'notes'));
    const elsewhere = join(scratch.path, 'elsewhere', '6');
    git(clone, ['worktree', 'add', '-q', '-b', 'orch/6-elsewhere', elsewhere, 'main']);

    const report = await sweepOrphans(clone, worktrees, new Set([1]));
    expect(report).toEqual({
      worktrees: [join(worktrees, '2'), join(worktrees, '3')],
      directories: [join(worktrees, '5')],
      branches: ['orch/2-orphan', 'orch/3-orphan', 'orch/4-branch-only'],
    });
    expect(readFileSync(join(live.path, 'wip.txt'), 'utf8')).toBe('keep\n');
    expect(existsSync(join(worktrees, 'notes')) && existsSync(elsewhere)).toBe(true);
    expect(branches()).toEqual(['feature', 'main', 'orch/1-live', 'orch/1-older-name-of-live', 'orch/6-elsewhere']);
    expect((await listWorktrees(clone)).map((worktree) => worktree.path).sort()).toEqual([elsewhere, live.path].sort());
    expect(await sweepOrphans(clone, worktrees, new Set([1]))).toEqual({ worktrees: [], directories: [], branches: [] });
  });

  it('forgets worktrees whose directory was deleted behind git', async () => {
    const gone = await createWorktree(clone, worktrees, 2, 'orch/2-gone', 'main');
    rmSync(gone.path, { recursive: true });
    const report = await sweepOrphans(clone, worktrees, new Set());
    expect(report).toEqual({ worktrees: [], directories: [], branches: ['orch/2-gone'] });
    expect(await listWorktrees(clone)).toEqual([]);
  });
});

describe('pull worker worktrees', () => {
  it('starts a worker on a fresh branch of its own, replacing what a crashed namesake left', async () => {
    const first = await createWorkerWorktree(clone, worktrees, 3, 'main');
    expect(first).toEqual({ path: join(worktrees, 'w3'), branch: 'orch/w3' });
    commitFile(first.path, 'stale.txt', 'from a crash\n');
    const again = await createWorkerWorktree(clone, worktrees, 3, 'main');
    expect(git(again.path, ['branch', '--show-current'])).toBe('orch/w3');
    expect(git(again.path, ['rev-parse', 'HEAD'])).toBe(git(clone, ['rev-parse', 'main']));
    expect(existsSync(join(again.path, 'stale.txt'))).toBe(false);
  });

  it("hands a worker's worktree and commits to the task it claimed, replacing an earlier attempt's", async () => {
    const earlier = await createWorktree(clone, worktrees, 7, 'orch/7-fix-it', 'main');
    commitFile(earlier.path, 'old.txt', 'earlier attempt\n');
    const worker = await createWorkerWorktree(clone, worktrees, 2, 'main');
    const work = commitFile(worker.path, 'new.txt', 'this attempt\n');
    writeFileSync(join(worker.path, 'loose.txt'), 'not committed yet\n');

    const adopted = await adoptWorkerWorktree(clone, worker.path, worktrees, 7, 'orch/7-fix-it');
    expect(adopted).toEqual({ path: join(worktrees, '7'), branch: 'orch/7-fix-it', from: 'new_branch' });
    expect(git(adopted.path, ['branch', '--show-current'])).toBe('orch/7-fix-it');
    expect(git(adopted.path, ['rev-parse', 'HEAD'])).toBe(work);
    expect(readFileSync(join(adopted.path, 'loose.txt'), 'utf8')).toBe('not committed yet\n');
    expect(existsSync(join(adopted.path, 'old.txt'))).toBe(false);
    expect(existsSync(worker.path)).toBe(false);
    expect(branches()).toEqual(['main', 'orch/7-fix-it']);
    expect((await listWorktrees(clone)).map((w) => w.path)).toEqual([adopted.path]);
  });

  it('are swept once their worker no longer runs', async () => {
    const live = await createWorkerWorktree(clone, worktrees, 1, 'main');
    const gone = await createWorkerWorktree(clone, worktrees, 2, 'main');
    const report = await sweepOrphans(clone, worktrees, new Set(), new Set([1]));
    expect(report.worktrees).toEqual([gone.path]);
    expect(report.branches).toEqual(['orch/w2']);
    expect(existsSync(live.path)).toBe(true);
    expect(branches()).toEqual(['main', 'orch/w1']);
  });
});

describe('diskUsage', () => {
  it('adds up allocated bytes, each hard-linked file once; 0 for a missing directory', async () => {
    const dir = join(scratch.path, 'usage');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    writeFileSync(join(dir, 'nested', 'big.bin'), Buffer.alloc(256 * 1024, 1));
    const once = await diskUsage(dir);
    expect(once).toBeGreaterThanOrEqual(256 * 1024);
    linkSync(join(dir, 'nested', 'big.bin'), join(dir, 'link.bin'));
    expect(await diskUsage(dir)).toBeLessThan(once + 64 * 1024);
    expect(await diskUsage(join(scratch.path, 'missing'))).toBe(0);
  });
});

describe('a spare left detached in the task\'s place by a crash', () => {
  it('is made again on the task\'s branch, keeping what the branch holds', async () => {
    const first = await createWorktree(clone, worktrees, 9, 'orch/9-task', 'main');
    commitFile(first.path, 'done.txt', 'work\n');
    git(clone, ['worktree', 'remove', '--force', first.path]);
    // As an Orch killed between moving the spare in and switching it leaves it: detached, in the task's place.
    git(clone, ['worktree', 'add', '--quiet', '--detach', first.path, 'main']);
    const again = await createWorktree(clone, worktrees, 9, 'orch/9-task', 'main');
    expect(again).toMatchObject({ path: first.path, branch: 'orch/9-task', from: 'existing_branch' });
    expect(git(again.path, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('orch/9-task');
    expect(readFileSync(join(again.path, 'done.txt'), 'utf8')).toBe('work\n');
  });
});

describe('a worktree left mid-rebase by a crash', () => {
  it('is put back on its branch when the task is tried again', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const { createWorktree } = await import('../../src/workspace/worktrees.js');
    const dir = mkdtempSync(join(tmpdir(), 'orch-midrebase-'));
    const run = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim();
    try {
      const clone = join(dir, 'repo.git');
      run(dir, 'init', '-q', '--bare', '-b', 'main', clone);
      const seed = join(dir, 'seed');
      run(dir, 'init', '-q', '-b', 'main', seed);
      writeFileSync(join(seed, 'f.txt'), 'one\n');
      run(seed, 'add', '-A');
      run(seed, 'commit', '-q', '-m', 'one');
      run(seed, 'push', '-q', clone, 'main');
      const worktrees = join(dir, 'worktrees');
      const first = await createWorktree(clone, worktrees, 7, 'orch/7-x', 'main');
      writeFileSync(join(first.path, 'f.txt'), 'task\n');
      run(first.path, 'commit', '-q', '-am', 'task');
      writeFileSync(join(seed, 'f.txt'), 'main moved\n');
      run(seed, 'commit', '-q', '-am', 'moved');
      run(seed, 'push', '-q', clone, 'main');
      // The rebase stops on the conflict, as when Orch was killed during a merge.
      expect(() => run(first.path, 'rebase', 'main')).toThrow();
      const again = await createWorktree(clone, worktrees, 7, 'orch/7-x', 'main');
      expect(again.from).toBe('existing_worktree');
      expect(run(first.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('orch/7-x');
      expect(run(first.path, 'log', '-1', '--format=%s')).toBe('task');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
