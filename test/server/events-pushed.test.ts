// The SSE stream sends this process's events from memory as they are stored, with the ids and in the
// order a read of the store gives; it reads the store to catch up and for other processes' events.

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OrchEvent } from '../../src/core/types.js';
import { databasePath } from '../../src/engine/context.js';
import { connectHosts, type CrossHost } from '../../src/engine/cross-host.js';
import { RunEvents, eventWriterOf } from '../../src/engine/event-writer.js';
import type { Store } from '../../src/store/store.js';
import { acquireCluster, createTestDatabase, openStore, releaseCluster, storeKinds } from '../store/fixtures.js';
import { TOKEN, useServer } from './harness.js';
import { SseClient, type SseFrame } from './sse-client.js';

describe.each(storeKinds)('GET /events pushed from memory (%s)', (kind) => {
  const config: Record<string, unknown> = {};
  if (kind === 'postgres') {
    beforeAll(async () => {
      await acquireCluster();
      config.database_url = await createTestDatabase();
    }, 120_000);
    afterAll(releaseCluster);
  }
  // Polling (for a store without wake-ups) every 20 ms; no heartbeat within a test.
  const h = useServer({ config, events: { pollMs: 20, heartbeatMs: 600_000 } });

  const clients: SseClient[] = [];
  let other: { store: Store; hosts: CrossHost | null } | null = null;
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    if (other) {
      await other.hosts?.close();
      await other.store.close();
      other = null;
    }
  });

  async function subscribe(headers: Record<string, string> = {}, query = ''): Promise<SseClient> {
    const client = await SseClient.connect(`${h.server.url}/events${query}`, { Authorization: `Bearer ${TOKEN}`, ...headers });
    clients.push(client);
    await client.waitFor((frame) => frame.event === 'ready');
    return client;
  }

  /** A run's agent output, stored as the supervisor stores it: through the process's event writer. */
  async function agentSays(lines: number, label: string): Promise<void> {
    const run = new RunEvents(eventWriterOf(h.orch.store));
    for (let i = 0; i < lines; i++) {
      await run.add({ event: { type: 'agent.assistant_text', project: 'app', taskId: 1, runId: 1, data: { text: `${label} ${i}` } }, at: Date.now() });
    }
    expect(await run.settled()).toBeNull();
  }

  /** Another process on the same database, as `orch task add` or another host would be. */
  async function anotherProcess(): Promise<Store> {
    const location = kind === 'sqlite' ? databasePath(h.orch.home) : (config.database_url as string);
    const store = await openStore(kind, location);
    other = { store, hosts: kind === 'postgres' ? connectHosts(store, location) : null };
    return store;
  }

  const orchEvents = (client: SseClient) => client.received().filter((frame) => frame.id !== undefined && frame.event !== 'ready');
  const texts = (frames: SseFrame[]) => frames.map((frame) => (JSON.parse(frame.data!) as OrchEvent).data.text ?? (JSON.parse(frame.data!) as OrchEvent).type);
  /** What a reader of the store gets after `cursor`: the frames must be exactly these, in this order. */
  const storeAfter = async (cursor: number) => (await h.orch.store.listEvents({ afterId: cursor, limit: 100_000 })).map((event) => ({ id: String(event.id), data: JSON.stringify(event) }));
  const asSent = (frames: SseFrame[]) => frames.map((frame) => ({ id: frame.id, data: frame.data }));

  it("sends a run's events as they are stored without reading them from the store", async () => {
    const reads = vi.spyOn(h.orch.store, 'listEvents');
    const client = await subscribe();
    const start = Number(client.received()[0]!.id);
    await vi.waitFor(() => expect(reads).toHaveBeenCalledTimes(1)); // its first read, to catch up

    await agentSays(300, 'first');
    await client.waitFor((frame) => frame.data?.includes('"first 299"') === true);
    await agentSays(300, 'second');
    await client.waitFor((frame) => frame.data?.includes('"second 299"') === true);

    expect(reads).toHaveBeenCalledTimes(1); // none of the 600 was read back
    reads.mockRestore();
    expect(asSent(orchEvents(client))).toEqual(await storeAfter(start));
  });

  it('resumes after Last-Event-ID with nothing lost or sent twice', async () => {
    const first = await subscribe();
    const start = Number(first.received()[0]!.id);
    await agentSays(200, 'before');
    await first.waitFor((frame) => frame.data?.includes('"before 199"') === true);
    const lastSeen = orchEvents(first).at(-1)!.id!;
    first.close();

    await agentSays(200, 'while away');
    const resumed = await subscribe({ 'Last-Event-ID': lastSeen });
    await agentSays(200, 'after');
    await resumed.waitFor((frame) => frame.data?.includes('"after 199"') === true);

    const all = [...orchEvents(first), ...orchEvents(resumed)];
    expect(asSent(all)).toEqual(await storeAfter(start));
    expect(texts(all).filter((text) => String(text).startsWith('while away'))).toHaveLength(200);
  });

  it("sends another process's events in their place among this process's", async () => {
    const client = await subscribe();
    const filtered = await subscribe({}, '?task=1');
    const start = Number(client.received()[0]!.id);
    const elsewhere = await anotherProcess();

    await agentSays(100, 'mine');
    await elsewhere.appendEvent({ type: 'custom.elsewhere', project: 'app', taskId: 1 }, Date.now());
    await agentSays(100, 'mine again');
    await client.waitFor((frame) => frame.event === 'custom.elsewhere', 20_000);
    await client.waitFor((frame) => frame.data?.includes('"mine again 99"') === true, 20_000);
    await filtered.waitFor((frame) => frame.data?.includes('"mine again 99"') === true, 20_000);

    expect(asSent(orchEvents(client))).toEqual(await storeAfter(start));
    expect(asSent(orchEvents(filtered))).toEqual((await storeAfter(start)).filter((event) => (JSON.parse(event.data) as OrchEvent).taskId === 1));
    expect(texts(orchEvents(client))).toContain('custom.elsewhere');
  });
});
