import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchConfig, type ConfigReload } from '../../src/engine/config-watch.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { PAUSE_AFTER_FAILURES, patrol } from '../../src/engine/patrol.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import type { TrackerSync } from '../../src/engine/tracker-sync.js';
import { setPaused } from '../../src/engine/projects.js';
import { addTask } from '../../src/engine/tasks.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let home: string;
let configText: string;

function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeEach(async () => {
  scratch = tempDir('orch-daemon-parts-');
  const repo = makeRepo(scratch.path, 'app');
  home = join(scratch.path, 'home');
  mkdirSync(home);
  configText = JSON.stringify({
    agents: {
      slow: { kind: 'command', command: script('slow', 'echo working\nsleep 30') },
      failing: { kind: 'command', command: script('failing', 'exit 3') },
    },
    projects: { app: { path: repo, agents: ['slow'], max_attempts: 20, backoff: { base_s: 0.01, cap_s: 0.01, jitter: 0 } } },
  });
  writeFileSync(join(home, 'config.yaml'), configText);
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

const env = { PATH: process.env.PATH };

describe('the scheduler', () => {
  it('coalesces tick requests made while it sleeps, and stops a run whose task was cancelled elsewhere', async () => {
    const scheduler = new Scheduler(orch, { pollMs: 60_000, sourceEnv: env });
    const controller = new AbortController();
    const loop = scheduler.run({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 200));
    const ticksBefore = scheduler.stats.ticks;
    for (let i = 0; i < 20; i++) scheduler.requestTick();
    await new Promise((r) => setTimeout(r, 300));
    // Twenty requests while idle made one or two ticks, not twenty.
    expect(scheduler.stats.ticks - ticksBefore).toBeGreaterThanOrEqual(1);
    expect(scheduler.stats.ticks - ticksBefore).toBeLessThanOrEqual(2);

    const task = await addTask(orch.store, { project: 'app', title: 'Slow work' }, orch.now());
    scheduler.requestTick();
    const deadline = Date.now() + 10_000;
    while (!(await orch.store.listRuns({ taskId: task.id })).some((r) => r.pid !== null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(scheduler.running()).toEqual([task.id]);
    // Cancelled by another process (the CLI): the next tick stops the run.
    await orch.store.transaction(async (tx) => {
      const t = (await tx.getTask(task.id))!;
      await tx.updateTask(t.id, { expectedVersion: t.version }, { state: 'cancelled' }, orch.now(), { type: 'task.cancel', data: {} });
    });
    scheduler.requestTick();
    while (scheduler.running().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(scheduler.running()).toEqual([]);
    const [run] = await orch.store.listRuns({ taskId: task.id });
    expect(run!.outcome).toBe('cancelled');
    controller.abort();
    await loop;
    expect(await orch.store.listClaims()).toEqual([]);
  });
});

describe('the scheduler loop', () => {
  it('ticks again at once for a request that came between a tick and the sleep after it, and stops as soon as asked then', async () => {
    const scheduler = new Scheduler(orch, { pollMs: 600_000, sourceEnv: env });
    const listTasks = orch.store.listTasks.bind(orch.store);
    let requested = false;
    // The loop looks up the soonest backoff (the routed tasks) after a tick, before it sleeps: a wake-up
    // (a tracker's file changed, a webhook) lands right there.
    orch.store.listTasks = async (filter) => {
      if (!requested && filter?.states?.length === 1 && filter.states[0] === 'routed') {
        requested = true;
        scheduler.requestTick();
      }
      return listTasks(filter);
    };
    const controller = new AbortController();
    const loop = scheduler.run({ signal: controller.signal });
    const deadline = Date.now() + 20_000;
    while (scheduler.stats.ticks < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(requested).toBe(true);
    expect(scheduler.stats.ticks).toBeGreaterThanOrEqual(2);

    // A stop asked for in the same place ends the loop, not the ten-minute sleep.
    orch.store.listTasks = async (filter) => {
      if (filter?.states?.length === 1 && filter.states[0] === 'routed') controller.abort();
      return listTasks(filter);
    };
    scheduler.requestTick();
    const stopped = await Promise.race([loop.then(() => true), new Promise((r) => setTimeout(() => r(false), 20_000))]);
    expect(stopped).toBe(true);
  });
});

describe('patrol', () => {
  it('pauses a project after consecutive failed attempts, with a reason, and lets a resume stick', async () => {
    orch.config.projects.app!.agents = ['failing'];
    const scheduler = new Scheduler(orch, { pollMs: 20, sourceEnv: env });
    await addTask(orch.store, { project: 'app', title: 'Always fails' }, orch.now());
    const controller = new AbortController();
    const loop = scheduler.run({ signal: controller.signal });
    const deadline = Date.now() + 15_000;
    while ((await orch.store.listRuns({ project: 'app' })).filter((r) => r.endedAt !== null).length < PAUSE_AFTER_FAILURES && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    await loop;
    const report = await patrol(orch, new Set());
    expect(report.paused).toEqual([expect.objectContaining({ project: 'app' })]);
    const project = (await orch.store.getProject('app'))!;
    expect(project.paused).toBe(true);
    expect(project.pausedReason).toMatch(/last 5 attempts failed/);
    await setPaused(orch, 'app', false);
    expect((await patrol(orch, new Set())).paused).toEqual([]);
    expect((await orch.store.getProject('app'))!.paused).toBe(false);
  });
});

describe('config hot reload', () => {
  it('applies a valid change and refuses an invalid one, keeping the last good config', async () => {
    const results: ConfigReload[] = [];
    const stop = watchConfig(orch, (r) => results.push(r), 50);
    try {
      const waitFor = async (n: number) => {
        const deadline = Date.now() + 5000;
        while (results.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      };
      const next = JSON.parse(configText) as { scheduler?: { max_agents: number } };
      next.scheduler = { max_agents: 9 };
      writeFileSync(join(home, 'config.yaml'), JSON.stringify(next));
      await waitFor(1);
      expect(results[0]).toEqual({ ok: true });
      expect(orch.config.scheduler.maxAgents).toBe(9);
      writeFileSync(join(home, 'config.yaml'), readFileSync(join(home, 'config.yaml'), 'utf8').replace('"max_agents":9', '"max_agents":"lots"'));
      await waitFor(2);
      expect(results[1]).toMatchObject({ ok: false, error: expect.stringMatching(/scheduler\.max_agents/) });
      expect(orch.config.scheduler.maxAgents).toBe(9);
      const types = (await orch.store.listEvents({ types: ['config.reloaded', 'config.rejected'] })).map((e) => e.type);
      expect(types).toEqual(['config.reloaded', 'config.rejected']);
    } finally {
      stop();
    }
  });
});

describe('recovery', () => {
  it('gives the attempt back after a crash, and sends a task to a person once Orch has died under it CRASH_LIMIT times', async () => {
    const { hostname } = await import('node:os');
    const { CRASH_LIMIT } = await import('../../src/core/after-run.js');
    const { recover } = await import('../../src/engine/recovery.js');
    const { applyTransition } = await import('../../src/engine/transitions.js');
    const task = await addTask(orch.store, { project: 'app', title: 'Crash magnet' }, orch.now());
    // A pid no process has: the claim's owner is dead, as after a SIGKILL.
    const deadOwner = `${hostname()}:${2 ** 22 + 12345}`;
    for (let crash = 1; crash <= CRASH_LIMIT; crash++) {
      await orch.store.transaction(async (tx) => {
        const now = orch.now();
        const claim = (await tx.claimTask({ taskId: task.id, owner: deadOwner, leaseMs: 60_000, now }))!;
        let current = (await tx.getTask(task.id))!;
        if (current.state === 'new') current = await applyTransition(tx, current, 'route', { now, fence: claim.token, patch: { agent: 'slow' } });
        current = await applyTransition(tx, current, 'start', { now, fence: claim.token, patch: { attempts: current.attempts + 1 } });
        await tx.createRun({ taskId: task.id, project: 'app', attempt: current.attempts, agent: 'slow', model: null, host: hostname(), startedAt: now }, claim.token);
      });
      const [recovered] = await recover(orch);
      const after = (await orch.store.getTask(task.id))!;
      if (crash < CRASH_LIMIT) {
        expect(recovered).toMatchObject({ taskId: task.id, action: 'retry' });
        expect(after).toMatchObject({ state: 'routed', attempts: 0, nextAttemptAt: null });
      } else {
        expect(recovered).toMatchObject({ taskId: task.id, action: 'escalate' });
        expect(after.state).toBe('needs_review');
        expect(after.blockedReason).toContain(`Orch stopped during ${CRASH_LIMIT} attempts`);
      }
    }
    const runs = await orch.store.listRuns({ taskId: task.id });
    expect(runs.map((r) => r.outcome)).toEqual(Array(CRASH_LIMIT).fill('crashed'));
    expect(await orch.store.listClaims()).toEqual([]);
  });

  /** An attempt of the task that Orch dies under: claimed by a dead owner, then recovered. */
  async function attemptOrchDiesUnder(taskId: number) {
    const { hostname } = await import('node:os');
    const { recover } = await import('../../src/engine/recovery.js');
    const { applyTransition } = await import('../../src/engine/transitions.js');
    await orch.store.transaction(async (tx) => {
      const now = orch.now();
      const claim = (await tx.claimTask({ taskId, owner: `${hostname()}:${2 ** 22 + 12345}`, leaseMs: 60_000, now }))!;
      let current = (await tx.getTask(taskId))!;
      if (current.state === 'new') current = await applyTransition(tx, current, 'route', { now, fence: claim.token, patch: { agent: 'slow' } });
      current = await applyTransition(tx, current, 'start', { now, fence: claim.token, patch: { attempts: current.attempts + 1 } });
      await tx.createRun({ taskId, project: 'app', attempt: current.attempts, agent: 'slow', model: null, host: hostname(), startedAt: now }, claim.token);
    });
    return (await recover(orch))[0]!;
  }

  it('stops starting a task Orch died under 3 times in a row, and counts afresh after a person retries it', async () => {
    const { CRASH_LIMIT } = await import('../../src/core/after-run.js');
    const { retryTask } = await import('../../src/engine/tasks.js');
    expect(CRASH_LIMIT).toBe(3);
    const task = await addTask(orch.store, { project: 'app', title: 'Kills Orch' }, orch.now());
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    const third = await attemptOrchDiesUnder(task.id);
    expect(third).toMatchObject({ action: 'escalate', reason: expect.stringContaining('3 attempts of this task in a row') });
    expect((await orch.store.getTask(task.id))!.state).toBe('needs_review');

    await retryTask(orch.store, task.id, orch.now());
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('escalate');
  });

  it('counts only interruptions in a row: an attempt that ran to its end starts the count afresh', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Sometimes there when Orch dies' }, orch.now());
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    // An attempt that ends on its own releases its claim.
    const { beginAttempt, endAttempt, applyDecision } = await import('../../src/engine/attempt.js');
    const attempt = await beginAttempt(orch, task.id);
    await orch.store.transaction((tx) => applyDecision(tx, attempt, attempt.task, { next: 'retry', reason: 'failed', backoff: false, countsAsAttempt: true, changeAgent: false }, orch.now()));
    await endAttempt(orch, attempt);
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('retry');
    expect((await attemptOrchDiesUnder(task.id)).action).toBe('escalate');
  });
});

describe('the scheduler and backoffs', () => {
  it('ticks when a backoff ends, without waiting for the next interval', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Backing off' }, orch.now());
    const { applyTransition } = await import('../../src/engine/transitions.js');
    const routed = await applyTransition(orch.store, task, 'route', { now: orch.now(), patch: { agent: 'slow' } });
    await orch.store.updateTask(task.id, { expectedVersion: routed.version }, { nextAttemptAt: orch.now() + 400 }, orch.now(), { type: 'task.backoff', data: {} });
    // An interval far longer than the test: only the backoff's end can start the task.
    const scheduler = new Scheduler(orch, { pollMs: 600_000, sourceEnv: env });
    const controller = new AbortController();
    const loop = scheduler.run({ signal: controller.signal, graceMs: 0 });
    const deadline = Date.now() + 20_000;
    while (scheduler.running().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(scheduler.running()).toEqual([task.id]);
    expect(scheduler.stats.ticks).toBeGreaterThanOrEqual(2);
    const { cancelTask } = await import('../../src/engine/tasks.js');
    await cancelTask(orch.store, task.id, orch.now());
    scheduler.requestTick();
    controller.abort();
    await loop;
  });
});

describe('the scheduler and tracker reports', () => {
  it('runs one more report pass when a tick ends while a pass is still going, so the last move is told', async () => {
    const passes: number[] = [];
    let release: () => void = () => undefined;
    const trackers = {
      syncDue: async () => undefined,
      trackerOf: () => undefined,
      reportChanges: () => {
        passes.push(Date.now());
        // The first pass hangs until released, as a slow tracker would.
        return passes.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
    } as unknown as TrackerSync;
    const scheduler = new Scheduler(orch, { pollMs: 600_000, sourceEnv: env, trackers });
    await scheduler.tick();
    await scheduler.tick();
    await scheduler.tick();
    expect(passes).toHaveLength(1);
    release();
    await scheduler.reported();
    // Two ticks ended during the first pass: one more pass, not two.
    expect(passes).toHaveLength(2);
  });
});
