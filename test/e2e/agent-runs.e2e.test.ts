// The real, pinned agent CLIs driven by Orch's own adapters, supervisor and attempt engine against
// fake model servers on 127.0.0.1, each in a fresh git repository: file changes, events, usage, cost
// and the named outcome of every way a run can end. After each run no process of its group is left.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/agents/process-group.js';
import { planTick } from '../../src/core/plan-tick.js';
import { runAttempt, runDirectory, type AttemptResult } from '../../src/engine/attempt.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { gatherTickInput } from '../../src/engine/tick-input.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { AGENT_CLI_KINDS, cliAvailable, cliPath, missingCliMessage, type AgentCliKind } from '../rig/agent-clis.js';
import type { Script, ScriptTurn } from '../rig/fake-model/script.js';
import { startFakeModelServer, type FakeModelServer } from '../rig/fake-model/server.js';

const FAKE_MODEL = 'fake-model';
const contractBlock = (summary: string) =>
  ['All done.', '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n');

beforeAll(() => {
  const missing = AGENT_CLI_KINDS.filter((kind) => !cliAvailable(kind));
  // The CLIs are part of the test setup (npm test installs them): their absence is a failure, not a skip.
  if (missing.length > 0) throw new Error(missing.map(missingCliMessage).join('\n'));
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** How each agent is configured to reach its fake server: only through the agent's own `env` entries. */
function agentEntry(kind: AgentCliKind, url: string): Record<string, unknown> {
  switch (kind) {
    case 'claude':
      return {
        kind,
        command: cliPath(kind),
        model: FAKE_MODEL,
        env: [`ANTHROPIC_BASE_URL=${url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'],
      };
    case 'codex':
      return { kind, command: cliPath(kind), model: FAKE_MODEL, env: [`ORCH_CODEX_BASE_URL=${url}/v1`, 'OPENAI_API_KEY=fake-key', 'ORCH_CODEX_MAX_RETRIES=0'] };
    case 'opencode':
      return {
        kind,
        command: cliPath(kind),
        model: `anthropic/${FAKE_MODEL}`,
        env: [
          `ORCH_OPENCODE_BASE_URL=${url}/v1`,
          'ANTHROPIC_API_KEY=fake-key',
          // OpenCode installs a plugin from npm on every run; the fake server answers its registry requests.
          `npm_config_registry=${url}/npm-registry/`,
          `OPENCODE_CONFIG_CONTENT=${JSON.stringify({ provider: { anthropic: { options: { maxRetries: 0 }, models: { [FAKE_MODEL]: { name: 'Fake model' } } } } })}`,
        ],
      };
    case 'gemini':
      return { kind, command: cliPath(kind), model: 'gemini-2.5-flash', env: [`GOOGLE_GEMINI_BASE_URL=${url}`, 'GEMINI_API_KEY=fake-key'] };
  }
}

interface World {
  orch: Orch;
  repo: string;
  servers: Record<string, FakeModelServer>;
}

/**
 * A project whose agents each talk to a fake server of their own, in the order given (the fallback
 * chain). `run` settings and a budget can be set per test.
 */
async function world(chain: AgentCliKind[], scripts: Partial<Record<AgentCliKind, Script>>, project: Record<string, unknown> = {}): Promise<World> {
  const scratch = tempDir('orch-e2e-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  writeFileSync(join(repo, 'notes.txt'), 'alpha\n');
  const servers: Record<string, FakeModelServer> = {};
  const agents: Record<string, unknown> = {};
  for (const kind of chain) {
    const server = await startFakeModelServer({ script: scripts[kind] ?? [] });
    cleanups.push(() => server.close());
    servers[kind] = server;
    agents[kind] = agentEntry(kind, server.url);
  }
  const home = join(scratch.path, 'home');
  // The attempts run in `repo` itself, without a worktree; the project's own checkout is a clone beside
  // it, which the sandbox hides like any person's checkout.
  const checkout = join(scratch.path, 'checkout');
  git(scratch.path, ['clone', '-q', repo, checkout]);
  const config = {
    scheduler: { max_agents: 4 },
    // Unknown models cost $5/M in and $25/M out in Claude; the same prices make every CLI's cost exact.
    prices: { [FAKE_MODEL]: { input: 5, output: 25 }, 'gemini-2.5-flash': { input: 5, output: 25 } },
    agents,
    projects: { app: { path: checkout, agents: chain, max_attempts: 3, backoff: { base_s: 5, cap_s: 60, jitter: 0 }, ...project } },
  };
  // JSON is YAML: no escaping surprises in the env entries.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify(config, null, 2));
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, repo, servers };
}

async function attempt(w: World, agent: AgentCliKind, extra: { signal?: AbortSignal; taskId?: number } = {}): Promise<AttemptResult> {
  const taskId = extra.taskId ?? (await addTask(w.orch.store, { project: 'app', title: 'Edit the notes', body: 'Follow the plan.' }, w.orch.now())).id;
  const result = await runAttempt(w.orch, taskId, { cwd: w.repo, agent, signal: extra.signal, sourceEnv: { PATH: process.env.PATH } });
  // Whatever happened, nothing the run started may still be running.
  expect(result.run.pid).not.toBeNull();
  expect(groupAlive(result.run.pid!)).toBe(false);
  return result;
}

async function eventTypes(w: World, runId: number): Promise<string[]> {
  return (await w.orch.store.listEvents({})).filter((e) => e.runId === runId).map((e) => e.type);
}

const usage = (input: number, output: number) => ({ usage: { input, output } });
const expectedCost = (turns: { input: number; output: number }[]) => turns.reduce((sum, t) => sum + (t.input * 5 + t.output * 25) / 1e6, 0);

const WRITE_AND_FINISH = (summary: string): Script => [
  { text: 'Writing the file.', tools: [{ tool: 'write_file', path: 'hello.txt', content: 'hi\n' }], ...usage(2000, 100) },
  { text: contractBlock(summary), ...usage(3000, 200) },
];

describe.each(AGENT_CLI_KINDS)('%s, driven by Orch', (kind) => {
  it('runs a scripted edit to success and records files, events, usage, cost and outcome', async () => {
    const w = await world([kind], { [kind]: WRITE_AND_FINISH('created hello.txt') });
    const { run, task, result, report } = await attempt(w, kind);
    expect(run.outcome).toBe('succeeded');
    expect(readFileSync(join(w.repo, 'hello.txt'), 'utf8')).toBe('hi\n');
    expect(task.state).toBe('judging');
    expect(result).toMatchObject({ status: 'done', summary: 'created hello.txt' });
    expect(run.tokensOut).toBeGreaterThan(0);
    expect(run.costUsd).toBeGreaterThan(0);
    expect(task.costUsd).toBeCloseTo(run.costUsd, 10);
    const types = await eventTypes(w, run.id);
    expect(types).toEqual(expect.arrayContaining(['run.started', 'agent.session_started', 'agent.tool_call', 'agent.usage', 'run.ended']));
    expect(report.sessionId).toBeTruthy();
    if (kind === 'claude') expect(run.costUsd).toBeCloseTo(expectedCost([{ input: 2000, output: 100 }, { input: 3000, output: 200 }]), 6);
    expect(existsSync(run.logPath!)).toBe(true);
  });

  it('hands the model the whole prompt of a task whose body is about 200 KiB', async () => {
    // Longer than Linux lets one argument be (128 KiB): the prompt must not travel in argv.
    const lines = Array.from({ length: 2048 }, (_, i) => `chunk-${String(i).padStart(5, '0')} ${'lorem ipsum dolor sit amet '.repeat(3)}`.padEnd(100, '.'));
    const body = lines.join('\n');
    expect(body.length).toBeGreaterThan(200 * 1024);
    const w = await world([kind], { [kind]: WRITE_AND_FINISH('read it all') });
    const task = await addTask(w.orch.store, { project: 'app', title: 'Read the long brief', body }, w.orch.now());
    const { run, result } = await attempt(w, kind, { taskId: task.id });
    expect(run.outcome, run.result === null ? '' : JSON.stringify(run.result)).toBe('succeeded');
    expect(result?.summary).toBe('read it all');
    const first = JSON.stringify(w.servers[kind]!.requests.find((r) => r.kind === 'turn')!.body);
    const seen = new Set(first.match(/chunk-\d{5} /g));
    expect(seen.size).toBe(lines.length);
    expect(first).toContain(lines.at(-1)!);
    expect(first).toContain('Read the long brief');
    // Orch's standing instructions (the result contract) arrive too, in the system prompt or before the task.
    expect(first).toContain('A separate task worth doing later');
  });
});

describe.each(['claude', 'codex'] as const)('%s: every way a run ends', (kind) => {
  const other = kind === 'claude' ? 'codex' : 'claude';

  it('makes a multi-step edit: write, edit, shell, then report', async () => {
    const script: Script = [
      { text: 'Step one.', tools: [{ tool: 'write_file', path: 'plan.md', content: 'step one\n' }], ...usage(1000, 50) },
      { text: 'Step two.', tools: [{ tool: 'edit_file', path: 'plan.md', old: 'step one', new: 'step two' }], ...usage(1500, 60) },
      { text: 'Step three.', tools: [{ tool: 'shell', command: 'echo built > build.log' }], ...usage(2000, 70) },
      { text: contractBlock('three steps'), ...usage(2500, 80) },
    ];
    const w = await world([kind], { [kind]: script });
    const { run, result } = await attempt(w, kind);
    expect(run.outcome).toBe('succeeded');
    expect(readFileSync(join(w.repo, 'plan.md'), 'utf8')).toBe('step two\n');
    expect(readFileSync(join(w.repo, 'build.log'), 'utf8').trim()).toBe('built');
    expect(result?.summary).toBe('three steps');
    const calls = (await w.orch.store.listEvents({ types: ['agent.tool_call'] })).filter((e) => e.runId === run.id);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(w.servers[kind]!.requests.filter((r) => r.kind === 'turn').length).toBeGreaterThanOrEqual(4);
  });

  it('names an API error `failed` and puts the task back with a backoff', async () => {
    const w = await world([kind], { [kind]: [{ status: 500, errorMessage: 'internal error' }] });
    const { run, task, decision } = await attempt(w, kind);
    expect(run.outcome).toBe('failed');
    expect(decision).toMatchObject({ next: 'retry', backoff: true });
    expect(task).toMatchObject({ state: 'routed', attempts: 1 });
    expect(task.nextAttemptAt).toBeGreaterThan(w.orch.now());
  });

  it('cools a rate-limited agent down and hands the task to the fallback agent', async () => {
    const w = await world([kind, other], { [kind]: [{ status: 429, retryAfterSeconds: 120 }], [other]: WRITE_AND_FINISH('done by the fallback') });
    const limited = await attempt(w, kind);
    expect(limited.run.outcome).toBe('rate_limited');
    expect(limited.task).toMatchObject({ state: 'routed', attempts: 0, agent: null });
    const cooldowns = await w.orch.store.activeCooldowns(w.orch.now());
    expect(cooldowns.map((c) => c.key)).toEqual([kind]);
    const plan = planTick(await gatherTickInput(w.orch.store, w.orch.config, w.orch.now()));
    expect(plan.starts).toEqual([expect.objectContaining({ taskId: limited.task.id, agent: other })]);
    const fallback = await attempt(w, plan.starts[0]!.agent as AgentCliKind, { taskId: limited.task.id });
    expect(fallback.run).toMatchObject({ outcome: 'succeeded', agent: other });
    expect(fallback.task.state).toBe('judging');
  });

  it('kills a run that stalls and names it `stalled`', async () => {
    const w = await world([kind], { [kind]: [{ text: 'thinking', hang: true }] }, { run: { stall_s: 3, timeout_s: 120 } });
    const { run, report } = await attempt(w, kind);
    expect(run.outcome).toBe('stalled');
    expect(report.killedFor).toBe('stall');
  });

  it('stops a run whose cost passes its budget: `budget_exceeded`', async () => {
    // $0.30 a turn. Claude reports usage per message, so it is stopped mid-run; Codex reports tokens only
    // when its turn completes, so its overrun is caught at the end — still named budget_exceeded.
    const expensive: ScriptTurn = { text: 'Working.', tools: [{ tool: 'write_file', path: 'big.txt', content: 'x\n' }], ...usage(30_000, 6_000) };
    const w = await world([kind], { [kind]: [expensive, expensive, expensive, expensive, { text: contractBlock('spent') }] }, { budget: { run_usd: 1 } });
    const { run } = await attempt(w, kind);
    expect(run.outcome).toBe('budget_exceeded');
    expect(run.costUsd).toBeGreaterThan(1);
  });

  it('stops a run that passes its time limit: `timed_out`', async () => {
    const w = await world([kind], { [kind]: [{ text: 'slow', delayMs: 60_000 }] }, { run: { timeout_s: 3, stall_s: 120 } });
    const { run, report } = await attempt(w, kind);
    expect(run.outcome).toBe('timed_out');
    expect(report.killedFor).toBe('timeout');
  });

  it('resumes the session of a run that Orch\'s crash interrupted', async () => {
    // The first run edits a file, then hangs until it is stopped; the store then says what recovery
    // says after a crash (the run `crashed`), so the next attempt continues that session.
    const w = await world([kind], { [kind]: [{ text: 'Step one.', tools: [{ tool: 'write_file', path: 'step.txt', content: 'one\n' }] }, { text: 'thinking', hang: true }] }, { run: { stall_s: 4, timeout_s: 120 } });
    const first = await attempt(w, kind);
    expect(first.run.outcome).toBe('stalled');
    expect(first.run.sessionId).toBeTruthy();
    await w.orch.store.updateRun(first.run.id, null, { outcome: 'crashed' }, w.orch.now());
    await w.orch.store.updateTask(first.task.id, {}, { nextAttemptAt: null }, w.orch.now(), { type: 'task.test', data: {} });
    const turnsBefore = w.servers[kind]!.requests.filter((r) => r.kind === 'turn').length;
    // Each CLI closes the interrupted turn its own way, so whichever turn the replayed history counts
    // to, the answer is the same.
    const finish: ScriptTurn = { text: contractBlock('finished after the restart') };
    w.servers[kind]!.setScript([{ text: 'Step one.' }, finish, finish, finish]);

    const second = await attempt(w, kind, { taskId: first.task.id });
    expect(second.run.outcome).toBe('succeeded');
    expect(second.result?.summary).toBe('finished after the restart');
    const replayed = JSON.stringify(w.servers[kind]!.requests.filter((r) => r.kind === 'turn')[turnsBefore]!.body);
    // The model sees the interrupted conversation (the original prompt and the first step's tool call)
    // before the note that Orch restarted.
    expect(replayed).toContain('Edit the notes');
    expect(replayed).toContain('step.txt');
    expect(replayed).toContain('Orch, which runs you, stopped');
    expect(readFileSync(join(runDirectory(w.orch.home, second.run.id), 'prompt.md'), 'utf8')).toContain(`resuming session ${first.run.sessionId}`);
  });

  it('cancels a run on request: `cancelled`', async () => {
    const w = await world([kind], { [kind]: [{ text: 'waiting', hang: true }] }, { run: { stall_s: 120, timeout_s: 120 } });
    const controller = new AbortController();
    void w.servers[kind]!.waitForRequest((r) => r.kind === 'turn', 30_000).then(() => controller.abort());
    const { run, task } = await attempt(w, kind, { signal: controller.signal });
    expect(run.outcome).toBe('cancelled');
    expect(task.state).toBe('needs_review');
  });
});
