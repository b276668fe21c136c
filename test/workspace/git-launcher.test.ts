import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { startDaemon } from '../../src/engine/daemon.js';
import { GitLauncher } from '../../src/workspace/git-launcher.js';
import { runGitHere, tryGit, useGitRunner, type GitOutcome } from '../../src/workspace/git.js';
import { makeRepo, tempDir } from '../helpers/git.js';

// The daemon's git commands start from a small process of its own (git-launcher.ts). Whatever starts
// them, a command's outcome is the same; when the launcher goes away, nothing waits forever and the
// commands that follow start from the daemon.

let scratch: { path: string; cleanup: () => void };
let repo: string;
const here = { run: runGitHere };

beforeEach(() => {
  scratch = tempDir('orch-git-launcher-');
  repo = makeRepo(scratch.path, 'app');
});
afterEach(() => {
  useGitRunner(null);
  scratch.cleanup();
});

/** The pid of the process that started git: a git alias asks the shell git runs it in. */
const starterOf = async (run: (args: string[]) => Promise<GitOutcome>) => Number((await run(['-c', 'alias.starter=!ps -o ppid= -p $PPID', 'starter'])).stdout.trim());

async function started(): Promise<GitLauncher> {
  const launcher = await GitLauncher.start(here);
  if (!launcher) throw new Error('the launcher did not start: build Orch first (npm run build)');
  return launcher;
}

describe('the git launcher', () => {
  it('gives the same outcome as git started here: output, failures, stdin, extra environment and time limits', async () => {
    const launcher = await started();
    try {
      const cases: [string[], Parameters<typeof runGitHere>[2]][] = [
        [['rev-parse', 'HEAD'], {}],
        [['rev-parse', '--verify', 'no-such-branch'], {}],
        [['hash-object', '--stdin'], { input: 'some content\n' }],
        [['var', 'GIT_AUTHOR_IDENT'], { env: { GIT_AUTHOR_NAME: 'Someone Else', GIT_AUTHOR_DATE: '1700000000 +0000' } }],
      ];
      for (const [args, options] of cases) expect(await launcher.run(repo, args, options ?? {}), args.join(' ')).toEqual(await runGitHere(repo, args, options));
      const timedOut = await launcher.run(repo, ['-c', 'alias.wait=!sleep 5', 'wait'], { timeoutMs: 100 });
      expect(timedOut).toMatchObject({ ok: false, exitCode: null });
      expect(await starterOf((args) => launcher.run(repo, args, {}))).not.toBe(process.pid);
    } finally {
      launcher.stop();
    }
  });

  it('answers what was in flight when it dies as a git that could not finish, and leaves later commands to this process', async () => {
    const launcher = await started();
    useGitRunner(launcher);
    const inFlight = tryGit(repo, ['-c', 'alias.wait=!sleep 5', 'wait']);
    const launcherPid = await starterOf((args) => tryGit(repo, args));
    process.kill(launcherPid, 'SIGKILL');
    expect(await inFlight).toMatchObject({ ok: false, exitCode: null, stderr: expect.stringMatching(/the git launcher stopped/) });
    expect(await tryGit(repo, ['rev-parse', 'HEAD'])).toMatchObject({ ok: true });
    expect(await starterOf((args) => tryGit(repo, args))).toBe(process.pid);
  });

  it('is where the daemon starts git while it runs, and not after it stopped', async () => {
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: repo } } }));
    const orch = await openOrch(home);
    const daemon = await startDaemon(orch, { port: 0, logger: pino({ level: 'silent' }) });
    try {
      expect(await starterOf((args) => tryGit(repo, args))).not.toBe(process.pid);
    } finally {
      await daemon.stop(0);
      await orch.close();
    }
    expect(await starterOf((args) => tryGit(repo, args))).toBe(process.pid);
  });
});
