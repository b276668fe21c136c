import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OrchError } from '../../src/core/errors.js';
import { ensureClone, type CloneProject } from '../../src/workspace/clone.js';
import { clonePath, worktreesDir } from '../../src/workspace/layout.js';
import { createWorktree, removeWorktree } from '../../src/workspace/worktrees.js';
import { countGitStarts } from '../helpers/git-counter.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { commitFile, snapshotTree } from './fixtures.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let user: string;
let project: CloneProject;

beforeEach(() => {
  scratch = tempDir('orch-clone-');
  home = join(scratch.path, 'home');
  user = makeRepo(scratch.path, 'user');
  commitFile(user, 'README.md', '# app\n');
  project = { name: 'app', path: user, remote: null, defaultBranch: 'main' };
});
afterEach(() => scratch.cleanup());

const head = (repo: string, ref: string) => git(repo, ['rev-parse', ref]);

describe('ensureClone', () => {
  it("makes a bare clone of a local repository with the default branch, its tracking ref and Orch's identity", async () => {
    const clone = await ensureClone(home, project);
    expect(clone).toEqual({ path: clonePath(home, 'app'), defaultBranch: 'main', cloned: true, defaultBranchUpdate: 'unchanged', defaultBranchCommit: head(user, 'main') });
    expect(git(clone.path, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect(head(clone.path, 'refs/heads/main')).toBe(head(user, 'main'));
    expect(head(clone.path, 'refs/remotes/origin/main')).toBe(head(user, 'main'));
    expect(git(clone.path, ['symbolic-ref', 'refs/remotes/origin/HEAD'])).toBe('refs/remotes/origin/main');
    expect(git(clone.path, ['config', '--local', 'user.name'])).toBe('Orch');
    expect(git(clone.path, ['config', '--local', 'user.email'])).toBe('orch@localhost');
    expect(git(clone.path, ['config', 'remote.origin.url'])).toBe(user);
  });

  it("hard-links the local source's object files rather than copying them", async () => {
    const clone = await ensureClone(home, project);
    const commit = head(user, 'main');
    const objectPath = (gitDir: string) => join(gitDir, 'objects', commit.slice(0, 2), commit.slice(2));
    expect(statSync(objectPath(clone.path)).ino).toBe(statSync(objectPath(join(user, '.git'))).ino);
  });

  it('fetches what the user committed since and fast-forwards the local default branch', async () => {
    await ensureClone(home, project);
    const newer = commitFile(user, 'src/a.ts', 'export const a = 1;\n');
    const clone = await ensureClone(home, project);
    expect(clone.cloned).toBe(false);
    expect(clone.defaultBranchUpdate).toBe('fast_forwarded');
    expect(head(clone.path, 'refs/remotes/origin/main')).toBe(newer);
    expect(head(clone.path, 'refs/heads/main')).toBe(newer);
    expect(clone.defaultBranchCommit).toBe(newer);
  });

  it('leaves a local default branch alone when it is ahead of the source or has diverged from it', async () => {
    const clone = await ensureClone(home, project);
    // A merge the refinery made that was not delivered yet.
    const tree = git(clone.path, ['rev-parse', 'main^{tree}']);
    const merged = git(clone.path, ['commit-tree', tree, '-p', 'main', '-m', 'merged task']);
    git(clone.path, ['update-ref', 'refs/heads/main', merged]);
    expect(await ensureClone(home, project)).toMatchObject({ defaultBranchUpdate: 'ahead', defaultBranchCommit: merged });
    commitFile(user, 'other.txt', 'user work\n');
    expect(await ensureClone(home, project)).toMatchObject({ defaultBranchUpdate: 'diverged', defaultBranchCommit: merged });
    expect(head(clone.path, 'refs/heads/main')).toBe(merged);
    expect(head(clone.path, 'refs/remotes/origin/main')).toBe(head(user, 'main'));
  });

  it('never writes the user repository: clone, fetch and worktree work leave every byte as it was', async () => {
    // The user is busy: another branch checked out, changes staged and unstaged, an untracked file.
    git(user, ['checkout', '-q', '-b', 'feature']);
    commitFile(user, 'feature.txt', 'feature\n');
    writeFileSync(join(user, 'README.md'), '# app, edited\n');
    writeFileSync(join(user, 'staged.txt'), 'staged\n');
    git(user, ['add', 'staged.txt']);
    writeFileSync(join(user, 'untracked.txt'), 'mine\n');
    const before = snapshotTree(user);

    const clone = await ensureClone(home, project);
    const worktree = await createWorktree(clone.path, worktreesDir(home, 'app'), 1, 'orch/1-x', 'main');
    commitFile(worktree.path, 'task.txt', 'task work\n');
    await ensureClone(home, project);
    await removeWorktree(clone.path, worktree.path, { deleteBranch: true });

    expect(snapshotTree(user)).toEqual(before);
    expect(before.has('.git/HEAD') && before.has('.git/config') && before.has('.git/index')).toBe(true);
  });

  it("takes the source's HEAD branch when no default branch is configured", async () => {
    git(user, ['branch', '-m', 'main', 'trunk']);
    const clone = await ensureClone(home, { ...project, defaultBranch: null });
    expect(clone.defaultBranch).toBe('trunk');
    expect(head(clone.path, 'refs/heads/trunk')).toBe(head(user, 'trunk'));
    expect((await ensureClone(home, { ...project, defaultBranch: null })).defaultBranch).toBe('trunk');
  });

  it('clones from a remote URL when the project has no local path', async () => {
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['clone', '-q', '--bare', user, remote]);
    const clone = await ensureClone(home, { name: 'app', path: null, remote, defaultBranch: 'main' });
    expect(head(clone.path, 'refs/heads/main')).toBe(head(user, 'main'));
    const newer = commitFile(user, 'b.txt', 'b\n');
    git(user, ['push', '-q', remote, 'main']);
    expect((await ensureClone(home, { name: 'app', path: null, remote, defaultBranch: 'main' })).defaultBranchUpdate).toBe('fast_forwarded');
    expect(head(clone.path, 'refs/heads/main')).toBe(newer);
  });

  it('follows a changed default branch, creating it locally', async () => {
    await ensureClone(home, project);
    git(user, ['branch', 'develop', 'main']);
    const clone = await ensureClone(home, { ...project, defaultBranch: 'develop' });
    expect(clone.defaultBranchUpdate).toBe('created');
    expect(git(clone.path, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/develop');
  });

  it('refuses a missing branch, a bad source, and a foreign directory where the clone belongs', async () => {
    const failure = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as OrchError);
    await ensureClone(home, project);
    expect(await failure(ensureClone(home, { ...project, defaultBranch: 'nope' }))).toMatchObject({ code: 'not_found' });
    expect(git(clonePath(home, 'app'), ['symbolic-ref', 'HEAD'])).toBe('refs/heads/main');
    expect(await failure(ensureClone(home, { ...project, defaultBranch: '-x' }))).toMatchObject({ code: 'config' });
    expect(await failure(ensureClone(home, { ...project, name: 'b', path: 'relative/path' }))).toMatchObject({ code: 'config' });
    expect(await failure(ensureClone(home, { ...project, name: 'b', path: null, remote: '--upload-pack=touch x' }))).toMatchObject({
      code: 'config',
    });
    expect(await failure(ensureClone(home, { ...project, name: 'b', path: null, remote: null }))).toMatchObject({ code: 'config' });
    mkdirSync(clonePath(home, 'c'), { recursive: true });
    writeFileSync(join(clonePath(home, 'c'), 'precious.txt'), 'keep me\n');
    expect(await failure(ensureClone(home, { ...project, name: 'c' }))).toMatchObject({ code: 'conflict' });
    expect(existsSync(join(clonePath(home, 'c'), 'precious.txt'))).toBe(true);
    expect(existsSync(join(scratch.path, 'x'))).toBe(false);
  });

  it('leaves no partial clone behind when cloning fails', async () => {
    await expect(ensureClone(home, { ...project, path: join(scratch.path, 'missing') })).rejects.toThrow();
    expect(existsSync(clonePath(home, 'app'))).toBe(false);
    expect(readdirSync(join(home, 'projects', 'app'))).toEqual([]);
  });

  it('fetches only when the source has moved, and rewrites no setting that is already right', async () => {
    await ensureClone(home, project);
    const counter = countGitStarts(scratch.path);
    try {
      expect((await ensureClone(home, project)).defaultBranchUpdate).toBe('unchanged');
      // The clone's refs and the source's tip, read side by side; nothing written.
      expect(counter.commands().sort()).toEqual(['for-each-ref', 'rev-parse']);

      counter.reset();
      const newer = commitFile(user, 'c.txt', 'c\n');
      const clone = await ensureClone(home, project);
      expect(clone.defaultBranchUpdate).toBe('fast_forwarded');
      expect(head(clone.path, 'refs/heads/main')).toBe(newer);
      expect(counter.commands().filter((command) => command === 'fetch')).toHaveLength(1);
      expect(counter.commands()).not.toContain('config');
    } finally {
      counter.restore();
    }
  });

  it('reads a bare repository given as the path, or as a remote path, directly, and asks a remote URL with ls-remote', async () => {
    const bare = join(scratch.path, 'bare.git');
    git(scratch.path, ['clone', '-q', '--bare', user, bare]);
    const projects = [
      { name: 'by-path', path: bare, remote: null, defaultBranch: 'main' },
      { name: 'by-remote-path', path: null, remote: bare, defaultBranch: 'main' },
      { name: 'by-url', path: null, remote: `file://${bare}`, defaultBranch: 'main' },
    ];
    for (const each of projects) await ensureClone(home, each);
    const counter = countGitStarts(scratch.path);
    try {
      for (const each of projects) expect((await ensureClone(home, each)).defaultBranchUpdate).toBe('unchanged');
      expect(counter.commands().sort()).toEqual(['for-each-ref', 'for-each-ref', 'for-each-ref', 'ls-remote', 'rev-parse', 'rev-parse']);
    } finally {
      counter.restore();
    }
  });

  it('fetches what another host pushed to a remote given as a path', async () => {
    const bare = join(scratch.path, 'bare.git');
    git(scratch.path, ['clone', '-q', '--bare', user, bare]);
    const served = { name: 'served', path: null, remote: bare, defaultBranch: 'main' };
    await ensureClone(home, served);
    const pushed = commitFile(user, 'pushed.txt', 'from another host\n');
    git(user, ['push', '-q', bare, 'main']);
    const clone = await ensureClone(home, served);
    expect(clone.defaultBranchUpdate).toBe('fast_forwarded');
    expect(head(clone.path, 'refs/remotes/origin/main')).toBe(pushed);
    expect(head(clone.path, 'refs/heads/main')).toBe(pushed);
  });

  it('takes a source moved to the clone\'s own default branch (a delivery) without fetching', async () => {
    const clone = await ensureClone(home, project);
    const tree = git(clone.path, ['rev-parse', 'main^{tree}']);
    const merged = git(clone.path, ['commit-tree', tree, '-p', 'main', '-m', 'merged task']);
    git(clone.path, ['update-ref', 'refs/heads/main', merged]);
    git(user, ['fetch', '-q', clone.path, 'main']);
    git(user, ['merge', '-q', '--ff-only', merged]);
    const counter = countGitStarts(scratch.path);
    try {
      expect((await ensureClone(home, project)).defaultBranchUpdate).toBe('unchanged');
      expect(head(clone.path, 'refs/remotes/origin/main')).toBe(merged);
      expect(counter.commands()).not.toContain('fetch');
    } finally {
      counter.restore();
    }
  });

  it('checks everything again when the clone was deleted, or after a refresh failed', async () => {
    const first = await ensureClone(home, project);
    rmSync(first.path, { recursive: true, force: true });
    const again = await ensureClone(home, project);
    expect(again.cloned).toBe(true);
    expect(head(again.path, 'refs/heads/main')).toBe(head(user, 'main'));

    // The clone is pointed elsewhere behind Orch's back, and the source is away for a moment: the
    // refresh that fails is not trusted afterwards, and the next one writes the settings again.
    git(again.path, ['config', 'remote.origin.url', join(scratch.path, 'elsewhere')]);
    renameSync(user, `${user}-away`);
    await expect(ensureClone(home, project)).rejects.toThrow();
    renameSync(`${user}-away`, user);
    expect((await ensureClone(home, project)).defaultBranchUpdate).toBe('unchanged');
    expect(git(again.path, ['config', 'remote.origin.url'])).toBe(user);
  });
});
