// Orch killed with SIGKILL in the middle of an agent run, then started again: the task ends done
// exactly once and the interrupted run is named `crashed`. Without a sandbox the agent outlives Orch,
// recovery stops it, and the next run resumes its session; in the sandbox the agent dies with Orch at
// once, before it saved a session, and the next run starts afresh — the attempt given back either way.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/agents/process-group.js';
import { openOrch } from '../../src/engine/context.js';
import { CLI } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';
import type { Script } from '../rig/fake-model/script.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

function orchRun(home: string, cwd: string) {
  const child = spawn(process.execPath, [CLI, 'run', '--once'], { cwd, env: { ...process.env, ORCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, exited, output: () => output };
}

describe('crash recovery', () => {
  it('finishes a task exactly once after Orch is SIGKILLed mid-run, resuming the session the agent kept', async () => {
    expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
    const scratch = tempDir('orch-crash-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    // First the model never answers, so the agent is mid-run when Orch dies.
    const server = await startFakeModelServer({ script: [{ text: 'thinking', hang: true }] });
    cleanups.push(() => server.close());
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.yaml'),
      JSON.stringify({
        scheduler: { tick_interval_s: 1 },
        prices: { 'fake-model': { input: 5, output: 25 } },
        agents: { claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${server.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] } },
        // Without the sandbox, whose agents die with Orch (the other case below).
        projects: { app: { path: repo, default_branch: 'main', sandbox: 'off' } },
      }),
    );
    const setup = await openOrch(home);
    const { addTask } = await import('../../src/engine/tasks.js');
    await addTask(setup.store, { project: 'app', title: 'Write the notes' }, setup.now());
    await setup.close();

    const first = orchRun(home, repo);
    await server.waitForRequest((r) => r.kind === 'turn', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const crashed = await openOrch(home);
    const [interrupted] = await crashed.store.listRuns({ taskId: 1 });
    expect(interrupted).toMatchObject({ endedAt: null, outcome: null });
    // The agent outlived Orch (it runs in its own process group): recovery must stop it.
    expect(groupAlive(interrupted!.pid!)).toBe(true);
    expect(await crashed.store.listClaims()).toHaveLength(1);
    await crashed.close();

    // The resumed session replays the interrupted conversation, which Claude closes with an assistant
    // turn of its own: the script's answers count from there.
    server.setScript([
      { text: 'never asked: the interrupted turn' },
      { text: 'Writing.', tools: [{ tool: 'write_file', path: 'notes.txt', content: 'notes\n' }] },
      { text: ['Done.', '```json', '{"status":"done","summary":"wrote notes","remaining":"","follow_ups":[]}', '```'].join('\n') },
    ]);
    const turnsBefore = server.requests.filter((r) => r.kind === 'turn').length;
    const second = orchRun(home, repo);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toContain('recovered after a crash');

    const after = await openOrch(home);
    cleanups.push(() => after.close());
    expect((await after.store.getTask(1))!.state).toBe('done');
    const runs = await after.store.listRuns({ taskId: 1 });
    expect(runs.map((r) => r.outcome)).toEqual(['crashed', 'succeeded']);
    // Orch's crash was not the task's failure: the attempt was given back, and the second run resumed
    // the first one's Claude session: its first request to the model replays the interrupted
    // conversation (the original task prompt) before the note that Orch restarted.
    expect(runs.map((r) => r.attempt)).toEqual([1, 1]);
    expect((await after.store.getTask(1))!.attempts).toBe(1);
    expect(runs[0]!.sessionId).toBeTruthy();
    expect(await after.store.listEvents({ taskId: 1, types: ['run.resuming'] })).toMatchObject([{ runId: runs[1]!.id, data: { sessionId: runs[0]!.sessionId, fromRun: runs[0]!.id } }]);
    const resumedTurn = server.requests.filter((r) => r.kind === 'turn')[turnsBefore]!;
    expect(resumedTurn.turn).toBe(1);
    const resumed = JSON.stringify(resumedTurn.body);
    expect(resumed).toContain('# Task #1: Write the notes');
    expect(resumed).toContain('Orch, which runs you, stopped while you were working on task #1');
    expect(resumed.indexOf('# Task #1: Write the notes')).toBeLessThan(resumed.indexOf('Orch, which runs you, stopped'));
    expect(groupAlive(interrupted!.pid!)).toBe(false);
    expect(await after.store.listClaims()).toEqual([]);
    // Exactly one commit for the task landed on main.
    expect(git(repo, ['log', '--format=%b', 'main']).match(/Orch task #1\b/g)).toHaveLength(1);
    expect(git(repo, ['show', 'main:notes.txt'])).toBe('notes');
  });

  it('in the sandbox, the agent dies with Orch at once; the next start resumes a saved session or begins afresh', async () => {
    expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
    const scratch = tempDir('orch-crash-sandbox-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    // First the model never answers. After the crash: a resumed session (the agent saved its transcript
    // before it was killed) replays the interrupted conversation, which may already hold a turn of the
    // agent's own, so its answers count from the first or the second: writing twice is harmless.
    let crashed = false;
    const work: Script = [
      { text: 'Writing.', tools: [{ tool: 'write_file', path: 'notes.txt', content: 'notes\n' }] },
      { text: ['Done.', '```json', '{"status":"done","summary":"wrote notes","remaining":"","follow_ups":[]}', '```'].join('\n') },
    ];
    const server = await startFakeModelServer({
      script: [{ text: 'thinking', hang: true }],
      scriptFor: (texts) => (!crashed ? undefined : texts.some((text) => text.includes('Orch, which runs you, stopped')) ? [work[0]!, ...work] : work),
    });
    cleanups.push(() => server.close());
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.yaml'),
      JSON.stringify({
        scheduler: { tick_interval_s: 1 },
        agents: { claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${server.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] } },
        projects: { app: { path: repo, default_branch: 'main' } },
      }),
    );
    const setup = await openOrch(home);
    const { addTask } = await import('../../src/engine/tasks.js');
    await addTask(setup.store, { project: 'app', title: 'Write the notes' }, setup.now());
    await setup.close();

    const first = orchRun(home, repo);
    await server.waitForRequest((r) => r.kind === 'turn', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const down = await openOrch(home);
    const [interrupted] = await down.store.listRuns({ taskId: 1 });
    expect(interrupted).toMatchObject({ endedAt: null, outcome: null });
    await down.close();
    // No orphan: the sandbox and everything in it ended with Orch.
    await until(() => !groupAlive(interrupted!.pid!), 10_000, 'the sandboxed agent to be gone');

    crashed = true;
    const second = orchRun(home, repo);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toContain('recovered after a crash');

    const after = await openOrch(home);
    cleanups.push(() => after.close());
    expect((await after.store.getTask(1))!.state).toBe('done');
    const runs = await after.store.listRuns({ taskId: 1 });
    expect(runs.map((r) => r.outcome)).toEqual(['crashed', 'succeeded']);
    expect(runs.map((r) => r.attempt)).toEqual([1, 1]);
    // Resumed only when the agent had saved its session; never a run that fails on a missing one.
    const resuming = await after.store.listEvents({ taskId: 1, types: ['run.resuming'] });
    expect(resuming.length).toBeLessThanOrEqual(1);
    expect(await after.store.listClaims()).toEqual([]);
    expect(git(repo, ['log', '--format=%b', 'main']).match(/Orch task #1\b/g)).toHaveLength(1);
    expect(git(repo, ['show', 'main:notes.txt'])).toBe('notes');
  });
});
