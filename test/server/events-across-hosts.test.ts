// The SSE stream of a daemon sharing PostgreSQL with other hosts: what another host stores reaches
// it by the database's wake-ups, not by polling (the stream here would look only every ten minutes).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OrchEvent } from '../../src/core/types.js';
import { connectHosts, type CrossHost } from '../../src/engine/cross-host.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { acquireCluster, createTestDatabase, releaseCluster } from '../store/fixtures.js';
import { TOKEN, useServer } from './harness.js';
import { SseClient } from './sse-client.js';

const TEN_MINUTES = 600_000;
const config: Record<string, unknown> = {};
beforeAll(async () => {
  await acquireCluster();
  config.database_url = await createTestDatabase();
}, 120_000);
afterAll(releaseCluster);

const h = useServer({ config, events: { pollMs: TEN_MINUTES, heartbeatMs: TEN_MINUTES } });

let otherHost: { store: PostgresStore; hosts: CrossHost } | null = null;
const clients: SseClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  if (otherHost) {
    await otherHost.hosts.close();
    await otherHost.store.close();
    otherHost = null;
  }
});

describe('GET /events with hosts sharing PostgreSQL', () => {
  it("streams what another host stores, woken by the database rather than by a poll", async () => {
    const client = await SseClient.connect(`${h.server.url}/events`, { Authorization: `Bearer ${TOKEN}` });
    clients.push(client);
    await client.waitFor((frame) => frame.event === 'ready');

    // Another host: its own process with its own store and wake-ups, on the same database.
    const url = config.database_url as string;
    const store = await openPostgresStore(url);
    otherHost = { store, hosts: connectHosts(store, url) };
    const task = await store.createTask({ project: 'app', title: 'Added on another host' }, Date.now());
    const created = await client.waitFor((frame) => frame.event === 'task.created', 20_000);
    expect(JSON.parse(created.data!) as OrchEvent).toMatchObject({ type: 'task.created', taskId: task.id });

    // And what this host's own store commits, at once as well.
    const local = await h.orch.store.createTask({ project: 'app', title: 'Added here' }, Date.now());
    const second = await client.waitFor((frame) => frame.event === 'task.created' && (JSON.parse(frame.data!) as OrchEvent).taskId === local.id, 20_000);
    expect(Number(second.id)).toBeGreaterThan(Number(created.id));
  });
});
