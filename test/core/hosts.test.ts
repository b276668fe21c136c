import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  claimRecoverable,
  claimsByHost,
  heartbeatPeriodMs,
  HOST_NAME_PATTERN,
  hostOfOwner,
  hostState,
  ownerOf,
  parseOwner,
  pickHostName,
  recoveredEndReason,
  STALE_AFTER_PERIODS,
} from '../../src/core/hosts.js';
import { countRunningWork } from '../../src/core/running-work.js';
import { planTick, type TickInput, type TickProject } from '../../src/core/plan-tick.js';
import { isEndReason, RUN_END_REASONS } from '../../src/core/end-reasons.js';
import type { Host } from '../../src/core/types.js';

const PERIOD = 120_000;
const host = (name: string, over: Partial<Host> = {}): Host => ({
  name,
  machine: 'box',
  pid: 100,
  version: '1.0.0',
  slots: 4,
  startedAt: 0,
  heartbeatAt: 0,
  stoppedAt: null,
  ...over,
});

describe('host state', () => {
  it('is gone once stopped, stale past STALE_AFTER_PERIODS periods without a heartbeat, else alive', () => {
    expect(hostState(host('a', { heartbeatAt: 0 }), STALE_AFTER_PERIODS * PERIOD, PERIOD)).toBe('alive');
    expect(hostState(host('a', { heartbeatAt: 0 }), STALE_AFTER_PERIODS * PERIOD + 1, PERIOD)).toBe('stale');
    expect(hostState(host('a', { heartbeatAt: 0, stoppedAt: 5 }), 10, PERIOD)).toBe('gone');
  });

  it('never comes back to alive as time passes without a heartbeat', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), fc.nat(10_000_000), fc.integer({ min: 1, max: 1_000_000 }), fc.option(fc.nat(1000), { nil: null }), (heartbeatAt, t1, dt, period, stoppedAt) => {
        const h = { heartbeatAt, stoppedAt };
        const before = hostState(h, t1, period);
        const after = hostState(h, t1 + dt, period);
        if (before !== 'alive') expect(after).toBe(before);
        expect(after === 'gone').toBe(stoppedAt !== null);
      }),
    );
  });

  it('measures staleness in the longer of the lease and the tick interval', () => {
    expect(heartbeatPeriodMs(120_000, 10_000)).toBe(120_000);
    expect(heartbeatPeriodMs(60_000, 300_000)).toBe(300_000);
  });
});

describe('owners', () => {
  it('reads back the machine and pid an owner was made of', () => {
    fc.assert(
      fc.property(fc.stringMatching(HOST_NAME_PATTERN), fc.integer({ min: 1, max: 4_194_304 }), (machine, pid) => {
        expect(parseOwner(ownerOf({ machine, pid }))).toEqual({ machine, pid });
      }),
    );
    expect(parseOwner('no-pid')).toBeNull();
    expect(parseOwner('box:0')).toBeNull();
    expect(parseOwner(':12')).toBeNull();
  });

  it('finds the latest host of an owner, and none for a process that is no host', () => {
    const hosts = [host('old', { pid: 7, startedAt: 1 }), host('new', { pid: 7, startedAt: 9 }), host('other', { pid: 8 })];
    expect(hostOfOwner(hosts, 'box:7')?.name).toBe('new');
    expect(hostOfOwner(hosts, 'box:9')).toBeUndefined();
  });

  it('counts each claim once, under the host whose process holds it', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ taskId: fc.nat(50), pid: fc.integer({ min: 1, max: 6 }) }), { maxLength: 30 }), (seeds) => {
        const hosts = [1, 2, 3].map((pid) => host(`h${pid}`, { pid }));
        const claims = seeds.map((s) => ({ taskId: s.taskId, owner: `box:${s.pid}` }));
        const byHost = claimsByHost(hosts, claims);
        expect([...byHost.keys()].sort()).toEqual(['h1', 'h2', 'h3']);
        const counted = [...byHost.values()].flat().length;
        expect(counted).toBe(seeds.filter((s) => s.pid <= 3).length);
        for (const [name, ids] of byHost) {
          expect(ids).toEqual([...ids].sort((a, b) => a - b));
          expect(ids.length).toBe(seeds.filter((s) => `h${s.pid}` === name).length);
        }
      }),
    );
  });
});

