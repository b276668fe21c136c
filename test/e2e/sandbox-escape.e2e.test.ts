// Agents that try to get out of their sandbox, each in its own test, run through the real engine
// (runTask: worktree, agent, judge, merge) with bubblewrap. Every attempt fails; the agent can still
// write and commit in its worktree, and hooks and judge commands run sandboxed as well.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runTask } from '../../src/engine/runner.js';
import { dryRunTick } from '../../src/engine/tick-input.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

const SENTINEL = 'SENTINEL-KEY-5f1c2e9a7b';
const TOKEN = 'TOKEN-3c8d0b6e4f';

let scratch: { path: string; cleanup: () => void };
let home: string;
let person: string;
let repo: string;
let orch: Orch | null = null;

/**
 * A command agent: runs `attempt` (a shell snippet whose failure is expected), records in
 * attempt.txt whether it succeeded, commits that file and prints a result block.
 */
function agentScript(name: string, attempt: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `if ( ${attempt} ) >attempt.log 2>&1; then echo escaped > attempt.txt; else echo refused > attempt.txt; fi`,
      'cat attempt.log >&2; rm -f attempt.log',
      'git add attempt.txt && git -c user.name=Agent -c user.email=agent@localhost commit -q -m "attempt"',
      `printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}' '\`\`\`'`,
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

async function open(agentAttempt: string, project: Record<string, unknown> = {}): Promise<Orch> {
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { escaper: { kind: 'command', command: agentScript('escaper', agentAttempt), env: [`CHECKOUT=${repo}`, `PERSON=${person}`, `ORCH=${home}`, `ENGINE_PID=${process.pid}`] } },
      projects: { app: { path: repo, agents: ['escaper'], max_attempts: 1, ...project } },
    }),
  );
  writeFileSync(join(home, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  orch = await openOrch(home);
  return orch;
}

/** Runs one task with the escaper and returns what attempt.txt says, as merged into the checkout. */
async function attempt(agentAttempt: string, project: Record<string, unknown> = {}): Promise<string> {
  const orch = await open(agentAttempt, project);
  const task = await addTask(orch.store, { project: 'app', title: 'Try to escape' }, orch.now());
  const summary = await runTask(orch, task.id, { agent: 'escaper', sourceEnv: { PATH: process.env.PATH, HOME: person } });
  expect(summary.task.state, summary.note).toBe('done');
  return git(repo, ['show', 'main:attempt.txt']);
}

/** Every file under `dir`, read as bytes (orch.db included). */
function everyFile(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...everyFile(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

function expectNowhereInOrchHome(text: string, except: string[] = []): void {
  const holding = everyFile(home).filter((file) => !except.includes(file) && readFileSync(file).includes(Buffer.from(text)));
  expect(holding).toEqual([]);
}

beforeEach(() => {
  scratch = tempDir('orch-escape-');
  home = join(scratch.path, 'orch-home');
  person = join(scratch.path, 'person');
  mkdirSync(home);
  mkdirSync(join(person, '.ssh'), { recursive: true });
  writeFileSync(join(person, '.ssh', 'id_ed25519'), `${SENTINEL}\n`, { mode: 0o600 });
  repo = makeRepo(scratch.path, 'app');
  writeFileSync(join(repo, 'README.md'), '# app\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'readme']);
});

afterEach(async () => {
  await orch?.close();
  orch = null;
  scratch.cleanup();
});

describe('an agent in the sandbox cannot get out', () => {
  it('cannot write into the user’s checkout', async () => {
    expect(await attempt('echo pwned >> "$CHECKOUT/README.md"')).toBe('refused');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('# app\n');
  });

  it('cannot write into the person’s home', async () => {
    expect(await attempt('echo pwned > "$PERSON/pwned"')).toBe('refused');
    expect(existsSync(join(person, 'pwned'))).toBe(false);
  });

  it('cannot write into ORCH_HOME, nor remove its database', async () => {
    expect(await attempt('echo pwned > "$ORCH/pwned" || rm -f "$ORCH/orch.db"; test -f "$ORCH/pwned"')).toBe('refused');
    expect(existsSync(join(home, 'pwned'))).toBe(false);
    expect(statSync(join(home, 'orch.db')).size).toBeGreaterThan(0);
  });

  it('cannot write into, nor read, another task’s worktree', async () => {
    const other = join(home, 'projects', 'app', 'worktrees', '999');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'work.txt'), 'theirs\n');
    expect(await attempt(`cat "$ORCH/projects/app/worktrees/999/work.txt" || echo pwned > "$ORCH/projects/app/worktrees/999/work.txt"`)).toBe('refused');
    expect(readFileSync(join(other, 'work.txt'), 'utf8')).toBe('theirs\n');
  });

  it('cannot read the person’s SSH key: its content appears nowhere in ORCH_HOME', async () => {
    expect(await attempt('cat "$PERSON/.ssh/id_ed25519" > stolen.txt && git add stolen.txt && git -c user.name=A -c user.email=a@b commit -qm stolen')).toBe('refused');
    expectNowhereInOrchHome(SENTINEL);
  });

  it('cannot read the API token', async () => {
    expect(await attempt('cat "$ORCH/token" > stolen.txt && grep -q TOKEN stolen.txt')).toBe('refused');
    expectNowhereInOrchHome(TOKEN, [join(home, 'token')]);
  });

  it('cannot signal the process that runs it', async () => {
    expect(await attempt('kill -TERM "$ENGINE_PID"')).toBe('refused');
    // This test process ran the engine: it is still here to say so.
    expect(process.pid).toBeGreaterThan(0);
  });

  it('leaves no setsid child behind', async () => {
    const mark = `${Math.floor(Math.random() * 1e6)}.25`;
    expect(await attempt(`setsid sleep ${mark} < /dev/null > /dev/null 2>&1 & sleep 0.2; false`)).toBe('refused');
    const alive = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(`sleep ${mark}`));
    expect(alive).toEqual([]);
  });

  it('cannot write outside through a symlink planted in the worktree', async () => {
    symlinkSync(join(person, 'target.txt'), join(repo, 'planted'));
    writeFileSync(join(person, 'target.txt'), 'original\n');
    git(repo, ['add', 'planted']);
    git(repo, ['commit', '-q', '-m', 'plant a link']);
    expect(await attempt('echo pwned > planted || { ln -sf "$CHECKOUT/README.md" link2 && echo pwned >> link2; }')).toBe('refused');
    expect(readFileSync(join(person, 'target.txt'), 'utf8')).toBe('original\n');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('# app\n');
  });
});

describe('inside the sandbox the work still gets done', () => {
  it('lets a command agent write and commit in its worktree, and records the run’s sandbox', async () => {
    expect(await attempt('echo hello > hello.txt && git add hello.txt && git -c user.name=A -c user.email=a@b commit -qm hello')).toBe('escaped');
    expect(git(repo, ['show', 'main:hello.txt'])).toBe('hello');
    const recorded = (await orch!.store.listEvents({})).find((event) => event.type === 'run.sandbox');
    expect(recorded?.data).toMatchObject({ sandbox: 'on', network: 'model-only' });
    expect((recorded!.data as { mounts: string[] }).mounts).toContain(`hidden ${home}`);
  });

  it('records a refused write as a sandbox denial in the run’s log', async () => {
    await attempt('echo pwned >> "$CHECKOUT/README.md"');
    const denials = (await orch!.store.listEvents({})).filter((event) => event.type === 'run.sandbox_denied');
    expect(denials.length).toBeGreaterThan(0);
    const stderrLog = everyFile(join(home, 'runs')).find((file) => file.endsWith('agent.stderr.log'))!;
    expect(readFileSync(stderrLog, 'utf8')).toContain('[orch] sandbox denial:');
  });

  it('runs hooks and judge commands sandboxed: they work in the worktree and cannot reach the checkout', async () => {
    const hook = { shell: `echo from-hook > hook.txt; echo pwned >> "${repo}/README.md"; true` };
    // Their HOME is one of the run's own (caches such as npm's work), not the person's.
    const test = { shell: `test -f hook.txt && ! cat "${person}/.ssh/id_ed25519" && ! touch "${home}/judge-was-here" && mkdir -p "$HOME/.cache" && test "$HOME" != "${person}"` };
    expect(await attempt('true', { hooks: { before_run: hook }, judge: { test } })).toBe('escaped');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('# app\n');
    expect(existsSync(join(home, 'judge-was-here'))).toBe(false);
  });

  it('runs without the sandbox when the project says sandbox: off', async () => {
    expect(await attempt('echo pwned > "$PERSON/pwned"', { sandbox: 'off' })).toBe('escaped');
    expect(existsSync(join(person, 'pwned'))).toBe(true);
  });
});

describe('where the sandbox cannot run', () => {
  it('refuses to start the agent, with the reason', async () => {
    const saved = process.env.ORCH_BWRAP;
    process.env.ORCH_BWRAP = join(scratch.path, 'no-such-bwrap');
    try {
      const orch = await open('true');
      const task = await addTask(orch.store, { project: 'app', title: 'Anything' }, orch.now());
      // The scheduler starts nothing, and says why.
      const dry = await dryRunTick(orch.store, orch.config, orch.now());
      expect(dry.plan.starts).toEqual([]);
      expect(dry.plan.waiting).toEqual([expect.objectContaining({ taskId: task.id, reason: 'sandbox_unavailable' })]);
      expect(dry.plan.waiting[0]!.detail).toMatch(/bubblewrap \(bwrap\) is not found at .*no-such-bwrap.*sandbox: off/);
      // Started by hand, the attempt fails with the same reason, and the agent never runs.
      const summary = await runTask(orch, task.id, { agent: 'escaper', sourceEnv: { PATH: process.env.PATH, HOME: person } });
      expect(summary.note).toContain('bubblewrap (bwrap) is not found');
      expect(git(repo, ['log', '--format=%s', 'main'])).not.toContain('attempt');
    } finally {
      if (saved === undefined) delete process.env.ORCH_BWRAP;
      else process.env.ORCH_BWRAP = saved;
    }
  });
});
