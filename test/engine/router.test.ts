// Routing with shell scripts standing in for the agent CLIs and for the router: labels, the router's
// answer, the round robin when the router fails, routing again, and the scheduler routing before it
// dispatches. (test/e2e/routing.e2e.test.ts does the same with the real claude and codex CLIs.)

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planTick } from '../../src/core/plan-tick.js';
import { runAttempt } from '../../src/engine/attempt.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { lastRouting, routeTask, routingDirectory } from '../../src/engine/router.js';
import { routingWeightsFor } from '../../src/engine/scoreboard.js';
import { addTask } from '../../src/engine/tasks.js';
import { gatherTickInput } from '../../src/engine/tick-input.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { endReasonFor } from '../store/fixtures.js';

let scratch: { path: string; cleanup: () => void };
let repo: string;
let orch: Orch | undefined;

function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const contract = `printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}' '\`\`\`'`;
const answer = (value: unknown) => `cat <<'EOF'\nHere is my decision.\n\`\`\`json\n${JSON.stringify(value)}\n\`\`\`\nEOF`;
const PROFILE = { role: 'careful refactorer', skills: ['sql'], tools: ['grep'], constraints: ['keep the API'] };

beforeEach(() => {
  scratch = tempDir('orch-router-');
  repo = makeRepo(scratch.path, 'app');
  writeFileSync(join(repo, 'README.md'), 'app\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'readme']);
});
afterEach(async () => {
  await orch?.close();
  orch = undefined;
  scratch.cleanup();
});

/** A project with workers alpha and beta (each writes a file naming itself and its model) and routers of every temper. */
async function open(routing: Record<string, unknown>, project: Record<string, unknown> = {}): Promise<Orch> {
  const worker = (name: string) => script(name, `echo "${name} $ORCH_MODEL" > "done-$ORCH_TASK_ID.txt"\n${contract}`);
  const agents = {
    alpha: { kind: 'command', command: worker('alpha'), model: 'alpha-1' },
    beta: { kind: 'command', command: worker('beta'), model: 'beta-1' },
    gamma: { kind: 'command', command: worker('gamma') },
    picker: { kind: 'command', command: script('picker', `cat > "$HOME/../seen.txt"\npwd > "$HOME/../cwd.txt"\n${answer({ agent: 'beta', complexity: 'complex', reason: 'beta knows the database layer', profile: PROFILE })}`) },
    outsider: { kind: 'command', command: script('outsider', answer({ agent: 'gamma', complexity: 'simple', reason: 'gamma is quick' })) },
    rambler: { kind: 'command', command: script('rambler', 'echo "I would give it to beta, probably."') },
    sleeper: { kind: 'command', command: script('sleeper', 'sleep 30') },
    broken: { kind: 'command', command: script('broken', 'echo "cannot reach the model" >&2\nexit 3') },
  };
  const home = join(scratch.path, 'home');
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { tick_interval_s: 1 },
      agents,
      // The fake router reports what it saw in files outside its scratch directory, which a sandboxed
      // run may not write: the sandbox itself is tested in test/e2e/sandbox-escape.e2e.test.ts.
      projects: { app: { path: repo, sandbox: 'off', agents: ['alpha', 'beta'], max_agents: 2, routing: { model_map: { complex: { beta: 'beta-large' } }, ...routing }, ...project } },
    }),
  );
  orch = await openOrch(home);
  return orch;
}

const newTask = (o: Orch, extra: { labels?: string[]; title?: string } = {}) => addTask(o.store, { project: 'app', title: extra.title ?? 'Speed up the query', labels: extra.labels }, o.now());