describe('taking a claim over', () => {
  const states = fc.constantFrom('alive' as const, 'stale' as const, 'gone' as const, null);
  it('never takes a live lease from an owner that is alive', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.nat(1_000_000), (now, ahead) => {
        expect(claimRecoverable({ leaseUntil: now + ahead }, { host: 'alive', processGone: false }, now)).toBe(false);
        expect(claimRecoverable({ leaseUntil: now + ahead }, { host: null, processGone: false }, now)).toBe(false);
      }),
    );
  });

  it('always takes an expired lease, whatever its owner', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 1_000_000 }), states, fc.boolean(), (now, behind, state, gone) => {
        expect(claimRecoverable({ leaseUntil: now - behind }, { host: state, processGone: gone }, now)).toBe(true);
      }),
    );
  });

  it('takes a live lease only from an owner seen dead or gone', () => {
    expect(claimRecoverable({ leaseUntil: 10 }, { host: 'gone', processGone: false }, 5)).toBe(true);
    expect(claimRecoverable({ leaseUntil: 10 }, { host: 'alive', processGone: true }, 5)).toBe(true);
    // A stale host may only be slow: its live lease is its own to lose.
    expect(claimRecoverable({ leaseUntil: 10 }, { host: 'stale', processGone: false }, 5)).toBe(false);
  });

  it('ends the run left open as host_lost when another host ran it, interrupted when it was this one', () => {
    expect(recoveredEndReason('b', 'a')).toBe('host_lost');
    expect(recoveredEndReason('a', 'a')).toBe('interrupted');
    expect(recoveredEndReason(null, 'a')).toBe('interrupted');
    expect(isEndReason('host_lost')).toBe(true);
    // Neither the agent's success nor its failure: the host died under it.
    expect(RUN_END_REASONS.host_lost).toBe('no_verdict');
  });
});

describe('host names', () => {
  it('takes the machine name when free, else the first free suffix', () => {
    const free = (h: Host) => h.stoppedAt !== null;
    expect(pickHostName('box', [], free)).toEqual({ name: 'box', replacing: null });
    expect(pickHostName('box', [host('box')], free)).toEqual({ name: 'box-2', replacing: null });
    expect(pickHostName('box', [host('box'), host('box-2', { stoppedAt: 1 })], free)).toMatchObject({ name: 'box-2', replacing: { name: 'box-2' } });
    expect(pickHostName('box', [host('box', { stoppedAt: 1 })], free)).toMatchObject({ name: 'box', replacing: { name: 'box' } });
  });

  it('never picks the name of a host that is not free, and replaces only a free one', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ n: fc.integer({ min: 1, max: 6 }), free: fc.boolean() }), { maxLength: 8 }), (rows) => {
        const byName = new Map(rows.map((r) => [r.n === 1 ? 'box' : `box-${r.n}`, r.free]));
        const hosts = [...byName.keys()].map((name) => host(name));
        const pick = pickHostName('box', hosts, (h) => byName.get(h.name)!);
        expect(byName.get(pick.name) ?? true).toBe(true);
        expect(pick.replacing?.name ?? pick.name).toBe(pick.name);
        expect(pick.replacing === null).toBe(!byName.has(pick.name));
      }),
    );
  });
});

