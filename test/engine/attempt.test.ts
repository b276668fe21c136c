import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runAttempt, runDirectory } from '../../src/engine/attempt.js';
import { addTask } from '../../src/engine/tasks.js';
import { gatherTickInput } from '../../src/engine/tick-input.js';
import { planTick } from '../../src/core/plan-tick.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { runLogLine } from '../../src/engine/run-files.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;
let clock = 1_700_000_000_000;

/** Shell scripts standing in for agent CLIs, as `command` agents. */
function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const line = (value: unknown) => `echo '${JSON.stringify(value)}'`;
const contract = (status: string, summary: string) => `printf '%s\\n' '\`\`\`json' '{"status":"${status}","summary":"${summary}","remaining":"","follow_ups":[]}' '\`\`\`'`;

beforeEach(async () => {
  scratch = tempDir('orch-attempt-');
  repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const agents = {
    good: script('good', `echo "edited" > result.txt\n${line({ type: 'cost', usd: 0.4, cumulative: true })}\n${contract('done', 'wrote result.txt')}`),
    failing: script('failing', 'echo "it broke" >&2\nexit 2'),
    limited: script('limited', `${line({ type: 'rate_limit', message: 'HTTP 429 Too Many Requests', retryAfterMs: 30000 })}\nexit 1`),
    stuck: script('stuck', contract('blocked', 'needs a database URL')),
    slow: script('slow', 'echo working\nsleep 300'),
    idle: script('idle', 'echo "I had a look and all seems fine."'),
    committer: script('committer', 'echo "edited" > result.txt\ngit add -A && git -c user.name=Agent -c user.email=agent@localhost commit -q -m "write result.txt"'),
  };
  writeFileSync(
    join(home, 'config.yaml'),
    [
      'agents:',
      ...Object.entries(agents).flatMap(([name, command]) => [`  ${name}:`, '    kind: command', `    command: ${command}`]),
      'projects:',
      '  app:',
      `    path: ${repo}`,
      '    agents: [limited, good]',
      // These agents run in the checkout itself (the attempt alone, without a worktree), which a
      // sandboxed run may never write: the sandbox is tested in test/e2e/sandbox-escape.e2e.test.ts.
      '    sandbox: off',
      '    max_attempts: 2',
      '    backoff: { base_s: 10, cap_s: 100, jitter: 0 }',
    ].join('\n'),
  );
  orch = await openOrch(home, () => clock);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

async function newTask(title = 'Write result.txt') {
  return addTask(orch.store, { project: 'app', title }, clock);
}

describe('one attempt of an agent on a task', () => {
  it('ends a run that streams a 600 MB line as output_limit, and the task is retried like any failed attempt', async () => {
    writeFileSync(join(scratch.path, 'bin', 'flood'), `#!/bin/sh\nhead -c ${600 * 1024 * 1024} /dev/zero | tr '\\0' 'z'\necho\n`);
    chmodSync(join(scratch.path, 'bin', 'flood'), 0o755);
    const config = readFileSync(join(orch.home, 'config.yaml'), 'utf8')
      .replace('agents:\n', `agents:\n  flood:\n    kind: command\n    command: ${join(scratch.path, 'bin', 'flood')}\n`)
      .replace('    max_attempts: 2\n', '    max_attempts: 2\n    run: { max_output_mb: 5 }\n');
    writeFileSync(join(orch.home, 'config.yaml'), config);
    await orch.close();
    orch = await openOrch(orch.home, () => clock);
    const task = await newTask();
    const { run, task: after, decision } = await runAttempt(orch, task.id, { cwd: repo, agent: 'flood' });
    expect(run.outcome).toBe('output_limit');
    expect(decision).toMatchObject({ next: 'retry', reason: expect.stringContaining('run.max_output_mb') });
    expect(after.state).toBe('routed');
    const kept = readFileSync(join(runDirectory(orch.home, run.id), 'agent.jsonl'), 'utf8');
    expect(kept.length).toBeLessThan(2 * 1024 * 1024);
  });

  it('keeps a long output line whole only in agent.jsonl: its event row holds the start and the line it came from', async () => {
    writeFileSync(join(scratch.path, 'bin', 'chatty'), `#!/bin/sh\necho short\nhead -c 100000 /dev/zero | tr '\\0' 'y'\necho\n`);
    chmodSync(join(scratch.path, 'bin', 'chatty'), 0o755);
    const config = readFileSync(join(orch.home, 'config.yaml'), 'utf8').replace('agents:\n', `agents:\n  chatty:\n    kind: command\n    command: ${join(scratch.path, 'bin', 'chatty')}\n`);
    writeFileSync(join(orch.home, 'config.yaml'), config);
    await orch.close();
    orch = await openOrch(orch.home, () => clock);
    const task = await newTask();
    const { run } = await runAttempt(orch, task.id, { cwd: repo, agent: 'chatty' });
    const log = readFileSync(join(runDirectory(orch.home, run.id), 'agent.jsonl'), 'utf8').split('\n');
    expect(log[1]).toBe('y'.repeat(100_000));
    const texts = (await orch.store.listEvents({ taskId: task.id, types: ['agent.assistant_text'] })).map((e) => e.data);
    expect(texts[0]).toEqual({ type: 'assistant_text', text: 'short', logLine: 1 });
    expect(texts[1]).toEqual({ type: 'assistant_text', text: 'y'.repeat(1000), logLine: 2, cut: { text: 99_000 } });
    // The whole line is read back from agent.jsonl, where alone it is kept.
    expect(await runLogLine(orch, run.id, 2)).toBe('y'.repeat(100_000));
    await expect(runLogLine(orch, run.id, 9)).rejects.toThrow(`run ${run.id}'s agent output has 2 lines, not 9`);
  });


  it("stores a talkative run's events in batches, all of them in order and before the run's end", async () => {
    writeFileSync(join(scratch.path, 'bin', 'talker'), `#!/bin/sh\nfor i in $(seq 1 300); do echo "line $i"; done\n`);
    chmodSync(join(scratch.path, 'bin', 'talker'), 0o755);
    const config = readFileSync(join(orch.home, 'config.yaml'), 'utf8').replace('agents:\n', `agents:\n  talker:\n    kind: command\n    command: ${join(scratch.path, 'bin', 'talker')}\n`);
    writeFileSync(join(orch.home, 'config.yaml'), config);
    await orch.close();
    orch = await openOrch(orch.home, () => clock);
    let batches = 0;
    const appendEvents = orch.store.appendEvents.bind(orch.store);
    orch.store.appendEvents = (events) => {
      batches++;
      return appendEvents(events);
    };
    const task = await newTask();
    await runAttempt(orch, task.id, { cwd: repo, agent: 'talker' });
    const events = await orch.store.listEvents({ taskId: task.id });
    const texts = events.filter((e) => e.type === 'agent.assistant_text').map((e) => e.data.text);
    expect(texts).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i + 1}`));
    const ended = events.findIndex((e) => e.type === 'run.ended');
    expect(events.findLastIndex((e) => e.type === 'agent.assistant_text')).toBeLessThan(ended);
    expect(batches).toBeLessThan(300);
  });

  it('gives up an attempt whose events the store cannot take (a full disk) with that error, as a failed single write did', async () => {
    const task = await newTask();
    orch.store.appendEvents = () => Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    await expect(runAttempt(orch, task.id, { cwd: repo, agent: 'good' })).rejects.toThrow('database or disk is full');
  });

  it('runs the agent, records the run and its events, and hands the task to the judge', async () => {
    const task = await newTask();
    const { run, task: after, decision, result } = await runAttempt(orch, task.id, { cwd: repo, agent: 'good' });
    expect(decision.next).toBe('judge');
    expect(after).toMatchObject({ state: 'judging', attempts: 1, agent: 'good', costUsd: 0.4 });
    expect(run).toMatchObject({ outcome: 'succeeded', exitCode: 0, costUsd: 0.4, attempt: 1, agent: 'good' });
    expect(result).toMatchObject({ status: 'done', summary: 'wrote result.txt' });
    expect(readFileSync(join(repo, 'result.txt'), 'utf8')).toBe('edited\n');
    const dir = runDirectory(orch.home, run.id);
    expect(readFileSync(join(dir, 'prompt.md'), 'utf8')).toContain('# Task #1: Write result.txt');
    expect(existsSync(join(dir, 'agent.jsonl'))).toBe(true);
    const types = (await orch.store.listEvents({ taskId: task.id })).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['task.route', 'task.start', 'run.created', 'run.started', 'run.spawned', 'agent.cost', 'agent.assistant_text', 'run.ended', 'task.judge', 'claim.released']));
    expect(types.indexOf('task.start')).toBeLessThan(types.indexOf('agent.cost'));
    expect(await orch.store.listClaims()).toEqual([]);
  });

  it('retries a failed run after a backoff, then asks a person once attempts run out', async () => {
    const task = await newTask();
    const first = await runAttempt(orch, task.id, { cwd: repo, agent: 'failing' });
    expect(first.decision).toMatchObject({ next: 'retry', backoff: true });
    expect(first.task).toMatchObject({ state: 'routed', attempts: 1, nextAttemptAt: clock + 10_000 });
    expect(first.run.outcome).toBe('failed');
    clock += 10_000;
    const second = await runAttempt(orch, task.id, { cwd: repo, agent: 'failing' });
    expect(second.task.state).toBe('needs_review');
    expect(second.task.blockedReason).toMatch(/2 of 2 attempts failed; the last: exited 2/);
    // The second prompt tells the agent how the first attempt ended.
    expect(readFileSync(join(runDirectory(orch.home, second.run.id), 'prompt.md'), 'utf8')).toContain('Attempt 1 ended failed');
  });

  it('cools a rate-limited agent down and lets the next tick hand the task to the fallback agent', async () => {
    const task = await newTask();
    const limited = await runAttempt(orch, task.id, { cwd: repo });
    expect(limited.run.outcome).toBe('rate_limited');
    expect(limited.task).toMatchObject({ state: 'routed', attempts: 0, agent: null, nextAttemptAt: null });
    expect(await orch.store.activeCooldowns(clock)).toEqual([expect.objectContaining({ key: 'limited', until: clock + 30_000 })]);
    const plan = planTick(await gatherTickInput(orch.store, orch.config, clock));
    expect(plan.starts).toEqual([expect.objectContaining({ taskId: task.id, agent: 'good' })]);
    const retried = await runAttempt(orch, task.id, { cwd: repo, agent: plan.starts[0]!.agent });
    expect(retried.task.state).toBe('judging');
  });

  it('does not take a run that changed nothing and gave no result block for success', async () => {
    const task = await newTask();
    const { run, task: after, decision } = await runAttempt(orch, task.id, { cwd: repo, agent: 'idle' });
    expect(run.outcome).toBe('succeeded');
    expect(decision).toMatchObject({ next: 'retry', reason: 'the agent exited 0 without a result block and changed nothing' });
    expect(after.state).toBe('routed');
  });

  it('hands the work of an agent that committed it itself and gave no result block to the judge', async () => {
    const task = await newTask();
    const { decision, task: after } = await runAttempt(orch, task.id, { cwd: repo, agent: 'committer' });
    expect(decision.next).toBe('judge');
    expect(after.state).toBe('judging');
  });

  it('blocks the task when the agent says it is blocked', async () => {
    const task = await newTask();
    const { task: after } = await runAttempt(orch, task.id, { cwd: repo, agent: 'stuck' });
    expect(after).toMatchObject({ state: 'blocked', blockKind: 'agent' });
    expect(after.blockedReason).toContain('needs a database URL');
  });

  it('stops a cancelled run and leaves the task to a person', async () => {
    const task = await newTask();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const { run, task: after } = await runAttempt(orch, task.id, { cwd: repo, agent: 'slow', signal: controller.signal });
    expect(run.outcome).toBe('cancelled');
    expect(after.state).toBe('needs_review');
    expect(await orch.store.listClaims()).toEqual([]);
  });

  it('refuses a task another run holds', async () => {
    const task = await newTask();
    await orch.store.claimTask({ taskId: task.id, owner: 'elsewhere', leaseMs: 60_000, now: clock });
    await expect(runAttempt(orch, task.id, { cwd: repo, agent: 'good' })).rejects.toThrow(`task ${task.id} is already claimed`);
    expect((await orch.store.getTask(task.id))!.state).toBe('new');
  });
});