describe('routing a task', () => {
  it('takes an agent: label without asking the router', async () => {
    const o = await open({ router: { agent: 'broken' } });
    const task = await newTask(o, { labels: ['agent:beta', 'complexity:complex'] });
    const routed = await routeTask(o, task.id);
    expect(routed?.decision).toEqual({ agent: 'beta', model: 'beta-large', complexity: 'complex', by: 'label', reason: 'label agent:beta; complexity from label complexity:complex', profile: null });
    expect(routed?.task).toMatchObject({ state: 'routed', agent: 'beta', model: 'beta-large', complexity: 'complex' });
    expect(existsSync(routingDirectory(o.home, task.id))).toBe(false);
  });

  it('takes the router\'s answer, run read-only in a scratch directory, and records it', async () => {
    const o = await open({ router: { agent: 'picker' } });
    const task = await newTask(o);
    const routed = await routeTask(o, task.id);
    expect(routed?.decision).toEqual({ agent: 'beta', model: 'beta-large', complexity: 'complex', by: 'router', reason: 'beta knows the database layer', profile: PROFILE });
    expect(await lastRouting(o.store, task.id)).toMatchObject({ agent: 'beta', by: 'router', profile: PROFILE, routerAttempts: 1 });
    const dir = routingDirectory(o.home, task.id);
    expect(readFileSync(join(dir, 'prompt-1.md'), 'utf8')).toContain(`# Route task #${task.id} of project app`);
    expect(readFileSync(join(dir, 'seen.txt'), 'utf8')).toContain('"agent" must be one of: alpha, beta.');
    expect(readFileSync(join(dir, 'cwd.txt'), 'utf8').trim()).toBe(join(dir, 'work'));
    const types = (await o.store.listEvents({ taskId: task.id })).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['task.route', 'task.routed']);
  });

  it('falls back to the round robin when the answer is not JSON, after the allowed attempts, telling the router why', async () => {
    const o = await open({ router: { agent: 'rambler', attempts: 2 } });
    const task = await newTask(o);
    const routed = await routeTask(o, task.id);
    expect(routed?.decision).toMatchObject({ agent: 'alpha', by: 'fallback', reason: expect.stringMatching(/^the router failed \(rambler: no JSON object in the router's answer \(2 attempts\)\), so round robin: alpha/) });
    expect(readFileSync(join(routingDirectory(o.home, task.id), 'prompt-2.md'), 'utf8')).toContain("Your previous answer was not accepted: no JSON object in the router's answer.");
  });

  it('refuses an answer naming an agent the project may not use, or one cooling down', async () => {
    const o = await open({ router: { agent: 'outsider', attempts: 1 } });
    const first = await routeTask(o, (await newTask(o)).id);
    expect(first?.decision).toMatchObject({ agent: 'alpha', by: 'fallback', reason: expect.stringContaining('the router chose gamma, which this project may not use (alpha, beta)') });

    await o.store.setCooldown('beta', o.now() + 60_000, 'rate limited', o.now());
    const picker = await open({ router: { agent: 'picker', attempts: 1 } });
    await o.close();
    const second = await routeTask(picker, (await newTask(picker)).id);
    // beta is cooling down: neither the router nor the round robin may choose it.
    expect(second?.decision).toMatchObject({ agent: 'alpha', by: 'fallback', reason: expect.stringContaining('the router chose beta, which cannot work now') });
  });

  it('falls back when the router times out or its CLI fails', async () => {
    const o = await open({ router: { agent: 'sleeper', timeout_s: 1, attempts: 1 } });
    const started = Date.now();
    const slow = await routeTask(o, (await newTask(o)).id);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(slow?.decision).toMatchObject({ by: 'fallback', reason: expect.stringMatching(/^the router failed \(sleeper: its run timed out after 1s \(1 attempt\)\)/) });

    const broken = await open({ router: { agent: 'broken', attempts: 1 } });
    await o.close();
    const failed = await routeTask(broken, (await newTask(broken)).id);
    expect(failed?.decision).toMatchObject({ by: 'fallback', reason: expect.stringMatching(/^the router failed \(broken: its run failed: .*\)/) });
  });

  it('routes again on request, asking the router afresh, but never a task that is running or done', async () => {
    const o = await open({ router: { agent: 'picker' } });
    const task = await newTask(o, { labels: [] });
    await o.store.updateTask(task.id, {}, { agent: 'alpha', model: 'alpha-1' }, o.now(), { type: 'task.test' });
    // Routing by itself keeps the agent the task already has; routing again does not.
    expect((await routeTask(o, task.id))?.decision).toMatchObject({ agent: 'alpha', by: 'preset' });
    expect((await routeTask(o, task.id, { again: true }))?.decision).toMatchObject({ agent: 'beta', by: 'router' });

    const attempt = await runAttempt(o, task.id, { cwd: repo, sourceEnv: { PATH: process.env.PATH } });
    expect(attempt.run).toMatchObject({ agent: 'beta', model: 'beta-large' });
    expect(attempt.task.state).toBe('judging');
    await expect(routeTask(o, task.id, { again: true })).rejects.toThrow(`task ${task.id} is judging: route it again once it is not running`);
    expect(await routeTask(o, task.id)).toBeNull();
  });
});

describe('the scoreboard as weights', () => {
  it('weighs each agent by its smoothed success rate in the project when use_scoreboard is on', async () => {
    const o = await open({ use_scoreboard: true });
    // alpha's four runs all failed; beta's four all succeeded.
    for (const [agent, outcome] of [...Array(4).fill(['alpha', 'failed']), ...Array(4).fill(['beta', 'succeeded'])] as [string, 'failed' | 'succeeded'][]) {
      const task = await newTask(o, { title: `${agent} ${outcome}` });
      await o.store.updateTask(task.id, {}, { state: 'routed', agent }, o.now(), { type: 'task.test' });
      const claim = (await o.store.claimTask({ taskId: task.id, owner: 'test', leaseMs: 60_000, now: o.now() }))!;
      const run = await o.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent, model: null, startedAt: o.now() }, claim.token);
      await o.store.updateRun(run.id, claim.token, { endedAt: o.now() + 1000, outcome, endReason: endReasonFor(outcome) }, o.now());
      await o.store.releaseClaim(task.id, claim.token, o.now());
      await o.store.updateTask(task.id, {}, { state: 'done' }, o.now(), { type: 'task.test' });
    }
    expect(await routingWeightsFor(o.store, o.config.projects.app!, o.now())).toEqual({ alpha: 1 / 6, beta: 5 / 6 });
    // Four tasks each so far, yet beta's share is five times alpha's: the next tasks go to beta.
    const next = await routeTask(o, (await newTask(o)).id);
    expect(next?.decision).toMatchObject({ agent: 'beta', by: 'round_robin', reason: 'round robin: beta is furthest behind its share (tasks/weight: alpha 4/w0.17, beta 4/w0.83)' });
  });
});

describe('routing in the scheduler', () => {
  it('asks the router before dispatching, then runs the task with the routed agent and model', async () => {
    const o = await open({ router: { agent: 'picker' } });
    const task = await newTask(o);
    // The tick hands the task to the router instead of starting it.
    const plan = planTick(await gatherTickInput(o.store, o.config, o.now()));
    expect(plan).toMatchObject({ starts: [], routes: [{ taskId: task.id, project: 'app' }] });

    const progress: string[] = [];
    const results = await runCycle(o, { once: true, pollMs: 200, sourceEnv: { PATH: process.env.PATH }, onProgress: (p) => progress.push(p.type) });
    expect(results.map((r) => r.task.state)).toEqual(['done']);
    expect(progress.slice(0, 3)).toEqual(['routing', 'routed', 'started']);
    expect(git(repo, ['show', `main:done-${task.id}.txt`])).toBe('beta beta-large');
    const [run] = await o.store.listRuns({ taskId: task.id });
    expect(run).toMatchObject({ agent: 'beta', model: 'beta-large' });
    const types = (await o.store.listEvents({ taskId: task.id })).map((e) => e.type);
    expect(types.indexOf('task.routed')).toBeLessThan(types.indexOf('task.start'));
  });

  it('shares tasks by the round robin\'s weights when there is no router, and honours labels', async () => {
    const o = await open({ weights: { alpha: 2, beta: 1 } }, { max_agents: 1 });
    const labelled = await newTask(o, { title: 'Labelled', labels: ['agent:beta'] });
    for (let i = 0; i < 6; i++) await newTask(o, { title: `Task ${i}` });
    const results = await runCycle(o, { once: true, pollMs: 100, sourceEnv: { PATH: process.env.PATH } });
    expect(results.map((r) => r.task.state)).toEqual(Array(7).fill('done'));
    const runs = await o.store.listRuns();
    const byAgent = (agent: string) => runs.filter((r) => r.agent === agent).length;
    // beta's labelled task counts towards its share: 7 tasks at 2 to 1.
    expect([byAgent('alpha'), byAgent('beta')]).toEqual([5, 2]);
    expect(await lastRouting(o.store, labelled.id)).toMatchObject({ agent: 'beta', by: 'label' });
    const routings = await Promise.all(runs.filter((r) => r.taskId !== labelled.id).map((r) => lastRouting(o.store, r.taskId)));
    expect(routings.every((r) => r?.by === 'round_robin' && r.reason.startsWith('round robin:'))).toBe(true);
  });
});
