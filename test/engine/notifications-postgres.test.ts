import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { startDaemon, type Daemon } from '../../src/engine/daemon.js';
import { applyTransition } from '../../src/engine/transitions.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { startHttpReceivers, type HttpReceivers } from '../rig/fake-notify/http-receivers.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';
import { eventually } from '../workspace/fixtures.js';

// The notifier's cursor on PostgreSQL, where an event id can become visible after a greater one: a
// burst is one message, and a restart resumes after it without sending it again.

let cluster: PostgresCluster;
let scratch: { path: string; cleanup: () => void } | null = null;
let http: HttpReceivers | null = null;
let orch: Orch | null = null;
let daemon: Daemon | null = null;
const alsoOpen: { orch: Orch; daemon: Daemon | null }[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});
afterEach(async () => {
  for (const other of alsoOpen.splice(0)) {
    await other.daemon?.stop(0);
    await other.orch.close();
  }
  await daemon?.stop(0);
  await orch?.close();
  await http?.close();
  scratch?.cleanup();
  [daemon, orch, http, scratch] = [null, null, null, null];
});

describe('notifications on a PostgreSQL store', () => {
  it('send a burst once and resume after it on restart', async () => {
    scratch = tempDir('orch-notify-pg-');
    http = await startHttpReceivers();
    const repo = makeRepo(scratch.path, 'app');
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    const databaseUrl = await cluster.createDatabase('notify');
    writeFileSync(
      join(home, 'config.yaml'),
      JSON.stringify({
        database_url: databaseUrl,
        projects: { app: { path: repo, sandbox: 'off' } },
        notifications: [{ kind: 'webhook', url: http.endpoints.webhook, secret_env: 'HOOK_SECRET', quiet_s: 0, dashboard_url: 'https://orch.example' }],
      }),
    );
    const env = { PATH: process.env.PATH, HOOK_SECRET: 'pg-secret' };
    orch = await openOrch(home);
    const store = orch.store;
    const escalate = (titles: string[]) =>
      store.transaction(async (tx) => {
        const ids: number[] = [];
        for (const title of titles) {
          const task = await tx.createTask({ project: 'app', title }, Date.now(), { type: 'task.created' });
          await applyTransition(tx, task, 'escalate', { now: Date.now(), reason: 'attempts exhausted' });
          ids.push(task.id);
        }
        return ids;
      });
    const cursorRecorded = async () => {
      for (let i = 0; i < 1200; i++) {
        if ((await store.listEvents({ types: ['notification.cursor'] })).length > 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return false;
    };
    const received = () => http!.of('webhook');

    daemon = await startDaemon(orch, { logger: pino({ level: 'silent' }), sourceEnv: env, notificationPollMs: 200, port: 0 });
    expect(await cursorRecorded()).toBe(true);
    const burst = await escalate(Array.from({ length: 12 }, (_, i) => `Task ${i + 1}`));
    expect(await eventually(() => received().length === 1, 30_000)).toBe(true);
    expect(received()[0]!.json).toMatchObject({ title: 'Orch: 12 tasks need review', taskIds: burst, url: 'https://orch.example/#/' });
    const signature = createHmac('sha256', 'pg-secret').update(received()[0]!.body).digest('hex');
    expect(received()[0]!.headers['x-orch-signature-256']).toBe(`sha256=${signature}`);

    await daemon.stop(0);
    daemon = await startDaemon(orch, { logger: pino({ level: 'silent' }), sourceEnv: env, notificationPollMs: 200, port: 0 });
    const [later] = await escalate(['Later']);
    expect(await eventually(() => received().length === 2, 30_000)).toBe(true);
    expect(received()[1]!.json).toMatchObject({ title: 'Orch: a task needs review', taskIds: [later] });
    expect(received()).toHaveLength(2);
  }, 180_000);

  it('is sent by one host of those sharing the store, and by another once that one is gone', async () => {
    scratch = tempDir('orch-notify-hosts-');
    http = await startHttpReceivers();
    const repo = makeRepo(scratch.path, 'app');
    const databaseUrl = await cluster.createDatabase('notify_hosts');
    const env = { PATH: process.env.PATH, HOOK_SECRET: 'hosts-secret' };
    const host = async (name: string) => {
      const home = join(scratch!.path, name);
      mkdirSync(home);
      writeFileSync(
        join(home, 'config.yaml'),
        JSON.stringify({
          database_url: databaseUrl,
          projects: { app: { path: repo, sandbox: 'off' } },
          notifications: [{ kind: 'webhook', url: http!.endpoints.webhook, secret_env: 'HOOK_SECRET', quiet_s: 0 }],
        }),
      );
      const opened = await openOrch(home);
      const started = await startDaemon(opened, { logger: pino({ level: 'silent' }), sourceEnv: env, notificationPollMs: 200, port: 0 });
      return { orch: opened, daemon: started as Daemon | null };
    };
    const a = await host('a');
    alsoOpen.push(a);
    const b = await host('b');
    alsoOpen.push(b);
    const store = a.orch.store;
    const escalate = async (title: string) => {
      const task = await store.createTask({ project: 'app', title }, Date.now(), { type: 'task.created' });
      await applyTransition(store, task, 'escalate', { now: Date.now(), reason: 'attempts exhausted' });
      return task.id;
    };
    const senders = () => [a, b].filter((h) => h.daemon?.notifications.isSender()).length;
    expect(await eventually(() => senders() === 1, 30_000)).toBe(true);
    const cursorRecorded = async () => (await store.listEvents({ types: ['notification.cursor'] })).length > 0;
    for (let i = 0; i < 1200 && !(await cursorRecorded()); i++) await new Promise((resolve) => setTimeout(resolve, 25));

    const first = await escalate('Seen by both hosts');
    expect(await eventually(() => http!.of('webhook').length === 1, 30_000)).toBe(true);
    expect(http.of('webhook')[0]!.json).toMatchObject({ taskIds: [first] });

    // The sender stops; the other host takes over from the stored cursor, sending what came after only.
    const sender = a.daemon!.notifications.isSender() ? a : b;
    await sender.daemon!.stop(0);
    sender.daemon = null;
    const other = sender === a ? b : a;
    expect(await eventually(() => other.daemon!.notifications.isSender(), 30_000)).toBe(true);
    const second = await escalate('After the sender left');
    expect(await eventually(() => http!.of('webhook').length === 2, 30_000)).toBe(true);
    expect(http.of('webhook')[1]!.json).toMatchObject({ taskIds: [second] });
    // A burst is told by one host only: nothing more arrives while the other one drains its reads.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(http.of('webhook')).toHaveLength(2);
  }, 180_000);
});
