import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const children: ChildProcess[] = [];
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });

/** A command an agent script runs: a file name unique to the task, so the judge sees a change. */
const script = (name: string, body: string) => {
  const path = join(scratch.path, `${name}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
};

beforeEach(() => {
  scratch = tempDir('orch-cli-watch-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(home);
  const agents = {
    // Reports a tool call and its own cost as AgentEvent JSON lines, as a wrapper script may.
    script: script('script', `echo "line one"\necho '{"type":"tool_call","id":null,"name":"Bash","input":{"command":"ls -la"}}'\necho '{"type":"cost","usd":0.25,"cumulative":true}'\necho hi > "out-$ORCH_TASK_ID.txt"`),
    slow: script('slow', 'for i in 1 2 3; do echo "step $i"; sleep 0.4; done\necho hi > "slow-$ORCH_TASK_ID.txt"'),
    sleeper: script('sleeper', 'echo "going to sleep"\nsleep 300'),
  };
  const config = {
    agents: Object.fromEntries(Object.entries(agents).map(([name, command]) => [name, { kind: 'command', command }])),
    projects: { app: { path: repo, agents: ['script', 'slow', 'sleeper'] } },
  };
  writeFileSync(join(home, 'config.yaml'), JSON.stringify(config));
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  scratch.cleanup();
});

interface Background {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code; fails the test if the process outlives `ms`. */
  exit(ms?: number): Promise<number>;
}

/** Starts `orch` without waiting for it, as a second terminal would. */
function background(...args: string[]): Background {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: repo, env: { ...process.env, ORCH_HOME: home, NO_COLOR: '1' } });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    output: () => output,
    exit: (ms = 30_000) =>
      Promise.race([exited, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`orch ${args.join(' ')} still running after ${ms} ms:\n${output}`)), ms).unref())]),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `[a, b, c]` appear in this order in `text`. */
function expectInOrder(text: string, parts: string[]): void {
  let at = -1;
  for (const part of parts) {
    const found = text.indexOf(part, at + 1);
    expect(found, `"${part}" after position ${at} in:\n${text}`).toBeGreaterThan(at);
    at = found;
  }
}

describe('orch cost', () => {
  it('reports spend by project, agent and day, as text and JSON', () => {
    expect(orch('cost').stdout).toBe('No runs.\n');
    orch('task', 'add', 'Say hello');
    expect(orch('task', 'run', '1').code).toBe(0);
    const text = orch('cost');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/PROJECT\s+RUNS\s+COST\s+TOKENS IN\s+TOKENS OUT\napp\s+1\s+\$0\.25\s+0\s+0\ntotal\s+1\s+\$0\.25/);
    const byAgent = orch('cost', '--by', 'agent', '--json').json<{ by: string; rows: { key: string; runs: number; costUsd: number }[]; total: { costUsd: number } }>();
    expect(byAgent.by).toBe('agent');
    expect(byAgent.rows).toEqual([{ key: 'script', runs: 1, costUsd: 0.25, tokensIn: 0, tokensOut: 0 }]);
    expect(byAgent.total.costUsd).toBe(0.25);
    const today = new Date().toISOString().slice(0, 10);
    expect(orch('cost', '--by', 'day', '--json').json<{ rows: { key: string }[] }>().rows[0]!.key).toBe(today);
    expect(orch('cost', '--since', '2999-01-01', '--project', 'app').stdout).toBe('No runs in app since 2999-01-01.\n');
    expect(orch('cost', '--by', 'colour').code).toBe(2);
    expect(orch('cost', '--since', '2024-02-31').code).toBe(2);
    expect(orch('cost', '--project', 'nope').code).toBe(3);
  });
});

describe('orch stream and orch task attach', () => {
  it('replays a finished task readably with --from-start and exits 0', () => {
    orch('task', 'add', 'Say hello');
    expect(orch('task', 'run', '1').code).toBe(0);
    const stream = orch('stream', '1', '--from-start');
    expect(stream.code, stream.stderr).toBe(0);
    expectInOrder(stream.stdout, [
      'Following #1 Say hello (done)',
      '· new → routed',
      '▶ run 1 started: script, attempt 1',
      'line one',
      '→ tool: Bash(ls -la)',
      '■ run 1 ended succeeded: the agent exited 0 ($0.2500)',
      '· running → judging',
      '⚖ verdict: passed',
      '· merging → done',
      '■ #1 is done — merged as',
    ]);
    expect(stream.stdout).not.toContain('{');
    // By default it starts at the current run; --json prints the events themselves.
    expect(orch('stream', '1').stdout).not.toContain('new → routed');
    const events = orch('stream', '1', '--json').stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; taskId: number });
    expect(events[0]!.type).toBe('run.created');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['agent.assistant_text', 'agent.cost', 'run.ended', 'task.finish']));
    expect(events.every((e) => e.taskId === 1)).toBe(true);
    expect(orch('stream', '9').code).toBe(3);
  });

  it('follows a task run by another process as it happens, and exits when it is done', async () => {
    orch('task', 'add', 'Count slowly');
    const stream = background('stream', '1');
    const attach = background('task', 'attach', '1');
    await waitFor('the stream to start', () => stream.output().includes('Following #1'));
    await waitFor('attach to wait', () => attach.output().includes('Waiting for #1 to start (new)'));
    const run = background('task', 'run', '1', '--agent', 'slow');
    expect(await stream.exit(), stream.output()).toBe(0);
    expectInOrder(stream.output(), ['▶ run 1 started: slow', 'step 1', 'step 2', 'step 3', '■ run 1 ended succeeded', '■ #1 is done']);
    // attach ends with the run, before the judge.
    expect(await attach.exit(), attach.output()).toBe(0);
    expectInOrder(attach.output(), ['step 1', 'step 3', '■ run 1 ended succeeded']);
    expect(attach.output()).not.toContain('verdict');
    expect(await run.exit()).toBe(0);
  });
});

describe('orch task live and orch task kill', () => {
  it('shows a claimed task live, and kill stops its agent so the task is retried', async () => {
    orch('task', 'add', 'Sleep on it');
    expect(orch('task', 'live', '--once').stdout).toBe('No task holds a claim.\n');
    expect(orch('task', 'live', '--json').json()).toEqual([]);
    expect(orch('task', 'kill', '1').code).toBe(4);

    const run = background('task', 'run', '1', '--agent', 'sleeper');
    let pid: number | null = null;
    try {
      pid = await waitFor('the agent to start', () => orch('task', 'get', '1', '--json').json<{ runs: { pid: number | null }[] }>().runs[0]?.pid);
      const live = orch('task', 'live', '--once');
      expect(live.stdout).toMatch(/ID\s+PROJECT\s+AGENT\s+STATE\s+ELAPSED\s+COST\s+TITLE\n#1\s+app\s+sleeper\s+running\s+\d+s\s+\$0\.0000\s+Sleep on it/);
      expect(live.stdout).toContain('Sleep on it  (implement)');
      // Without a TTY, plain `task live` prints one snapshot, with no redraw codes, and exits.
      const plain = orch('task', 'live');
      expect(plain.stdout).toMatch(/^ID\s+PROJECT[^\n]*\n#1\s+app\s+sleeper\s+running[^\n]*\n$/);
      expect(plain.stdout).not.toContain('\x1b');
      const [row] = orch('task', 'live', '--json').json<{ taskId: number; agent: string; state: string; runId: number; costUsd: number }[]>();
      expect(row).toMatchObject({ taskId: 1, agent: 'sleeper', state: 'running', runId: 1, costUsd: 0 });

      const attach = background('task', 'attach', '1');
      await waitFor('attach to show the run', () => attach.output().includes('going to sleep'));
      const kill = orch('task', 'kill', '1');
      expect(kill.code, kill.stderr).toBe(0);
      expect(kill.stdout).toContain(`Stopped the agent of #1 (run 1, pid ${pid})`);

      expect(await run.exit()).toBe(1);
      expect(run.output()).toMatch(/✗ #1 (routed|new|needs_review)/);
      expect(await attach.exit()).toBe(0);
      expectInOrder(attach.output(), ['going to sleep', '✗ kill requested for run 1', '■ run 1 ended crashed: killed by SIGTERM']);
      const task = orch('task', 'get', '1', '--json').json<{ state: string; claim: unknown; runs: { outcome: string }[] }>();
      expect(['routed', 'new', 'needs_review']).toContain(task.state);
      expect(task.claim).toBeNull();
      expect(task.runs[0]!.outcome).toBe('crashed');
      expect(orch('log', '1').stdout).toContain('run.kill_requested');
      // Nothing runs any more: a second kill is refused.
      const again = orch('task', 'kill', '1');
      expect(again.code).toBe(4);
      expect(again.stderr).toContain('task 1 has no running agent');
      expect(orch('task', 'live', '--once').stdout).toBe('No task holds a claim.\n');
    } finally {
      if (pid !== null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone, as it should be
        }
      }
    }
  });

  it('refuses to kill a task with no live run, or no such task', () => {
    orch('task', 'add', 'Idle');
    const idle = orch('task', 'kill', '1', '--json');
    expect(idle.code).toBe(4);
    expect(idle.json()).toEqual({ error: { code: 'conflict', message: 'task 1 has no running agent' } });
    expect(orch('task', 'kill', '7').code).toBe(3);
  });
});
