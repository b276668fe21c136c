// SIGTERM with an agent still running: `orch serve --grace 2` gives it two seconds, then stops it and
// exits, without waiting for the agent's own end; the next start recovers the run (named crashed, its
// end reason `interrupted`, no attempt used up) and the task is done on its second try.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/agents/process-group.js';
import { openOrch } from '../../src/engine/context.js';
import { CLI, orch as runOrch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what()}`);
};

function serve(home: string, cwd: string) {
  const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '2', '--port', '0'], { cwd, env: { ...process.env, ORCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  daemon.stdout.on('data', (c: Buffer) => (logs += c.toString()));
  daemon.stderr.on('data', (c: Buffer) => (logs += c.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    await exited;
  });
  return { daemon, exited, logs: () => logs };
}

describe('orch serve --grace', () => {
  it('stops an agent still running when the grace period ends, exits at once, and the next start recovers its run', async () => {
    const scratch = tempDir('orch-grace-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    const marker = join(scratch.path, 'first-attempt-started');
    const agent = join(scratch.path, 'agent.sh');
    // The first attempt would run for 200 s; the one after recovery writes its file and ends. The
    // marker outside the worktree is the test's memory across attempts, which a sandboxed run may not
    // write: sandbox off (the sandbox is tested in sandbox-escape.e2e.test.ts).
    writeFileSync(agent, `#!/bin/sh\nif [ ! -f "${marker}" ]; then touch "${marker}"; sleep 200; fi\necho resumed > resumed.txt\necho done\n`);
    chmodSync(agent, 0o755);
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ scheduler: { tick_interval_s: 3600 }, agents: { slow: { kind: 'command', command: agent } }, projects: { app: { path: repo, default_branch: 'main', agents: ['slow'], sandbox: 'off' } } }));
    runOrch(['task', 'add', 'Resume me'], { cwd: scratch.path, home });

    const first = serve(home, scratch.path);
    await until(() => existsSync(marker), 30_000, () => `the agent to start\n${first.logs()}`);
    const orch = await openOrch(home);
    cleanups.push(() => orch.close());
    const [running] = await orch.store.listRuns({ open: true });
    expect(running?.pid).toBeGreaterThan(0);

    const signalled = Date.now();
    first.daemon.kill('SIGTERM');
    // A hang detector, not a timing goal: without the fix the daemon lives as long as the agent (200 s).
    const code = await Promise.race([first.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    expect(code, first.logs()).toBe(0);
    expect(first.logs()).toContain('were stopped: the next start recovers them');
    expect(groupAlive(running!.pid!)).toBe(false);
    expect(Date.now() - signalled).toBeLessThan(60_000);
    // Nothing recorded the run as ended: it is the next start's to recover.
    expect((await orch.store.getRun(running!.id))?.endedAt).toBeNull();

    const second = serve(home, scratch.path);
    await until(async () => (await orch.store.getTask(1))?.state === 'done', 60_000, () => `the task to be done after recovery\n${second.logs()}`);
    const runs = await orch.store.listRuns({ taskId: 1 });
    expect(runs.map((r) => [r.outcome, r.endReason])).toEqual([
      ['crashed', 'interrupted'],
      ['succeeded', 'merged'],
    ]);
    expect((await orch.store.getTask(1))!.attempts).toBe(1);
    expect(readFileSync(join(repo, 'resumed.txt'), 'utf8')).toBe('resumed\n');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    second.daemon.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
