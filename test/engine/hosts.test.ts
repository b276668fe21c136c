import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reachableRunHome } from '../../src/engine/attempt-prompt.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { listHostViews, registerThisHost } from '../../src/engine/hosts.js';
import { recover } from '../../src/engine/recovery.js';
import { addTask } from '../../src/engine/tasks.js';
import { applyTransition } from '../../src/engine/transitions.js';
import { makeRepo, tempDir } from '../helpers/git.js';

const T0 = 1_700_000_000_000;
const LEASE_MS = 60_000;
let clock = T0;
let scratch: { path: string; cleanup: () => void };
let orch: Orch;

beforeEach(async () => {
  clock = T0;
  scratch = tempDir('orch-hosts-');
  const repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({ scheduler: { lease_s: LEASE_MS / 1000, tick_interval_s: 10, max_agents: 3 }, agents: { script: { kind: 'command', command: 'true' } }, projects: { app: { path: repo, agents: ['script'] } } }),
  );
  orch = await openOrch(home, () => clock);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

/** Another daemon, on another machine: its process is nothing this one can see. */
async function farHost(name = 'far', startedAt = T0) {
  return (await orch.store.registerHost({ name, machine: 'far-away', pid: 4242, version: '0.9.0', slots: 2, startedAt }, null))!;
}

/** A task running on the far host: its claim (owner far-away:4242) and its open run. */
async function runningElsewhere() {
  const task = await addTask(orch.store, { project: 'app', title: 'Runs far away' }, clock);
  const routed = await applyTransition(orch.store, task, 'route', { now: clock, patch: { agent: 'script' } });
  const claim = (await orch.store.claimTask({ taskId: task.id, owner: 'far-away:4242', leaseMs: LEASE_MS, now: clock }))!;
  await applyTransition(orch.store, routed, 'start', { now: clock, fence: claim.token, patch: { attempts: 1 } });
  const run = await orch.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'script', host: 'far', pid: 999_999, startedAt: clock }, claim.token);
  return { task, claim, run };
}

describe('registering this daemon', () => {
  it("takes the machine's name, a suffix while a live daemon has it, and a stale daemon's name back", async () => {
    await orch.store.registerHost({ name: hostname(), machine: 'far-away', pid: 1, version: '1', slots: 1, startedAt: T0 }, null);
    const second = await registerThisHost(orch, { version: '1.0.0' });
    expect(second.name).toBe(`${hostname()}-2`);
    expect(orch.hostName).toBe(`${hostname()}-2`);
    const rows = await orch.store.listHosts();
    expect(rows.find((h) => h.name === second.name)).toMatchObject({ machine: hostname(), pid: process.pid, version: '1.0.0', slots: 3, stoppedAt: null });

    // Three periods later neither has heartbeat: both names are free again, the machine's first.
    clock = T0 + 3 * LEASE_MS + 1;
    const third = await registerThisHost(orch, { version: '1.0.1' });
    expect(third.name).toBe(hostname());
    expect((await orch.store.listHosts()).find((h) => h.name === hostname())).toMatchObject({ machine: hostname(), version: '1.0.1', startedAt: clock });
  });

  it('refuses a configured name a live daemon has, in one line saying what to do', async () => {
    await farHost('build-1');
    await expect(registerThisHost(orch, { name: 'build-1', version: '1' })).rejects.toThrow('host name build-1 is taken by a live daemon (pid 4242 on far-away): choose another with --host-name');
    expect((await registerThisHost(orch, { name: 'build-2', version: '1' })).name).toBe('build-2');
  });
});

