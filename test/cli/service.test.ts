// `orch service` in pid-file mode with the real built CLI: a background daemon that starts, answers,
// is found again, stops with nothing left behind, and pid files that outlived their process.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/agents/process-group.js';
import type { ServiceStatus, StartResult, StopResult } from '../../src/service/service.js';
import { orch as runOrch, type CliResult } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]): CliResult => runOrch(args, { cwd: repo, home });
const pidFile = () => join(home, 'daemon.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie waiting for a parent that never reaps it has exited all the same.
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/\) [ZX] /.test(stat);
}

function expectOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code, result.stdout + result.stderr).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

// systemd may well run where these tests do: the pid-file mode is what they are about.
let modeBefore: string | undefined;
beforeAll(() => {
  modeBefore = process.env.ORCH_SERVICE_MODE;
  process.env.ORCH_SERVICE_MODE = 'pid-file';
});
afterAll(() => {
  if (modeBefore === undefined) delete process.env.ORCH_SERVICE_MODE;
  else process.env.ORCH_SERVICE_MODE = modeBefore;
});

beforeEach(() => {
  scratch = tempDir('orch-service-');
  // A space in ORCH_HOME: every path must survive being handed around.
  home = join(scratch.path, 'orch home');
  repo = makeRepo(scratch.path, 'shop');
});
afterEach(() => {
  // A failed test must not leave a daemon behind.
  const pid = existsSync(pidFile()) ? Number(readFileSync(pidFile(), 'utf8')) : NaN;
  if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  scratch.cleanup();
});

describe('orch service (pid-file mode)', () => {
  it('starts a background daemon that answers, leaves it alone when started again, and stops it without a trace', async () => {
    expect(orch('init').code).toBe(0);
    const installed = orch('service', 'install', '--port', '0');
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/nothing to install/);

    const started = orch('service', 'start', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { pid, url, alreadyRunning } = started.json<StartResult>();
    expect(alreadyRunning).toBe(false);
    expect(alive(pid!)).toBe(true);
    expect(readFileSync(pidFile(), 'utf8').trim()).toBe(String(pid));

    const status = orch('service', 'status', '--json').json<ServiceStatus>();
    expect(status).toMatchObject({ mode: 'pid-file', installed: true, running: true, pid, url, logTail: [] });
    expect(status.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(orch('service', 'status').stdout).toMatch(new RegExp(`Running +yes, pid ${pid}, ${url}`));

    expect(await (await fetch(`${url!}/healthz`)).json()).toMatchObject({ ok: true });
    const token = readFileSync(join(home, 'token'), 'utf8').trim();
    expect((await fetch(`${url!}/tasks`)).status).toBe(401);
    expect((await fetch(`${url!}/tasks`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const again = orch('service', 'start');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Already running (pid-file): pid ${pid}, ${url}`);

    const stopped = orch('service', 'stop', '--json');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.json<StopResult>()).toMatchObject({ wasRunning: true, pid, killed: false });
    expect(alive(pid!)).toBe(false);
    expect(groupAlive(pid!)).toBe(false);
    expect(existsSync(pidFile())).toBe(false);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);

    const after = orch('service', 'status', '--json').json<ServiceStatus>();
    expect(after).toMatchObject({ running: false, pid: null, url: null });
    expect(after.logTail.join('\n')).toContain('stopped');
    expect(orch('service', 'stop').stdout).toContain('Not running');
  });

  it('cleans up a pid file whose process is gone, and one whose pid now belongs to another program', () => {
    orch('init');
    const gone = spawnSync('true').pid;
    writeFileSync(pidFile(), `${gone}\n`);
    writeFileSync(join(home, 'daemon.json'), JSON.stringify({ pid: gone, url: 'http://127.0.0.1:1', startedAt: 1 }));

    const reported = orch('service', 'status', '--json').json<ServiceStatus>();
    expect(reported.running).toBe(false);
    expect(reported.notes.join('\n')).toMatch(/daemon\.pid is stale: pid \d+ is gone/);
    expect(existsSync(pidFile())).toBe(true);

    const stopped = orch('service', 'stop');
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('Not running');
    expect(stopped.stdout).toMatch(/removed a stale daemon\.pid: pid \d+ is gone/);
    expect(stopped.stdout).toMatch(/removed a stale daemon\.json: pid \d+ is gone/);
    expect(existsSync(pidFile())).toBe(false);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);

    // The pid was reused by something else: it is not Orch's to signal.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(pidFile(), `${stranger.pid}\n`);
      const cleaned = orch('service', 'stop');
      expect(cleaned.code).toBe(0);
      expect(cleaned.stdout).toMatch(/removed a stale daemon\.pid: pid \d+ is not orch serve/);
      expect(existsSync(pidFile())).toBe(false);
      expect(alive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('says in one line, pointing at the log, when the daemon cannot start', async () => {
    orch('init');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      expect(orch('service', 'install', '--port', String(port)).code).toBe(0);
      expectOneLineError(orch('service', 'start'), 4, new RegExp(`orch serve stopped \\(exit code 1\\) before it answered .*EADDRINUSE.*: see ${join(home, 'logs', 'daemon.log')}$`));
      expect(existsSync(pidFile())).toBe(false);
      expect(orch('service', 'status', '--json').json<ServiceStatus>().logTail.join('\n')).toContain('EADDRINUSE');
    } finally {
      taken.close();
    }
  });

  it('refuses to start before `orch init`, and an unknown ORCH_SERVICE_MODE', () => {
    mkdirSync(home);
    expectOneLineError(orch('service', 'start'), 5, /not initialised .*orch init/);
    expect(existsSync(pidFile())).toBe(false);
    process.env.ORCH_SERVICE_MODE = 'launchd';
    try {
      expectOneLineError(orch('service', 'status'), 2, /ORCH_SERVICE_MODE must be systemd or pid-file, not "launchd"/);
    } finally {
      process.env.ORCH_SERVICE_MODE = 'pid-file';
    }
  });
});
