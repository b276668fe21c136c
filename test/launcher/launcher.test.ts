import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { startDaemon } from '../../src/engine/daemon.js';
import { Launcher, startProcess, useLauncher, type StartedProcess } from '../../src/launcher/launcher.js';
import { runGitHere, tryGit, type GitOutcome } from '../../src/workspace/git.js';
import { makeRepo, tempDir } from '../helpers/git.js';

// The daemon's git commands and agent CLIs start from a small process of its own (launcher/).
// Whatever starts them, a command's outcome is the same, and a process's output and exit reach the
// daemon; when the launcher goes away, nothing waits forever and what follows starts from the daemon.

let scratch: { path: string; cleanup: () => void };
let repo: string;

beforeEach(() => {
  scratch = tempDir('orch-launcher-');
  repo = makeRepo(scratch.path, 'app');
});
afterEach(() => {
  useLauncher({ git: null, processes: null });
  scratch.cleanup();
});

/** The pid of the process that started git: a git alias asks the shell git runs it in. */
const starterOf = async (run: (args: string[]) => Promise<GitOutcome>) => Number((await run(['-c', 'alias.starter=!ps -o ppid= -p $PPID', 'starter'])).stdout.trim());

async function started(): Promise<Launcher> {
  const launcher = await Launcher.start();
  if (!launcher) throw new Error('the launcher did not start: build Orch first (npm run build)');
  return launcher;
}

/** Everything a started process printed, and how it ended. */
async function finished(child: StartedProcess): Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }> {
  const read = async (stream: NodeJS.ReadableStream | null) => {
    let text = '';
    for await (const chunk of stream ?? []) text += String(chunk);
    return text;
  };
  const exit = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code: number | null, signal: string | null) => resolve([code, signal])));
  const [stdout, stderr, [code, signal]] = await Promise.all([read(child.stdout), read(child.stderr), exit]);
  return { stdout, stderr, code, signal };
}