describe('taking over the claims of another host', () => {
  it('never touches the run of a live host whose lease is live, nor of a stale one', async () => {
    await registerThisHost(orch, { version: '1' });
    const far = await farHost();
    const { task, claim, run } = await runningElsewhere();
    expect(await recover(orch)).toEqual([]);
    // Its heartbeat is old (stale) but its lease was renewed: it may only be slow.
    clock = T0 + 4 * LEASE_MS;
    await orch.store.renewClaim(task.id, claim.token, clock + LEASE_MS);
    expect((await listHostViews(orch)).find((h) => h.name === far.name)?.state).toBe('stale');
    expect(await recover(orch)).toEqual([]);
    expect(await orch.store.getRun(run.id)).toMatchObject({ endedAt: null, endReason: null });
    expect(await orch.store.getClaim(task.id)).toMatchObject({ token: claim.token });
    expect((await orch.store.getTask(task.id))!.state).toBe('running');
  });

  it('once the lease expired, ends the run host_lost and retries the task without costing an attempt', async () => {
    const self = await registerThisHost(orch, { version: '1' });
    await farHost();
    const { task, run } = await runningElsewhere();
    // Its agent was waiting for a person: with the run gone, the request leaves the inbox.
    const asked = await orch.store.createApproval({ project: 'app', taskId: task.id, runId: run.id, kind: 'question', tool: null, input: null, question: 'Which port?' }, clock);
    clock = T0 + LEASE_MS + 1;
    expect(await recover(orch)).toMatchObject([{ taskId: task.id, runId: run.id, action: 'retry' }]);
    expect(await orch.store.getRun(run.id)).toMatchObject({ endedAt: clock, outcome: 'crashed', endReason: 'host_lost' });
    expect(await orch.store.getApproval(asked.id)).toMatchObject({ state: 'timed_out', decidedBy: 'timeout', reason: 'the run ended before anyone decided' });
    expect(await orch.store.getTask(task.id)).toMatchObject({ state: 'routed', attempts: 0, nextAttemptAt: null });
    expect(await orch.store.listClaims()).toEqual([]);
    expect(await orch.store.listEvents({ taskId: task.id, types: ['run.recovered'] })).toMatchObject([{ data: { host: 'far', by: self.name, endReason: 'host_lost' } }]);
    // Recovered once: a second pass (another daemon's, or this one's next patrol) finds nothing.
    expect(await recover(orch)).toEqual([]);
  });

  it('takes over at once the live claims of a host that said it stopped', async () => {
    await registerThisHost(orch, { version: '1' });
    const far = await farHost();
    const { task } = await runningElsewhere();
    await orch.store.markHostStopped(far, clock);
    expect(await recover(orch)).toMatchObject([{ taskId: task.id, action: 'retry' }]);
  });

  it('shows each host with its state and the tasks it runs', async () => {
    const self = await registerThisHost(orch, { version: '1' });
    await farHost();
    const { task } = await runningElsewhere();
    expect(await listHostViews(orch)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'far', state: 'alive', running: [task.id], slots: 2, version: '0.9.0' }),
        expect.objectContaining({ name: self.name, state: 'alive', running: [] }),
      ]),
    );
    await orch.store.markHostStopped(self, clock);
    expect((await listHostViews(orch)).find((h) => h.name === self.name)?.state).toBe('gone');
  });
});

describe("an interrupted run's files", () => {
  it('are found under this ORCH_HOME, else beside the run log on a path both hosts share, else nowhere', () => {
    const shared = join(scratch.path, 'shared', 'runs', '7');
    expect(reachableRunHome(orch, { id: 7, logPath: join(shared, 'agent.jsonl') })).toBeNull();
    mkdirSync(join(shared, 'home'), { recursive: true });
    expect(reachableRunHome(orch, { id: 7, logPath: join(shared, 'agent.jsonl') })).toBe(join(shared, 'home'));
    mkdirSync(join(orch.home, 'runs', '7', 'home'), { recursive: true });
    expect(reachableRunHome(orch, { id: 7, logPath: join(shared, 'agent.jsonl') })).toBe(join(orch.home, 'runs', '7', 'home'));
    expect(reachableRunHome(orch, { id: 8, logPath: null })).toBeNull();
  });
});
