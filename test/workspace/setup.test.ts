import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyUntrackedFiles, slotEnvironment } from '../../src/workspace/setup.js';
import { tempDir } from '../helpers/git.js';
import { snapshotTree } from './fixtures.js';

let scratch: { path: string; cleanup: () => void };
let repo: string;
let worktree: string;
let outside: string;

beforeEach(() => {
  scratch = tempDir('orch-setup-');
  repo = join(scratch.path, 'repo');
  worktree = join(scratch.path, 'worktree');
  outside = join(scratch.path, 'outside');
  for (const dir of [repo, worktree, outside]) mkdirSync(dir);
  writeFileSync(join(outside, 'secret'), 'not yours\n');
});
afterEach(() => scratch.cleanup());

const write = (root: string, path: string, content: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
};

describe('copyUntrackedFiles', () => {
  it('copies listed files and directories to the same places, keeping their mode', async () => {
    write(repo, '.env', 'TOKEN=1\n');
    write(repo, 'config/master.key', 'key\n');
    chmodSync(join(repo, 'config/master.key'), 0o600);
    write(repo, 'fixtures/a.json', '{}\n');
    write(repo, 'fixtures/deep/b.json', '[]\n');
    const report = await copyUntrackedFiles(repo, worktree, ['.env', 'config/master.key', 'fixtures']);
    expect(report).toEqual({ copied: ['.env', 'config/master.key', 'fixtures/a.json', 'fixtures/deep/b.json'], skipped: [] });
    expect(readFileSync(join(worktree, 'config/master.key'), 'utf8')).toBe('key\n');
    expect(statSync(join(worktree, 'config/master.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(worktree, 'fixtures/deep/b.json'), 'utf8')).toBe('[]\n');
  });

  it('skips missing files with a note and overwrites a file already there', async () => {
    write(repo, '.env', 'fresh\n');
    write(worktree, '.env', 'stale\n');
    const report = await copyUntrackedFiles(repo, worktree, ['.env', '.env.local']);
    expect(report.copied).toEqual(['.env']);
    expect(report.skipped).toEqual([{ path: '.env.local', outcome: 'missing', reason: 'not found in the repository' }]);
    expect(readFileSync(join(worktree, '.env'), 'utf8')).toBe('fresh\n');
  });

  it('refuses paths that escape the repository, and writes nothing outside the worktree', async () => {
    write(repo, 'ok', 'ok\n');
    const before = snapshotTree(scratch.path, (path) => path.startsWith('worktree'));
    const hostile = ['../outside/secret', '/etc/passwd', 'a/../../outside/secret', '..', '.', '.git/config', 'x\0y', ''];
    const report = await copyUntrackedFiles(repo, worktree, hostile);
    expect(report.copied).toEqual([]);
    expect(report.skipped.map((note) => [note.path, note.outcome])).toEqual(hostile.map((path) => [path, 'refused']));
    expect(snapshotTree(scratch.path, (path) => path.startsWith('worktree'))).toEqual(before);
    expect(snapshotTree(worktree).size).toBe(0);
  });

  it('refuses symbolic links that lead out of the repository; copies the content of those inside', async () => {
    symlinkSync(join(outside, 'secret'), join(repo, '.env'));
    symlinkSync(outside, join(repo, 'linked-dir'));
    write(repo, 'real.env', 'real\n');
    symlinkSync('real.env', join(repo, '.env.local'));
    const report = await copyUntrackedFiles(repo, worktree, ['.env', 'linked-dir/secret', 'linked-dir', '.env.local']);
    expect(report.copied).toEqual(['.env.local']);
    expect(report.skipped.map((note) => note.path)).toEqual(['.env', 'linked-dir/secret', 'linked-dir']);
    expect(existsSync(join(worktree, '.env'))).toBe(false);
    // A copy, not a link: an agent writing it cannot reach the user's file.
    expect(statSync(join(worktree, '.env.local')).isFile()).toBe(true);
    writeFileSync(join(worktree, '.env.local'), 'agent edit\n');
    expect(readFileSync(join(repo, 'real.env'), 'utf8')).toBe('real\n');
  });

  it('refuses to write through a symbolic link in the worktree', async () => {
    write(repo, 'conf/app.env', 'x\n');
    write(repo, 'top.env', 'y\n');
    symlinkSync(outside, join(worktree, 'conf'));
    symlinkSync(join(outside, 'secret'), join(worktree, 'top.env'));
    const report = await copyUntrackedFiles(repo, worktree, ['conf/app.env', 'top.env']);
    expect(report.copied).toEqual([]);
    expect(report.skipped.map((note) => note.outcome)).toEqual(['refused', 'refused']);
    expect(existsSync(join(outside, 'app.env'))).toBe(false);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('not yours\n');
  });
});

describe('slotEnvironment', () => {
  it("hands a slot its block of ports as PORT, PORT_1 … and ORCH_PORTS", () => {
    expect(slotEnvironment(2, { base: 41000, stride: 10, count: 3 })).toEqual({
      PORT: '41020',
      PORT_1: '41021',
      PORT_2: '41022',
      ORCH_PORTS: '41020,41021,41022',
      ORCH_SLOT: '2',
    });
    expect(slotEnvironment(0, { base: 5000, stride: 1, count: 1 })).toEqual({ PORT: '5000', ORCH_PORTS: '5000', ORCH_SLOT: '0' });
    expect(() => slotEnvironment(0, { base: 5000, stride: 2, count: 3 })).toThrow();
  });
});
