// Two `orch serve` daemons, each with its own ORCH_HOME, sharing one store (ORCH_DATABASE names the
// same SQLite file): both register as hosts, the daemon running a sleeping agent is SIGKILLed, and the
// other one takes its claim over once it sees it dead — the run left open ends `host_lost`, the agent
// is stopped, the task is retried without costing an attempt and finished there. Every task is done
// exactly once, and `orch hosts` shows the killed daemon stale and the other one gone once it stops.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/agents/process-group.js';
import type { HostView } from '../../src/core/hosts.js';
import { addTask } from '../../src/engine/tasks.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { CLI } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what()}`);
};

describe('several daemons on one store', () => {
  it('takes over the task of a SIGKILLed host and finishes every task exactly once', async () => {
    const scratch = tempDir('orch-hosts-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    const database = join(scratch.path, 'shared', 'orch.db');
    mkdirSync(join(scratch.path, 'shared'));
    // The first agent to start sleeps (until its daemon dies and the other host stops it); all others write their file.
    const sleeper = join(scratch.path, 'sleeper');
    const script = join(scratch.path, 'agent.sh');
    writeFileSync(script, `#!/bin/sh\nif mkdir '${sleeper}' 2>/dev/null; then echo "$ORCH_TASK_ID" > '${sleeper}/task'; sleep 600; fi\necho "task $ORCH_TASK_ID" > "file-$ORCH_TASK_ID.txt"\necho done\n`);
    chmodSync(script, 0o755);

    const env = (home: string) => ({ ...process.env, ORCH_HOME: home, ORCH_DATABASE: database, NO_COLOR: '1' });
    const startServe = (name: string) => {
      const home = join(scratch.path, name);
      mkdirSync(home);
      writeFileSync(
        join(home, 'config.yaml'),
        JSON.stringify({
          scheduler: { max_agents: 2, tick_interval_s: 1, lease_s: 5 },
          agents: { script: { kind: 'command', command: script } },
          projects: { app: { path: repo, default_branch: 'main', agents: ['script'], sandbox: 'off', max_agents: 3 } },
        }),
      );
      const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--grace', '10'], { cwd: scratch.path, env: env(home), stdio: ['ignore', 'pipe', 'pipe'] });
      let logs = '';
      child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
      child.stderr.on('data', (c: Buffer) => (logs += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      cleanups.push(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      return { home, child, exited, logs: () => logs };
    };
    const hostsOf = (home: string) => {
      const result = spawnSync(process.execPath, [CLI, 'hosts', '--json'], { cwd: scratch.path, env: env(home), encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as HostView[];
    };

    const a = startServe('a');
    await until(() => existsSync(join(a.home, 'daemon.json')), 30_000, () => `daemon a to listen\n${a.logs()}`);
    const b = startServe('b');
    await until(() => existsSync(join(b.home, 'daemon.json')), 30_000, () => `daemon b to listen\n${b.logs()}`);
    const daemons = [a, b];

    const store = await openSqliteStore(database);
    cleanups.push(() => store.close());
    // One machine, two daemons: the second one's name gets a suffix.
    const hosts = await store.listHosts();
    expect(hosts.map((h) => h.name).sort()).toEqual([hostname(), `${hostname()}-2`].sort());
    expect(new Set(hosts.map((h) => h.pid))).toEqual(new Set([a.child.pid, b.child.pid]));
    expect(hosts.every((h) => h.slots === 2 && h.stoppedAt === null)).toBe(true);

    const ids: number[] = [];
    for (const title of ['First', 'Second', 'Third']) ids.push((await addTask(store, { project: 'app', title }, Date.now())).id);

    // The sleeping agent runs: find its run, its host and that host's daemon.
    await until(() => existsSync(join(sleeper, 'task')), 60_000, () => `the sleeping agent to start\n${a.logs()}\n${b.logs()}`);
    const sleepingTask = Number(readFileSync(join(sleeper, 'task'), 'utf8').trim());
    let sleeping = (await store.listRuns({ taskId: sleepingTask, open: true }))[0];
    await until(
      async () => {
        sleeping = (await store.listRuns({ taskId: sleepingTask, open: true }))[0];
        return sleeping?.pid != null;
      },
      30_000,
      () => 'the sleeping run to record its agent',
    );
    const victimHost = hosts.find((h) => h.name === sleeping!.host)!;
    expect(victimHost, `run host ${sleeping!.host}`).toBeDefined();
    const victim = daemons.find((d) => d.child.pid === victimHost.pid)!;
    const survivor = daemons.find((d) => d !== victim)!;
    const survivorHost = hosts.find((h) => h.pid === survivor.child.pid)!;
    expect(groupAlive(sleeping!.pid!)).toBe(true);

    victim.child.kill('SIGKILL');
    await victim.exited;

    const allDone = async () => (await store.listTasks({ ids })).every((t) => t.state === 'done');
    await until(allDone, 120_000, () => `every task to be done\n${survivor.logs()}`);

    // The other host stopped the agent the dead one left, ended its run as host_lost and finished the task.
    expect(groupAlive(sleeping!.pid!)).toBe(false);
    const runs = await store.listRuns({ taskId: sleepingTask });
    expect(runs[0]).toMatchObject({ id: sleeping!.id, host: victimHost.name, outcome: 'crashed', endReason: 'host_lost' });
    expect(runs.at(-1)).toMatchObject({ host: survivorHost.name, endReason: 'merged' });
    expect((await store.getTask(sleepingTask))!.attempts).toBe(1);
    expect(runs.map((r) => r.attempt)).toEqual(runs.map(() => 1));
    expect(await store.listEvents({ taskId: sleepingTask, types: ['run.recovered'] })).toMatchObject([{ runId: sleeping!.id, data: { host: victimHost.name, by: survivorHost.name, endReason: 'host_lost' } }]);

    for (const id of ids) {
      const taskRuns = await store.listRuns({ taskId: id });
      // Exactly one run merged it; any other ended because its host died under it.
      expect(taskRuns.filter((r) => r.endReason === 'merged'), `task ${id}`).toHaveLength(1);
      expect(taskRuns.filter((r) => r.endReason !== 'merged').every((r) => r.endReason === 'host_lost'), `task ${id}`).toBe(true);
      expect(await store.listEvents({ taskId: id, types: ['task.finish'] }), `task ${id}`).toHaveLength(1);
      expect(git(repo, ['log', '--format=%b', 'main']).match(new RegExp(`Orch task #${id}\\b`, 'g'))?.length ?? 0, `task ${id}`).toBeLessThanOrEqual(1);
    }
    expect(await store.listClaims()).toEqual([]);

    // The killed daemon is stale once its heartbeat is a few periods old; the survivor is alive.
    await until(() => hostsOf(survivor.home).find((h) => h.name === victimHost.name)?.state === 'stale', 60_000, () => JSON.stringify(hostsOf(survivor.home)));
    const listed = hostsOf(survivor.home);
    expect(listed.find((h) => h.name === survivorHost.name)).toMatchObject({ state: 'alive', running: [], slots: 2 });
    expect(listed.find((h) => h.name === victimHost.name)).toMatchObject({ state: 'stale', stoppedAt: null });

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited, survivor.logs()).toBe(0);
    expect(hostsOf(survivor.home).find((h) => h.name === survivorHost.name)).toMatchObject({ state: 'gone' });
    const table = spawnSync(process.execPath, [CLI, 'hosts'], { cwd: scratch.path, env: env(survivor.home), encoding: 'utf8' }).stdout;
    expect(table).toMatch(new RegExp(`^${victimHost.name}\\s+stale\\s`, 'm'));
    expect(table).toMatch(new RegExp(`^${survivorHost.name}\\s+gone\\s`, 'm'));
  });
});
