import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Wakeup } from '../../src/core/wakeup.js';
import { connectHosts } from '../../src/engine/cross-host.js';
import { withSharedLock } from '../../src/engine/locks.js';
import { addTask } from '../../src/engine/tasks.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { postgresWakeups, WAKEUP_CHANNEL } from '../../src/wakeups/postgres-wakeups.js';
import { announceTaskWrites } from '../../src/wakeups/task-writes.js';
import type { WakeupBus } from '../../src/wakeups/wakeup-port.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

let cluster: PostgresCluster;
let url: string;
const buses: WakeupBus[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
  url = await cluster.createDatabase('wakeups');
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

/** A daemon's listener as on a host of its own: what it heard, and how many times it was (again) listening. */
interface Ear {
  heard: Wakeup[];
  listenings: number;
  errors: number;
  /** Resolves once it heard a wake-up matching `match`. */
  hears(match: (w: Wakeup) => boolean): Promise<void>;
  /** Resolves once it has been listening `n` times in all. */
  listening(n: number): Promise<void>;
}

function ear(): Ear {
  const bus = postgresWakeups(url, { minBackoffMs: 20, maxBackoffMs: 200 });
  buses.push(bus);
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const state: Ear = {
    heard: [],
    listenings: 0,
    errors: 0,
    hears: (match) => until(() => state.heard.some(match)),
    listening: (n) => until(() => state.listenings >= n),
  };
  bus.listen(
    (wakeup) => {
      state.heard.push(wakeup);
      poke();
    },
    {
      onListening: () => {
        state.listenings++;
        poke();
      },
      onError: () => {
        state.errors++;
      },
    },
  );
  return state;
}

/** NOTIFY from a connection of its own, as a third host (or a person in psql) would. */
async function notifyFromElsewhere(payload: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_notify($1, $2)', [WAKEUP_CHANNEL, payload]);
  } finally {
    await client.end();
  }
}

describe('wake-ups over PostgreSQL', () => {
  it('reach every listening host from a third connection', async () => {
    const [a, b] = [ear(), ear()];
    await Promise.all([a.listening(1), b.listening(1)]);
    await notifyFromElsewhere(JSON.stringify({ kind: 'task_added', taskId: 7, project: 'shop' }));
    await Promise.all([a, b].map((e) => e.hears((w) => w.kind === 'task_added' && w.taskId === 7)));
    expect(a.heard).toEqual([{ kind: 'task_added', taskId: 7, project: 'shop' }]);
    expect(b.heard).toEqual([{ kind: 'task_added', taskId: 7, project: 'shop' }]);
  });

  it('reach them again after PostgreSQL restarts: each listener reconnects and wakes its owner once for what it missed', { timeout: 120_000 }, async () => {
    const [a, b] = [ear(), ear()];
    await Promise.all([a.listening(1), b.listening(1)]);
    await cluster.restart();
    await Promise.all([a.listening(2), b.listening(2)]);
    expect(a.errors).toBeGreaterThan(0);
    for (const e of [a, b]) expect(e.heard.filter((w) => w.kind === 'reconnected')).toHaveLength(1);
    await notifyFromElsewhere(JSON.stringify({ kind: 'slot_freed', taskId: 9 }));
    await Promise.all([a, b].map((e) => e.hears((w) => w.kind === 'slot_freed' && w.taskId === 9)));
  });

  it('are sent by a bus after the restart too, the dead pooled connection replaced', { timeout: 120_000 }, async () => {
    const [a, b] = [ear(), ear()];
    const sender = postgresWakeups(url);
    buses.push(sender);
    await Promise.all([a.listening(1), b.listening(1)]);
    sender.notify({ kind: 'task_ready', taskId: 1 });
    await Promise.all([a, b].map((e) => e.hears((w) => w.taskId === 1)));
    await cluster.restart();
    await Promise.all([a.listening(2), b.listening(2)]);
    sender.notify({ kind: 'task_ready', taskId: 2 });
    await sender.flushed();
    await Promise.all([a, b].map((e) => e.hears((w) => w.taskId === 2)));
  });

  it('take any payload as a wake-up, whatever wrote it', async () => {
    const a = ear();
    await a.listening(1);
    await notifyFromElsewhere('not json');
    await a.hears(() => true);
    expect(a.heard).toEqual([{ kind: 'task_ready' }]);
  });
});

describe('announcing task writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orch-announce-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('tells every host about a task once its transaction committed, and not about one rolled back', async () => {
    const store = await openSqliteStore(join(dir, 'orch.db'));
    try {
      const [a, b] = [ear(), ear()];
      const sender = postgresWakeups(url);
      buses.push(sender);
      await Promise.all([a.listening(1), b.listening(1)]);
      const stop = announceTaskWrites(store, sender);
      await store.addProject({ name: 'shop', repoPath: null, remoteUrl: 'https://example.invalid/shop.git', defaultBranch: 'main' }, 1);
      await expect(store.transaction(async (tx) => {
        await tx.createTask({ project: 'shop', title: 'rolled back' }, 2);
        throw new Error('no');
      })).rejects.toThrow('no');
      const task = await addTask(store, { project: 'shop', title: 'Add a file' }, 3);
      await sender.flushed();
      await Promise.all([a, b].map((e) => e.hears((w) => w.kind === 'task_added')));
      stop();
      // Stamped with the sender's origin, so a process can tell its own wake-ups from others'.
      expect(a.heard).toEqual([{ kind: 'task_added', taskId: task.id, project: 'shop', origin: sender.origin }]);
      expect(b.heard).toEqual(a.heard);
    } finally {
      await store.close();
    }
  });

  it('are sent for every task a host joined with connectHosts commits, and its merges hold advisory locks', async () => {
    const store = await openSqliteStore(join(dir, 'orch.db'));
    const joined = connectHosts(store, url);
    try {
      const a = ear();
      await a.listening(1);
      await store.addProject({ name: 'shop', repoPath: null, remoteUrl: 'https://example.invalid/shop.git', defaultBranch: 'main' }, 1);
      const task = await addTask(store, { project: 'shop', title: 'Add a file' }, 2);
      await a.hears((w) => w.kind === 'task_added' && w.taskId === task.id);
      const holders = await withSharedLock({ home: dir, sharedLocks: joined.sharedLocks }, 'merge:shop', async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          return Number((await client.query<{ n: string }>("select count(*) as n from pg_locks where locktype = 'advisory' and granted")).rows[0]!.n);
        } finally {
          await client.end();
        }
      });
      expect(holders).toBe(1);
    } finally {
      await joined.close();
      await store.close();
    }
  });
});
