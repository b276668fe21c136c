// Four `orch serve` daemons, each with its own ORCH_HOME (its own clone and worktrees), on one
// PostgreSQL database, serving one project whose source of truth is a bare remote. While they work
// through 60 tasks, hosts are SIGKILLed at random moments (and started again, some at once, some only
// after the others took their work over) and PostgreSQL itself is restarted once. At the end every
// task is done exactly once, the remote's main holds one commit per task, no claim is left, and no
// two runs of one task ever overlapped (no host ran a task another host held).

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTask } from '../../src/engine/tasks.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { CLI } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

const HOSTS = 4;
const TASKS = 60;
const KILLS = 15;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string | Promise<string>) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${await what()}`);
};

interface Daemon {
  name: string;
  home: string;
  child: ChildProcess | null;
  logs: string;
}

describe('several hosts on one PostgreSQL', () => {
  let cluster: PostgresCluster;
  let scratch: { path: string; cleanup: () => void };
  let store: Store | null = null;
  const daemons: Daemon[] = [];

  beforeAll(async () => {
    cluster = await startPostgres();
    scratch = tempDir('orch-multi-host-');
  }, 120_000);

  afterAll(async () => {
    for (const d of daemons) d.child?.kill('SIGKILL');
    await store?.close();
    await cluster?.destroy();
    scratch?.cleanup();
  });

  it('does every task exactly once through SIGKILLs of random hosts and a PostgreSQL restart', async () => {
    const url = await cluster.createDatabase('orch_chaos');
    const source = makeRepo(scratch.path, 'source');
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['clone', '--quiet', '--bare', source, remote]);
    const initialCommits = Number(git(remote, ['rev-list', '--count', 'main']));

    const agent = join(scratch.path, 'agent.sh');
    writeFileSync(agent, '#!/bin/sh\necho "task $ORCH_TASK_ID" > "file-$ORCH_TASK_ID.txt"\nsleep 0.5\necho done\n');
    chmodSync(agent, 0o755);
    const env = (home: string) => ({ ...process.env, ORCH_HOME: home, ORCH_DATABASE_URL: url, NO_COLOR: '1' });

    for (let i = 1; i <= HOSTS; i++) {
      const home = join(scratch.path, `host-${i}`);
      mkdirSync(home);
      writeFileSync(
        join(home, 'config.yaml'),
        JSON.stringify({
          scheduler: { max_agents: 2, tick_interval_s: 1, lease_s: 4, host_name: `host-${i}` },
          agents: { script: { kind: 'command', command: agent } },
          projects: { app: { remote, default_branch: 'main', agents: ['script'], sandbox: 'off', max_agents: 6 } },
        }),
      );
      daemons.push({ name: `host-${i}`, home, child: null, logs: '' });
    }
    const start = (d: Daemon) => {
      const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--grace', '5'], { cwd: scratch.path, env: env(d.home), stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (c: Buffer) => (d.logs = (d.logs + c.toString()).slice(-20_000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      d.child = child;
    };
    const alive = (d: Daemon) => d.child !== null && d.child.exitCode === null && d.child.signalCode === null;
    const allLogs = () => daemons.map((d) => `--- ${d.name}\n${d.logs.slice(-3000)}`).join('\n');

    for (const d of daemons) start(d);
    await until(() => daemons.every((d) => existsSync(join(d.home, 'daemon.json'))), 60_000, allLogs);

    store = await openPostgresStore(url);
    const ids: number[] = [];
    for (let i = 0; i < TASKS; i++) ids.push((await addTask(store, { project: 'app', title: `Task ${i}` }, Date.now())).id);

    // A task that Orch died under three times in a row goes to a person (it may be what kills Orch):
    // right for a real crash, not what this test is about, so a host holding such a task is spared.
    const spared = async (d: Daemon) => {
      // The tasks it holds: claims carry their owner as `machine:pid` (a run may have ended already
      // while its task is still judged or merged under the claim).
      const held = (await store!.listClaims()).filter((c) => d.child?.pid !== undefined && c.owner.endsWith(`:${d.child.pid}`));
      for (const claim of held) {
        const ends = await store!.listEvents({ taskId: claim.taskId, types: ['claim.released', 'claim.recovered', 'task.requeue'] });
        const inARow = ends.reverse().findIndex((e) => e.type !== 'claim.recovered');
        if ((inARow === -1 ? ends.length : inARow) >= 2) return true;
      }
      return false;
    };

    let kills = 0;
    let restartedPostgres = false;
    const restarts: Promise<void>[] = [];
    while (kills < KILLS) {
      await sleep(1000 + Math.random() * 1500);
      const candidates: Daemon[] = [];
      for (const d of daemons) if (alive(d) && !(await spared(d))) candidates.push(d);
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      if (!victim) continue;
      const exited = new Promise((resolve) => victim.child!.once('exit', resolve));
      victim.child!.kill('SIGKILL');
      await exited;
      kills++;
      // Some come back at once (recovering their own runs), others only after the rest took over.
      const away = kills % 3 === 0 ? 6000 : 300 + Math.random() * 1500;
      restarts.push(sleep(away).then(() => start(victim)));
      if (!restartedPostgres && kills === Math.floor(KILLS / 2)) {
        restartedPostgres = true;
        await cluster.restart();
      }
    }
    await Promise.all(restarts);

    const summary = async () => {
      const tasks = await store!.listTasks({ ids });
      const counts: Record<string, number> = {};
      for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
      const stuck = [];
      for (const t of tasks.filter((t) => t.state !== 'done')) {
        const events = await store!.listEvents({ taskId: t.id });
        stuck.push(`#${t.id} ${t.state}: ${t.blockedReason ?? ''}\n${events.map((e) => `  ${e.type} ${JSON.stringify(e.data).slice(0, 300)}`).join('\n')}`);
      }
      return `${JSON.stringify(counts)}\n${stuck.join('\n')}\n${allLogs()}`;
    };
    await until(async () => (await store!.listTasks({ ids })).every((t) => t.state === 'done'), 300_000, summary);

    // Exactly once: one merged run and one finish per task, every other run ended by a host's death.
    const runs = await store.listRuns({ project: 'app' });
    for (const id of ids) {
      const taskRuns = runs.filter((r) => r.taskId === id).sort((a, b) => a.startedAt - b.startedAt);
      expect(taskRuns.filter((r) => r.endReason === 'merged'), `task ${id}`).toHaveLength(1);
      for (const run of taskRuns.filter((r) => r.endReason !== 'merged')) expect(['host_lost', 'interrupted'], `task ${id} run ${run.id} on ${run.host}: ${JSON.stringify(run.result)}`).toContain(run.endReason);
      expect(await store.listEvents({ taskId: id, types: ['task.finish'] }), `task ${id}`).toHaveLength(1);
      // No host ran a task another host held: a run starts only after the one before it ended.
      for (let i = 1; i < taskRuns.length; i++) {
        expect(taskRuns[i - 1]!.endedAt, `task ${id}: run ${taskRuns[i - 1]!.id} ended before run ${taskRuns[i]!.id} started`).not.toBeNull();
        expect(taskRuns[i - 1]!.endedAt!, `task ${id}`).toBeLessThanOrEqual(taskRuns[i]!.startedAt);
      }
    }
    expect(runs.filter((r) => r.endedAt === null)).toEqual([]);
    expect(await store.listClaims()).toEqual([]);

    // The remote's main: one commit per task on top of what it had, each task's file there once.
    // Each task's own commit first: a count alone would not say which task's work went missing.
    const log = git(remote, ['log', '--format=%H %s%n%b%n--', '--stat', 'main']);
    const bodies = git(remote, ['log', '--format=%B', 'main']);
    const story = async (id: number) => (await store!.listEvents({ taskId: id })).map((e) => `  ${e.at} run ${e.runId ?? '-'} ${e.type} ${JSON.stringify(e.data).slice(0, 300)}`).join('\n');
    for (const id of ids) expect(bodies.match(new RegExp(`Orch task #${id}\\b`, 'g')), `task ${id} in the remote's log:\n${await story(id)}\n${log}`).toHaveLength(1);
    const files = git(remote, ['ls-tree', '--name-only', 'main']).split('\n').filter((f) => /^file-\d+\.txt$/.test(f));
    expect(files.sort()).toEqual(ids.map((id) => `file-${id}.txt`).sort());
    expect(Number(git(remote, ['rev-list', '--count', 'main'])), log).toBe(initialCommits + TASKS);

    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(restartedPostgres).toBe(true);
    // Every host took part, and the store knows each of them.
    expect(new Set(runs.map((r) => r.host))).toEqual(new Set(daemons.map((d) => d.name)));
    expect((await store.listHosts()).map((h) => h.name).sort()).toEqual(daemons.map((d) => d.name).sort());

    for (const d of daemons) d.child?.kill('SIGTERM');
    await Promise.all(daemons.map((d) => (alive(d) ? new Promise((resolve) => d.child!.once('exit', resolve)) : null)));
  }, 600_000);
});