describe('running work across hosts', () => {
  const SELF = 'box:1';
  const workArb = fc.record({
    claims: fc.uniqueArray(fc.record({ taskId: fc.nat(40), owner: fc.constantFrom('box:1', 'box:2', 'far:3') }), { selector: (c) => c.taskId, maxLength: 20 }),
    agents: fc.array(fc.constantFrom('claude', 'codex', null), { minLength: 41, maxLength: 41 }),
    projects: fc.array(fc.constantFrom('api', 'web'), { minLength: 41, maxLength: 41 }),
    idle: fc.array(fc.record({ project: fc.constantFrom('api', 'web'), agent: fc.constantFrom('claude', 'codex'), owner: fc.constantFrom('box:1', 'box:2') }), { maxLength: 5 }),
  });

  it('counts projects and agents over every host, and the host slots over its own work only', () => {
    fc.assert(
      fc.property(workArb, ({ claims, agents, projects, idle }) => {
        const claimed = claims.map((c) => ({ id: c.taskId, project: projects[c.taskId]!, agent: agents[c.taskId]! }));
        const work = countRunningWork(claims, claimed, idle, SELF);
        expect(work.onThisHost).toBe(claims.filter((c) => c.owner === SELF).length + idle.filter((w) => w.owner === SELF).length);
        expect([...work.byProject.values()].reduce((a, b) => a + b, 0)).toBe(claims.length + idle.length);
        expect([...work.byAgent.values()].reduce((a, b) => a + b, 0)).toBe(claimed.filter((t) => t.agent !== null).length + idle.length);
      }),
    );
  });

  it('plans no start that takes a project or an agent past its limit across hosts, nor this host past its slots', () => {
    fc.assert(
      fc.property(workArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 15 }), ({ claims, agents, projects, idle }, slots, projectMax, agentMax, queued) => {
        const claimed = claims.map((c) => ({ id: c.taskId, project: projects[c.taskId]!, agent: agents[c.taskId]! }));
        const work = countRunningWork(claims, claimed, idle, SELF);
        const project = (name: string): TickProject => ({
          name,
          priority: 0,
          paused: false,
          maxAgents: projectMax,
          agents: ['claude', 'codex'],
          running: work.byProject.get(name) ?? 0,
          budget: { dailyUsd: null, taskUsd: null, runUsd: null },
          spentTodayUsd: 0,
          backpressure: { openPrs: 0, needsReview: 0 },
        });
        const input: TickInput = {
          now: 0,
          maxAgents: slots,
          running: work.onThisHost,
          tasks: Array.from({ length: queued }, (_, i) => ({ id: 100 + i, project: i % 2 ? 'api' : 'web', state: 'routed' as const, priority: 0, createdAt: i, agent: null, nextAttemptAt: null, costUsd: 0, waitingOn: [] })),
          claimedTaskIds: new Set(claims.map((c) => c.taskId)),
          projects: new Map([['api', project('api')], ['web', project('web')]]),
          agents: new Map(['claude', 'codex'].map((name) => [name, { maxConcurrent: agentMax, running: work.byAgent.get(name) ?? 0, coolingUntil: null }])),
        };
        const plan = planTick(input);
        expect(plan.starts.length).toBeLessThanOrEqual(Math.max(0, slots - work.onThisHost));
        for (const name of ['api', 'web']) {
          const started = plan.starts.filter((s) => s.project === name).length;
          if (started > 0) expect((work.byProject.get(name) ?? 0) + started).toBeLessThanOrEqual(projectMax);
        }
        for (const name of ['claude', 'codex']) {
          const started = plan.starts.filter((s) => s.agent === name).length;
          if (started > 0) expect((work.byAgent.get(name) ?? 0) + started).toBeLessThanOrEqual(agentMax);
        }
      }),
    );
  });

  it("lets a host start while another host's work fills the slots it would have counted as its own", () => {
    const claims = [1, 2, 3].map((taskId) => ({ taskId, owner: 'box:2' }));
    const work = countRunningWork(claims, claims.map((c) => ({ id: c.taskId, project: 'api', agent: 'claude' })), [], SELF);
    expect(work.onThisHost).toBe(0);
    expect(work.byProject.get('api')).toBe(3);
  });
});
