import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideSandboxPolicy } from '../../src/core/sandbox-policy.js';
import { bwrapArguments } from '../../src/sandbox/bwrap.js';
import { findBwrap } from '../../src/sandbox/probe.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => {
  scratch = tempDir('orch-bwrap-');
});
afterEach(() => scratch.cleanup());

function policyIn(root: string) {
  for (const dir of ['orch/wt', 'orch/runs/1/home', 'person/.ssh']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'person', '.ssh', 'id_ed25519'), 'secret\n');
  const decision = decideSandboxPolicy({
    worktree: join(root, 'orch/wt'),
    worktreeReadOnly: false,
    gitWritable: [],
    gitReadOnly: [],
    runHome: join(root, 'orch/runs/1/home'),
    orchHome: join(root, 'orch'),
    userHome: join(root, 'person'),
    checkout: null,
    systemPaths: ['/usr', '/etc', '/bin', '/lib', '/lib64'],
    toolPaths: [],
  });
  if (!decision.ok) throw new Error(decision.reason);
  return decision.policy;
}

describe('bubblewrap options from a policy', () => {
  it('unshares the network only when asked, and makes hidden places read-only after every mount', () => {
    const policy = policyIn(scratch.path);
    const args = bwrapArguments({ policy, cwd: join(scratch.path, 'orch/wt'), unshareNet: true, binds: [] });
    expect(args.slice(0, 5)).toEqual(['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent']);
    expect(args).toContain('--unshare-net');
    expect(bwrapArguments({ policy, cwd: '/', unshareNet: false, binds: [] })).not.toContain('--unshare-net');
    const lastMount = Math.max(args.lastIndexOf('--bind-try'), args.lastIndexOf('--ro-bind-try'));
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(lastMount);
  });

  it('runs a program that writes its worktree, sees an empty read-only home, and leaves nothing behind', () => {
    const policy = policyIn(scratch.path);
    const worktree = join(scratch.path, 'orch/wt');
    const args = bwrapArguments({ policy, cwd: worktree, unshareNet: true, binds: [] });
    const script = `echo made > made.txt; ls -A "${scratch.path}/person" | wc -l > seen.txt; touch "${scratch.path}/person/x" 2>>seen.txt; (setsid sleep 311.4171 &); true`;
    const run = spawnSync(findBwrap()!, [...args, '--', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(worktree, 'made.txt'), 'utf8')).toBe('made\n');
    const seen = readFileSync(join(worktree, 'seen.txt'), 'utf8');
    expect(seen.split('\n')[0]).toBe('0');
    expect(seen).toContain('Read-only file system');
    expect(spawnSync('pgrep', ['-f', 'sleep 311.4171']).stdout.toString()).toBe('');
  });
});
