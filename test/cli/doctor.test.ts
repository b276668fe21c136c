import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix: string;
}

function configure(agentCommand: string, project: Record<string, unknown> = {}): void {
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({ agents: { worker: { kind: 'command', command: agentCommand } }, projects: { app: { path: repo, agents: ['worker'], ...project } } }),
  );
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: scratch.path, env: { ...process.env, ORCH_HOME: home, NO_COLOR: '1', ...env }, encoding: 'utf8' });
}

function doctor(env: Record<string, string> = {}, json = true) {
  const result = spawnSync(process.execPath, [CLI, 'doctor', ...(json ? ['--json'] : [])], { cwd: scratch.path, env: { ...process.env, ORCH_HOME: home, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, checks: json ? (JSON.parse(result.stdout) as { checks: Check[] }).checks : [] };
}

const check = (checks: Check[], name: string) => checks.find((c) => c.name === name);

beforeEach(() => {
  scratch = tempDir('orch-doctor-');
  home = join(scratch.path, 'home');
  mkdirSync(home);
  repo = makeRepo(scratch.path, 'app');
});
afterEach(() => scratch.cleanup());

describe('orch doctor', () => {
  it('reports the store, the sandbox, each agent, git and disk, and exits 0 when nothing blocks', () => {
    configure('sh');
    const { code, checks } = doctor();
    expect(code).toBe(0);
    expect(check(checks, 'store')?.status).toBe('ok');
    expect(check(checks, 'sandbox')).toMatchObject({ status: 'ok', detail: expect.stringContaining('bwrap') });
    expect(check(checks, 'agent worker')).toMatchObject({ status: 'ok', detail: expect.stringContaining('/sh') });
    expect(check(checks, 'git')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^git version/) });
    expect(check(checks, 'disk')?.detail).toMatch(/GiB free in /);
  });

  it('fails, saying what to do, when the sandbox cannot run for a project that uses it', () => {
    configure('sh');
    const { code, checks, stdout } = { ...doctor({ ORCH_BWRAP: join(scratch.path, 'missing-bwrap') }), stdout: doctor({ ORCH_BWRAP: join(scratch.path, 'missing-bwrap') }, false).stdout };
    expect(code).toBe(1);
    expect(check(checks, 'sandbox')).toMatchObject({ status: 'fail', detail: expect.stringContaining('no agent of app starts'), fix: expect.stringContaining('sandbox: off') });
    expect(stdout).toMatch(/^FAIL sandbox: the sandbox cannot run: bubblewrap \(bwrap\) is not found at .*missing-bwrap/m);
  });

  it('says in orch status why a project with the sandbox on starts no agent', () => {
    configure('sh');
    const missing = { ORCH_BWRAP: join(scratch.path, 'missing-bwrap') };
    expect(cli(['status'], missing).stdout).toMatch(/^app: no agent starts: the sandbox cannot run: bubblewrap \(bwrap\) is not found at .*missing-bwrap/m);
    expect(cli(['status']).stdout).not.toContain('no agent starts');
  });

  it('only warns about the sandbox when every project has it off', () => {
    configure('sh', { sandbox: 'off' });
    const { code, checks } = doctor({ ORCH_BWRAP: join(scratch.path, 'missing-bwrap') });
    expect(code).toBe(0);
    expect(check(checks, 'sandbox')?.status).toBe('warn');
  });

  it('fails when an agent a project uses is not installed', () => {
    configure('no-such-agent-cli');
    const { code, checks } = doctor();
    expect(code).toBe(1);
    expect(check(checks, 'agent worker')).toMatchObject({ status: 'fail', detail: expect.stringContaining('used by app'), fix: expect.stringContaining('agents.worker.command') });
  });

  it('fails on a home that was never initialised', () => {
    const { code, checks } = doctor();
    expect(code).toBe(1);
    expect(check(checks, 'store')).toMatchObject({ status: 'fail', fix: 'run `orch init`' });
  });
});
