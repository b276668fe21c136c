import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Wakeup } from '../../src/core/wakeup.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { startDaemon, type Daemon } from '../../src/engine/daemon.js';
import { addTask } from '../../src/engine/tasks.js';
import { postgresWakeups } from '../../src/wakeups/postgres-wakeups.js';
import { announceTaskWrites } from '../../src/wakeups/task-writes.js';
import type { WakeupBus } from '../../src/wakeups/wakeup-port.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

// Two daemons of two hosts sharing a database for their wake-ups: what one does, the other hears and
// ticks for at once (the tick interval is an hour here, so nothing else would make it tick).

let cluster: PostgresCluster;
let url: string;
let scratch: { path: string; cleanup: () => void };
const running: { daemon: Daemon; orch: Orch }[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
  url = await cluster.createDatabase('daemons');
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});
beforeEach(() => {
  scratch = tempDir('orch-daemon-wakeups-');
});
afterEach(async () => {
  for (const { daemon, orch } of running.splice(0)) {
    await daemon.stop(0);
    await orch.wakeups?.close();
    await orch.close();
  }
  scratch.cleanup();
});

/** A bus that records what its daemon heard, then passes it on. */
function recording(bus: WakeupBus, heard: Wakeup[], onHeard: () => void): WakeupBus {
  return {
    ...bus,
    listen: (onWakeup, options) =>
      bus.listen((wakeup) => {
        heard.push(wakeup);
        onWakeup(wakeup);
        onHeard();
      }, options),
  };
}

interface Host {
  orch: Orch;
  daemon: Daemon;
  heard: Wakeup[];
  ticksAtHearing: number[];
  hears(match: (w: Wakeup) => boolean): Promise<Wakeup>;
}

async function host(name: string): Promise<Host> {
  const home = join(scratch.path, name);
  mkdirSync(home);
  const bin = join(scratch.path, `bin-${name}`);
  mkdirSync(bin);
  const failing = join(bin, 'failing');
  writeFileSync(failing, '#!/bin/sh\nexit 3\n');
  chmodSync(failing, 0o755);
  const repo = makeRepo(scratch.path, `repo-${name}`);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { failing: { kind: 'command', command: failing } },
      scheduler: { tick_interval_s: 3600 },
      projects: { app: { path: repo, agents: ['failing'], max_attempts: 1 } },
    }),
  );
  const orch = await openOrch(home);
  const heard: Wakeup[] = [];
  const ticksAtHearing: number[] = [];
  const waiters: (() => void)[] = [];
  let daemon: Daemon | null = null;
  orch.wakeups = recording(postgresWakeups(url), heard, () => {
    ticksAtHearing.push(daemon?.scheduler.stats.ticks ?? 0);
    waiters.splice(0).forEach((w) => w());
  });
  // As connectHosts (engine/cross-host.ts) does where the bus is made: this host's task writes go out.
  announceTaskWrites(orch.store, orch.wakeups);
  daemon = await startDaemon(orch, { port: 0, logger: pino({ level: 'silent' }), sourceEnv: { PATH: process.env.PATH } });
  running.push({ daemon, orch });
  return {
    orch,
    daemon,
    heard,
    ticksAtHearing,
    async hears(match) {
      for (;;) {
        const found = heard.find(match);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** Resolves once the daemon's scheduler has ticked more than `ticks` times. */
async function ticksPast(daemon: Daemon, ticks: number): Promise<void> {
  while (daemon.scheduler.stats.ticks <= ticks) await new Promise((r) => setTimeout(r, 10));
}

describe('daemons sharing a database', () => {
  it('hear a task added on another host, and a run ending there, and tick for each at once', { timeout: 120_000 }, async () => {
    const [a, b] = [await host('alpha'), await host('beta')];
    // Until both listen, a notification would be lost: A says hello until both heard the same one.
    let hello = 0;
    for (;;) {
      const id = --hello;
      a.orch.wakeups!.notify({ kind: 'task_ready', taskId: id });
      const both = Promise.all([a, b].map((h) => h.hears((w) => w.taskId === id))).then(() => true);
      if (await Promise.race([both, new Promise<false>((r) => setTimeout(() => r(false), 200))])) break;
    }

    const task = await addTask(a.orch.store, { project: 'app', title: 'Fails at once' }, a.orch.now());
    await b.hears((w) => w.kind === 'task_added' && w.taskId === task.id);
    const index = b.heard.findIndex((w) => w.kind === 'task_added' && w.taskId === task.id);
    await ticksPast(b.daemon, b.ticksAtHearing[index]!);

    // A's own daemon heard its task too and ran it; the run's end frees A's slot for every host.
    await b.hears((w) => w.kind === 'slot_freed' && w.taskId === task.id);
    const freed = b.heard.findIndex((w) => w.kind === 'slot_freed' && w.taskId === task.id);
    await ticksPast(b.daemon, b.ticksAtHearing[freed]!);
    expect((await a.orch.store.getTask(task.id))!.state).toBe('needs_review');
  });

  it('wake `orch run` too: a wake-up from another host starts a task its loop would not look for before an hour', { timeout: 120_000 }, async () => {
    const a = await host('alpha');
    const home = join(scratch.path, 'runner');
    mkdirSync(home);
    const repo = makeRepo(scratch.path, 'repo-runner');
    const failing = join(scratch.path, 'bin-alpha', 'failing');
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { failing: { kind: 'command', command: failing } }, projects: { app: { path: repo, agents: ['failing'], max_attempts: 1 } } }));
    const orch = await openOrch(home);
    const heard: Wakeup[] = [];
    let listening!: () => void;
    const listens = new Promise<void>((resolve) => (listening = resolve));
    const bus = postgresWakeups(url);
    // Listens only: this Orch's own task writes are not announced, so only the other host can wake it.
    orch.wakeups = { ...bus, listen: (onWakeup) => bus.listen((w) => (heard.push(w), onWakeup(w)), { onListening: () => listening() }) };
    const controller = new AbortController();
    const cycle = runCycle(orch, { pollMs: 3_600_000, signal: controller.signal, sourceEnv: { PATH: process.env.PATH } });
    try {
      await listens;
      const task = await addTask(orch.store, { project: 'app', title: 'Waits for a wake-up' }, orch.now());
      a.orch.wakeups!.notify({ kind: 'task_added', taskId: task.id, project: 'app' });
      while ((await orch.store.getTask(task.id))!.state !== 'needs_review') await new Promise((r) => setTimeout(r, 20));
      expect(heard).toContainEqual(expect.objectContaining({ kind: 'task_added', taskId: task.id, project: 'app' }));
    } finally {
      controller.abort();
      await cycle;
      await bus.close();
      await orch.close();
    }
  });
});
