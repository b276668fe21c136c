// Orch killed with SIGKILL in the middle of an agent run, then started again: the task ends done
// exactly once, the orphaned agent is stopped, the interrupted run is named `crashed`, and the next
// run resumes the agent's session instead of starting over.

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

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

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
  it('finishes a task exactly once after Orch is SIGKILLed mid-run', async () => {
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
        // The fake model server listens on the host's loopback: `network: full` reaches it (`model-only` does through Orch's proxy).
        projects: { app: { path: repo, default_branch: 'main', network: 'full' } },
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
});
