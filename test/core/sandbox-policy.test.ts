import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accessAt, decideSandboxPolicy, isWithin, normalPath, type SandboxPathsInput } from '../../src/core/sandbox-policy.js';
import { sandboxDenialIn } from '../../src/core/sandbox-denial.js';

const SYSTEM = ['/usr', '/etc', '/bin', '/lib', '/opt'];

const typical = (over: Partial<SandboxPathsInput> = {}): SandboxPathsInput => ({
  worktree: '/home/ann/.orch/projects/app/worktrees/7',
  worktreeReadOnly: false,
  gitWritable: ['/home/ann/.orch/projects/app/repo/worktrees/7', '/home/ann/.orch/projects/app/repo/objects', '/home/ann/.orch/projects/app/repo/refs/heads/orch'],
  gitReadOnly: ['/home/ann/.orch/projects/app/repo'],
  runHome: '/home/ann/.orch/runs/12/home',
  orchHome: '/home/ann/.orch',
  userHome: '/home/ann',
  checkout: '/home/ann/code/app',
  systemPaths: SYSTEM,
  toolPaths: ['/home/ann/.nvm/versions/node/v20', '/usr/lib/node_modules'],
  ...over,
});

function policyOf(input: SandboxPathsInput) {
  const decision = decideSandboxPolicy(input);
  if (!decision.ok) throw new Error(decision.reason);
  return decision.policy;
}

describe('the sandbox policy', () => {
  it('lets a run write its worktree, its git entries and its HOME, and nothing of the person', () => {
    const policy = policyOf(typical());
    expect(accessAt(policy, '/home/ann/.orch/projects/app/worktrees/7/src/a.ts')).toBe('writable');
    expect(accessAt(policy, '/home/ann/.orch/projects/app/repo/objects/ab')).toBe('writable');
    expect(accessAt(policy, '/home/ann/.orch/projects/app/repo/config')).toBe('read-only');
    expect(accessAt(policy, '/home/ann/.orch/projects/app/repo/hooks/pre-commit')).toBe('read-only');
    expect(accessAt(policy, '/home/ann/.orch/runs/12/home/.claude')).toBe('writable');
    expect(accessAt(policy, '/home/ann/.ssh/id_ed25519')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/.orch/orch.db')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/.orch/token')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/.orch/runs/11/home')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/.orch/projects/app/worktrees/8')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/code/app/README.md')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/.nvm/versions/node/v20/bin/node')).toBe('read-only');
    expect(accessAt(policy, '/usr/bin/git')).toBe('read-only');
    expect(accessAt(policy, '/tmp/x')).toBe('scratch');
    expect(accessAt(policy, '/srv/secrets')).toBe('absent');
  });

  it('mounts the worktree and its git entries read-only for a role that only reads', () => {
    const policy = policyOf(typical({ worktreeReadOnly: true }));
    expect(accessAt(policy, '/home/ann/.orch/projects/app/worktrees/7/src')).toBe('read-only');
    expect(accessAt(policy, '/home/ann/.orch/projects/app/repo/objects')).toBe('read-only');
    expect(accessAt(policy, '/home/ann/.orch/runs/12/home')).toBe('writable');
  });

  it('hides ORCH_HOME and the checkout again when a toolchain path contains them', () => {
    const policy = policyOf(typical({ toolPaths: ['/home/ann'], orchHome: '/home/ann/.orch', checkout: '/home/ann/code/app' }));
    expect(accessAt(policy, '/home/ann/.orch/orch.db')).toBe('hidden');
    expect(accessAt(policy, '/home/ann/code/app/x')).toBe('hidden');
  });

  it('refuses a worktree inside the checkout, or one that contains a hidden place', () => {
    expect(decideSandboxPolicy(typical({ worktree: '/home/ann/code/app/sub' })).ok).toBe(false);
    expect(decideSandboxPolicy(typical({ runHome: '/home' })).ok).toBe(false);
  });

  const segment = fc.constantFrom('a', 'b', 'c', 'home', 'orch', 'x');
  const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
  const inputs = fc.record({
    worktree: path,
    worktreeReadOnly: fc.boolean(),
    gitWritable: fc.array(path, { maxLength: 3 }),
    gitReadOnly: fc.array(path, { maxLength: 2 }),
    runHome: path,
    sessionHomes: fc.array(path, { maxLength: 2 }),
    orchHome: path,
    userHome: fc.option(path, { nil: null }),
    checkout: fc.option(path, { nil: null }),
    systemPaths: fc.array(path, { maxLength: 3 }),
    toolPaths: fc.array(path, { maxLength: 3 }),
  });

  it('never lets a run write the checkout, and keeps a hidden place hidden unless the run writes below it', () => {
    fc.assert(
      fc.property(inputs, path, (input, probe) => {
        const decision = decideSandboxPolicy(input);
        if (!decision.ok) return;
        const access = accessAt(decision.policy, probe);
        const written = [...input.gitWritable, ...input.sessionHomes, input.runHome, input.worktree];
        if (input.checkout && isWithin(probe, input.checkout)) expect(access).not.toBe('writable');
        const hidden = [input.orchHome, ...(input.checkout ? [input.checkout] : []), ...(input.userHome ? [input.userHome] : [])];
        for (const place of hidden) {
          // No writable mount is the hidden place or above it.
          for (const w of written) expect(isWithin(place, w)).toBe(false);
          const insideWritten = written.some((w) => isWithin(probe, w));
          const insideScratch = ['/tmp', '/var/tmp'].some((s) => isWithin(probe, s));
          if (isWithin(probe, place) && !insideWritten && !insideScratch && access !== 'read-only') expect(access).toBe('hidden');
          // What a run sees read-only inside a secret place is only its own git entries.
          if (place !== input.userHome && isWithin(probe, place) && access === 'read-only') {
            expect([...input.gitReadOnly, ...input.gitWritable, input.worktree].some((g) => isWithin(probe, g))).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('normalises paths', () => {
    expect(normalPath('/a//b/./c/../d/')).toBe('/a/b/d');
    expect(isWithin('/a/bc', '/a/b')).toBe(false);
  });
});

describe('sandbox denials in stderr', () => {
  it('names a refused write outside the writable places, not one inside them', () => {
    const policy = policyOf(typical());
    const writable = (path: string) => ['writable', 'scratch'].includes(accessAt(policy, path));
    expect(sandboxDenialIn('sh: 1: cannot create /home/ann/code/app/README.md: Read-only file system', writable)).toContain('Read-only file system');
    expect(sandboxDenialIn("touch: cannot touch '/home/ann/.orch/projects/app/worktrees/7/a': Permission denied", writable)).toBeNull();
    expect(sandboxDenialIn('all fine', writable)).toBeNull();
  });
});
