import { describe, expect, it } from 'vitest';
import type { NewHost } from '../../src/store/store.js';
import { T0, expectRejection, storeKinds, useTempStore } from './fixtures.js';
import { StoreError } from '../../src/store/store.js';

const box = (over: Partial<NewHost> = {}): NewHost => ({ name: 'box', machine: 'box', pid: 100, version: '1.2.3', slots: 4, startedAt: T0, ...over });

describe.each(storeKinds)('hosts (%s)', (kind) => {
  const ctx = useTempStore(kind);

  it('registers a host alive with its heartbeat at its start, and lists it', async () => {
    const host = await ctx.store.registerHost(box(), null);
    expect(host).toEqual({ name: 'box', machine: 'box', pid: 100, version: '1.2.3', slots: 4, startedAt: T0, heartbeatAt: T0, stoppedAt: null });
    expect(await ctx.store.listHosts()).toEqual([host]);
    expect(await ctx.store.listEvents({ types: ['host.registered'] })).toMatchObject([{ at: T0, project: null, data: { name: 'box', pid: 100, version: '1.2.3', slots: 4, replaced: false } }]);
  });

  it('refuses a name another host has, writing nothing', async () => {
    await ctx.store.registerHost(box(), null);
    expect(await ctx.store.registerHost(box({ pid: 200, startedAt: T0 + 5 }), null)).toBeNull();
    expect((await ctx.store.listHosts()).map((h) => h.pid)).toEqual([100]);
    expect(await ctx.store.listEvents({ types: ['host.registered'] })).toHaveLength(1);
  });

  it('replaces a registration only while it is the one named', async () => {
    const first = await ctx.store.registerHost(box(), null);
    const second = await ctx.store.registerHost(box({ pid: 200, startedAt: T0 + 10 }), { name: 'box', startedAt: first!.startedAt });
    expect(second).toMatchObject({ pid: 200, startedAt: T0 + 10, heartbeatAt: T0 + 10, stoppedAt: null });
    // A third daemon that judged the first registration free comes too late.
    expect(await ctx.store.registerHost(box({ pid: 300, startedAt: T0 + 11 }), { name: 'box', startedAt: first!.startedAt })).toBeNull();
    expect((await ctx.store.listHosts()).map((h) => h.pid)).toEqual([200]);
    await expectRejection(ctx.store.registerHost(box({ name: 'other' }), { name: 'box', startedAt: T0 }), StoreError, 'host other cannot replace the registration of host box');
  });

  it('renews the heartbeat of its own registration only', async () => {
    await ctx.store.registerHost(box(), null);
    expect(await ctx.store.heartbeatHost({ name: 'box', startedAt: T0 }, T0 + 1000)).toBe(true);
    expect((await ctx.store.listHosts())[0]!.heartbeatAt).toBe(T0 + 1000);
    expect(await ctx.store.heartbeatHost({ name: 'box', startedAt: T0 - 1 }, T0 + 2000)).toBe(false);
    expect(await ctx.store.heartbeatHost({ name: 'nobody', startedAt: T0 }, T0 + 2000)).toBe(false);
    // Taken over: the old registration's heartbeat no longer lands.
    await ctx.store.registerHost(box({ pid: 200, startedAt: T0 + 3000 }), { name: 'box', startedAt: T0 });
    expect(await ctx.store.heartbeatHost({ name: 'box', startedAt: T0 }, T0 + 4000)).toBe(false);
    expect((await ctx.store.listHosts())[0]!.heartbeatAt).toBe(T0 + 3000);
  });

  it('marks a host stopped once, and then takes no more heartbeats from it', async () => {
    await ctx.store.registerHost(box(), null);
    expect(await ctx.store.markHostStopped({ name: 'box', startedAt: T0 }, T0 + 500)).toBe(true);
    expect(await ctx.store.markHostStopped({ name: 'box', startedAt: T0 }, T0 + 600)).toBe(false);
    expect(await ctx.store.heartbeatHost({ name: 'box', startedAt: T0 }, T0 + 700)).toBe(false);
    expect((await ctx.store.listHosts())[0]).toMatchObject({ stoppedAt: T0 + 500, heartbeatAt: T0 + 500 });
    expect(await ctx.store.listEvents({ types: ['host.stopped'] })).toMatchObject([{ at: T0 + 500, data: { name: 'box' } }]);
  });

  it('lists hosts by name', async () => {
    for (const name of ['c', 'a', 'b']) await ctx.store.registerHost(box({ name }), null);
    expect((await ctx.store.listHosts()).map((h) => h.name)).toEqual(['a', 'b', 'c']);
  });

  it('rolls a registration back with the transaction it was made in', async () => {
    await expect(
      ctx.store.transaction(async (tx) => {
        await tx.registerHost(box(), null);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await ctx.store.listHosts()).toEqual([]);
  });
});
