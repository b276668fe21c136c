// The systemd mode against a stand-in for `systemctl --user` (no user manager runs where tests run): the
// unit file it writes, the systemctl calls it makes, and how it reads the unit's state.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import type { ServiceSetup } from '../../src/service/service.js';
import { SystemdService, type SystemctlResult } from '../../src/service/systemd.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let calls: string[][];
let unitState: { ActiveState: string; MainPID: number; Result: string };
let failing: string | null;

const fakeSystemctl = async (args: string[]): Promise<SystemctlResult> => {
  calls.push(args);
  if (failing && args[0] === failing) return { ok: false, stdout: '', stderr: `Failed to ${failing}: Access denied\nmore detail` };
  if (args[0] === 'show') return { ok: true, stdout: Object.entries(unitState).map(([k, v]) => `${k}=${v}`).join('\n'), stderr: '' };
  if (args[0] === 'stop') unitState = { ActiveState: 'inactive', MainPID: 0, Result: 'success' };
  return { ok: true, stdout: '', stderr: '' };
};

function setup(home = join(scratch.path, 'orch home')): ServiceSetup {
  return {
    home,
    orchCommand: ['/usr/bin/node', join(scratch.path, 'orch', 'main.js')],
    daemonFile: join(home, 'daemon.json'),
    graceSeconds: 30,
    permanentExitCodes: [2, 4, 5],
    env: { XDG_CONFIG_HOME: join(scratch.path, 'config') },
    now: () => 1_000_000,
  };
}

const service = (s = setup()) => new SystemdService(s, { systemctl: fakeSystemctl, userHome: scratch.path, lingerDir: scratch.path });
const unitFile = () => join(scratch.path, 'config', 'systemd', 'user', 'orch.service');

beforeEach(() => {
  scratch = tempDir('orch-systemd-');
  calls = [];
  unitState = { ActiveState: 'inactive', MainPID: 0, Result: 'success' };
  failing = null;
});
afterEach(() => scratch.cleanup());

describe('systemd mode', () => {
  it('installs the unit under XDG_CONFIG_HOME, reloads systemd and enables it', async () => {
    const result = await service().install({ force: false });
    expect(result).toMatchObject({ mode: 'systemd', path: unitFile(), changed: true });
    const unit = readFileSync(unitFile(), 'utf8');
    expect(unit).toContain(`Environment="ORCH_HOME=${join(scratch.path, 'orch home')}"`);
    expect(unit).toContain(`ExecStart=/usr/bin/node ${join(scratch.path, 'orch', 'main.js')} serve\n`);
    expect(calls).toEqual([['daemon-reload'], ['enable', 'orch.service']]);
    expect(result.notes.join('\n')).toContain('loginctl enable-linger');
  });

  it('installs again as a no-op, refuses to replace a different unit without --force, and replaces it with', async () => {
    await service().install({ force: false });
    expect((await service().install({ force: false })).changed).toBe(false);
    const before = readFileSync(unitFile(), 'utf8');
    const refused = service().install({ port: 7999, force: false });
    await expect(refused).rejects.toThrow(OrchError);
    await expect(refused).rejects.toThrow(/exists and differs .*--force/);
    expect(readFileSync(unitFile(), 'utf8')).toBe(before);
    expect((await service().install({ port: 7999, force: true })).changed).toBe(true);
    expect(readFileSync(unitFile(), 'utf8')).toContain(' serve --port 7999\n');
  });

  it('asks for an install before it starts anything', async () => {
    await expect(service().start()).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/orch service install/) });
    expect(calls).toEqual([]);
  });

  it('leaves a running unit alone on start, and stops it through systemctl', async () => {
    await service().install({ force: false });
    unitState = { ActiveState: 'active', MainPID: 4242, Result: 'success' };
    const s = setup();
    mkdirSync(s.home);
    writeFileSync(s.daemonFile, JSON.stringify({ pid: 4242, url: 'http://127.0.0.1:7878', startedAt: 1 }));
    expect(await service(s).start()).toMatchObject({ alreadyRunning: true, pid: 4242, url: 'http://127.0.0.1:7878' });
    expect(calls.some((c) => c[0] === 'start')).toBe(false);
    expect(await service(s).stop()).toMatchObject({ wasRunning: true, pid: 4242, killed: false });
    expect(calls.at(-2)).toEqual(['stop', 'orch.service']);
    expect(await service(s).stop()).toMatchObject({ wasRunning: false });
  });

  it('reports the unit: installed, main pid, and a unit that serves another ORCH_HOME', async () => {
    expect(await service().status()).toMatchObject({ mode: 'systemd', installed: false, running: false, pid: null });
    await service().install({ force: false });
    unitState = { ActiveState: 'active', MainPID: 4242, Result: 'success' };
    const status = await service().status();
    expect(status).toMatchObject({ installed: true, running: true, pid: 4242, notes: [] });
    expect(status.log).toContain('journalctl --user -u orch.service');
    const elsewhere = await service(setup(join(scratch.path, 'other home'))).status();
    expect(elsewhere.notes.join('\n')).toMatch(/serves another ORCH_HOME .*install --force/);
  });

  it('turns a failed systemctl call into one line, and still reports what it knows', async () => {
    failing = 'daemon-reload';
    await expect(service().install({ force: false })).rejects.toThrow(/^systemctl --user daemon-reload failed: Failed to daemon-reload: Access denied$/);
    expect(existsSync(unitFile())).toBe(true);
    failing = 'show';
    expect(await service().status()).toMatchObject({ installed: true, running: false, notes: [expect.stringMatching(/^systemctl --user show .* failed: Failed to show/)] });
  });
});