describe('the launcher', () => {
  it('gives the same git outcome as git started here: output, failures, stdin, extra environment and time limits', async () => {
    const launcher = await started();
    try {
      const cases: [string[], Parameters<typeof runGitHere>[2]][] = [
        [['rev-parse', 'HEAD'], {}],
        [['rev-parse', '--verify', 'no-such-branch'], {}],
        [['hash-object', '--stdin'], { input: 'some content\n' }],
        [['var', 'GIT_AUTHOR_IDENT'], { env: { GIT_AUTHOR_NAME: 'Someone Else', GIT_AUTHOR_DATE: '1700000000 +0000' } }],
        [['log', '--format=%H'], { maxBuffer: 8 }],
      ];
      for (const [args, options] of cases) expect(await launcher.run(repo, args, options ?? {}), args.join(' ')).toEqual(await runGitHere(repo, args, options));
      const timedOut = await launcher.run(repo, ['-c', 'alias.wait=!sleep 5', 'wait'], { timeoutMs: 100 });
      expect(timedOut).toMatchObject({ ok: false, exitCode: null });
      expect(await starterOf((args) => launcher.run(repo, args, {}))).not.toBe(process.pid);
    } finally {
      launcher.stop();
    }
  });

  it('starts a process in its own group with its stdin written, hands its output over, and tells its exit; a start that fails says why', async () => {
    useLauncher({ git: null, processes: await started() });
    const script = 'read line; echo "out: $line from $(ps -o ppid= -p $$)"; echo "err: $(ps -o pgid= -p $$)" >&2; exit 3';
    const child = await startProcess('sh', ['-c', script], { cwd: repo, env: { PATH: process.env.PATH }, stdin: 'the prompt\n' });
    const result = await finished(child);
    expect(result.code).toBe(3);
    const [, starter] = /from\s+(\d+)/.exec(result.stdout)!;
    expect(result.stdout).toContain('out: the prompt from');
    expect(Number(starter)).not.toBe(process.pid);
    // Its own process group: the daemon stops the whole group by the pid it was told.
    expect(Number(/err:\s+(\d+)/.exec(result.stderr)![1])).toBe(child.pid);
    // stderr comes over as messages, every byte of it and before the exit, however much there is.
    const loud = await startProcess('sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" e >&2; echo done'], { cwd: repo, env: { PATH: process.env.PATH }, stdin: null });
    expect(await finished(loud)).toMatchObject({ stdout: 'done\n', stderr: 'e'.repeat(3_000_000), code: 0 });
    // A signal is told as such.
    const sleeper = await startProcess('sleep', ['30'], { cwd: repo, env: { PATH: process.env.PATH }, stdin: null });
    process.kill(-sleeper.pid!, 'SIGTERM');
    expect(await finished(sleeper)).toMatchObject({ code: null, signal: 'SIGTERM' });
    await expect(startProcess('/no/such/program', [], { cwd: repo, env: {}, stdin: null })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('runs a process, and what it starts, the asked number of steps below its own priority; a missing program still fails to start', async () => {
    const own = os.getPriority();
    // ps reports the nice of the shell and of a process the shell started.
    const script = 'echo "$(ps -o ni= -p $$) $(sh -c "ps -o ni= -p \\$\\$")"';
    const niceOf = async (nice: number | undefined) => {
      const child = await startProcess('sh', ['-c', script], { cwd: repo, env: { PATH: process.env.PATH }, stdin: null, nice });
      return (await finished(child)).stdout.trim().split(/\s+/).map(Number);
    };
    for (const processes of [null, await started()]) {
      useLauncher({ git: null, processes });
      expect(await niceOf(7)).toEqual([Math.min(19, own + 7), Math.min(19, own + 7)]);
      expect(await niceOf(0)).toEqual([own, own]);
      expect(await niceOf(undefined)).toEqual([own, own]);
      // Not found, it is not handed to `nice` (which would start and fail in its place): the error is its own.
      const missing = startProcess('no-such-program-here', [], { cwd: repo, env: { PATH: process.env.PATH }, stdin: null, nice: 7 });
      // From the launcher the start is refused; started here, the process says so as node's spawn does.
      const refusal = processes ? missing.then(() => null, (error: NodeJS.ErrnoException) => error) : missing.then((child) => new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve)));
      expect(await refusal).toMatchObject({ code: 'ENOENT', message: expect.stringContaining('no-such-program-here') });
    }
  });

  it('loses nothing a process prints at once, however many start together (each waits its turn to be handed over)', async () => {
    useLauncher({ git: null, processes: await started() });
    const starts = Array.from({ length: 24 }, (_, i) => startProcess('sh', ['-c', `seq 1 2000 | sed 's/^/${i} /'; seq 1 50 >&2`], { cwd: repo, env: { PATH: process.env.PATH }, stdin: null }));
    const outputs = await Promise.all(starts.map(async (start) => finished(await start)));
    outputs.forEach((output, i) => {
      expect(output.stdout.split('\n').filter(Boolean), `process ${i}`).toHaveLength(2000);
      expect(output.stdout.startsWith(`${i} 1\n`), `process ${i}`).toBe(true);
      expect(output.stderr.split('\n').filter(Boolean)).toHaveLength(50);
    });
  });

  it('when it dies: git in flight is a git that could not finish, a started process ends with its output, and what follows starts here', async () => {
    const launcher = await started();
    useLauncher({ git: launcher, processes: launcher });
    const inFlight = tryGit(repo, ['-c', 'alias.wait=!sleep 5', 'wait']);
    const talker = await startProcess('sh', ['-c', 'sleep 0.5; echo still here'], { cwd: repo, env: { PATH: process.env.PATH }, stdin: null });
    const launcherPid = await starterOf((args) => tryGit(repo, args));
    process.kill(launcherPid, 'SIGKILL');
    expect(await inFlight).toMatchObject({ ok: false, exitCode: null, stderr: expect.stringMatching(/the launcher stopped/) });
    expect(await finished(talker)).toMatchObject({ stdout: 'still here\n', code: null });
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
