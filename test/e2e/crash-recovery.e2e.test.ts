// Orch killed with SIGKILL in the middle of an agent run, then started again: the task ends done
// exactly once, the orphaned agent is stopped, the interrupted run is named `crashed`, and the next
// run resumes the agent's session instead of starting over.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Every session transcript (`*.jsonl`) Claude keeps under a run's HOME. */
function sessionFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.jsonl')).map((file) => join(dir, file));
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!done()) throw new Error('timed out waiting for the session to be written');
}

describe('crash recovery', () => {
  it('finishes a task exactly once after Orch is SIGKILLed mid-run', async () => {
    expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
    const scratch = tempDir('orch-crash-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    // First the agent takes a step, then the model never answers, so the agent is mid-run when Orch
    // dies. (In its sandbox the agent dies with Orch: the step it took is what its session keeps.)
    const server = await startFakeModelServer({ script: [{ text: 'Step one.', tools: [{ tool: 'write_file', path: 'step.txt', content: 'one\n' }] }, { text: 'thinking', hang: true }] });
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
    await server.waitForRequest((r) => r.kind === 'turn' && r.turn === 1, 30_000);
    // Killed once Claude has written the step to its session (a kill before that would lose the step).
    await until(() => sessionFiles(join(home, 'runs', '1', 'home')).some((file) => readFileSync(file, 'utf8').includes('step.txt')));
    first.child.kill('SIGKILL');
    await first.exited;

    const crashed = await openOrch(home);
    const [interrupted] = await crashed.store.listRuns({ taskId: 1 });
    expect(interrupted).toMatchObject({ endedAt: null, outcome: null });
    // In its sandbox (`--die-with-parent`) the agent dies with Orch; without one it would outlive
    // Orch in its own process group. Either way recovery must leave nothing running (checked below).
    expect(await crashed.store.listClaims()).toHaveLength(1);
    await crashed.close();

    // The resumed session replays the interrupted conversation, which Claude closes its own way: the
    // history counts to turn 1 or 2 depending on how much of the killed turn it had written, so the
    // write is answered at either and the result after it.
    const write = { text: 'Writing.', tools: [{ tool: 'write_file' as const, path: 'notes.txt', content: 'notes\n' }] };
    const finish = { text: ['Done.', '```json', '{"status":"done","summary":"wrote notes","remaining":"","follow_ups":[]}', '```'].join('\n') };
    server.setScript([{ text: 'never asked: the interrupted turn' }, write, write, finish, finish]);
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
    expect(resumedTurn.turn).toBeGreaterThanOrEqual(1);
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
