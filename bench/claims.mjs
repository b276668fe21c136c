// Claim benchmark: several Orch processes claiming from one backlog at once, as several schedulers
// or pull workers (on one host, or on many sharing PostgreSQL) do. 8 worker processes claim from
// 20,000 ready tasks until none is left.
// Run with `node bench/claims.mjs` after `npm run build`. Options: --workers N (default 8),
// --tasks N (default 20000), --repeat R (rounds, default 3), --sqlite-only (leave PostgreSQL out; by
// default it runs on a throwaway PostgreSQL cluster of its own as well), --shape claim|start|both.
//
// Two shapes, each measured on each store:
// - `claim`: the claim itself. Each worker lists the ready tasks once (oldest first), then walks them a
//   window of 64 at a time, taking claims with `claimFirstFree` (the store's claim on the first free
//   task of a list, as `orch agent claim` without an id makes it) until the window has none left. A
//   claim is the claim row, its fencing token, its lease and its `claim.acquired` event, committed.
// - `start`: what the scheduler's begin-attempt does to the store around a claim, in one
//   transaction: the claim (as above), the task read, and the task moved to `running` through the
//   claim's fence (with its event).
// Beside them, on PostgreSQL, the floor: the same number of processes doing nothing but `select 1`,
// one connection each — the most round trips per second this machine makes, a claim being at least one.
// Measured per run: claims per second (tasks claimed / wall time from `go` to the last worker's end),
// and duplicates — a task claimed by more than one worker — which must be 0. Every round runs SQLite
// (the baseline) and then PostgreSQL, each on a fresh database; the summary is the median over rounds.
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRigCluster } from './postgres-rig.mjs';
import { option } from './figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const PAGE = 64;
const PROJECT = 'bench';

/** The store backends this build has: `sqlite` always, `postgres` when the build has a PostgreSQL store. */
async function openerFor(backend) {
  if (backend === 'sqlite') {
    const { openSqliteStore } = await import(pathToFileURL(join(DIST, 'store/sqlite/sqlite-store.js')).href);
    return (location) => openSqliteStore(location);
  }
  const { openPostgresStore } = await import(pathToFileURL(join(DIST, 'store/postgres/postgres-store.js')).href);
  return (location) => openPostgresStore(location);
}

// ---- a worker process -------------------------------------------------------------------------

/** The floor: `select 1` on one connection of the `pg` driver, as often as the worker's share of claims. */
async function floorWorker(location, count) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send({ type: 'ready' });
  await go;
  for (let i = 0; i < count; i++) await client.query('select 1');
  await client.end();
  process.send({ type: 'done', claimed: [], statements: count }, () => process.disconnect());
}

async function worker([backend, location, owner, shape, count]) {
  if (shape === 'floor') return floorWorker(location, Number(count));
  const store = await (await openerFor(backend))(location);
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send({ type: 'ready' });
  await go;
  const claimed = [];
  const claim = (ops, taskIds) => ops.claimFirstFree({ taskIds, owner, leaseMs: 600_000, now: Date.now() });
  // The ready tasks, listed once, oldest first, as a scheduler's candidates; taken a window at a time.
  const ready = (await store.listTasks({ project: PROJECT, states: ['new'], unclaimed: true })).map((task) => task.id);
  for (let from = 0; from < ready.length; from += PAGE) {
    // Each worker takes a window in an order of its own, as schedulers with different routing would:
    // they meet on some tasks, not on every one.
    const taskIds = ready.slice(from, from + PAGE);
    for (let i = taskIds.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [taskIds[i], taskIds[j]] = [taskIds[j], taskIds[i]];
    }
    for (;;) {
      const taken =
        shape === 'claim'
          ? await claim(store, taskIds)
          : await store.transaction(async (tx) => {
              const held = await claim(tx, taskIds);
              if (!held) return null;
              const current = await tx.getTask(held.taskId);
              await tx.updateTask(held.taskId, { fence: held.token, expectedVersion: current.version }, { state: 'running' }, Date.now(), { type: 'bench.claimed', data: { owner } });
              return held;
            });
      if (!taken) break;
      claimed.push(taken.taskId);
    }
  }
  await store.close();
  process.send({ type: 'done', claimed }, () => process.disconnect());
}

// ---- the parent -------------------------------------------------------------------------------

async function seed(open, location, tasks) {
  const store = await open(location);
  try {
    await store.addProject({ name: PROJECT, repoPath: null, remoteUrl: 'https://example.invalid/bench.git', defaultBranch: 'main' }, Date.now());
    const BATCH = 1000;
    for (let done = 0; done < tasks; done += BATCH) {
      await store.transaction(async (tx) => {
        for (let i = done; i < Math.min(tasks, done + BATCH); i++) await tx.createTask({ project: PROJECT, title: `Task ${i + 1}` }, Date.now());
      });
    }
  } finally {
    await store.close();
  }
}

function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type !== type) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message);
    };
    const onExit = (code, signal) => reject(new Error(`a worker exited (${signal ?? code}) before ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function runOnce(backend, location, { workers, tasks, shape }) {
  const open = await openerFor(backend);
  if (shape !== 'floor') await seed(open, location, tasks);
  const children = Array.from({ length: workers }, (_, i) => fork(fileURLToPath(import.meta.url), ['--worker', backend, location, `bench-worker-${i}`, shape, String(Math.ceil(tasks / workers))], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }));
  try {
    await Promise.all(children.map((c) => nextMessage(c, 'ready')));
    const done = children.map((c) => nextMessage(c, 'done'));
    const began = performance.now();
    for (const c of children) c.send({ type: 'go' });
    const reports = await Promise.all(done);
    const seconds = (performance.now() - began) / 1000;
    if (shape === 'floor') {
      const statements = reports.reduce((sum, r) => sum + r.statements, 0);
      return { claims: statements, unique: tasks, duplicates: 0, missed: 0, seconds, perSecond: statements / seconds };
    }
    const all = reports.flatMap((r) => r.claimed);
    const unique = new Set(all).size;
    return { claims: all.length, unique, duplicates: all.length - unique, missed: tasks - unique, seconds, perSecond: all.length / seconds };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const workers = option('workers', 8);
  const tasks = option('tasks', 20000);
  const repeat = option('repeat', 3);
  const shapeOption = process.argv[process.argv.indexOf('--shape') + 1];
  const shapes = process.argv.includes('--shape') && shapeOption !== 'both' ? [shapeOption] : ['claim', 'start'];
  if (!shapes.every((shape) => shape === 'claim' || shape === 'start')) throw new Error('--shape takes claim, start or both');
  if (!existsSync(join(DIST, 'store/sqlite/sqlite-store.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  // SQLite is the baseline; `--sqlite-only` leaves PostgreSQL out (a machine without it installed).
  const backends = process.argv.includes('--sqlite-only') ? ['sqlite'] : ['sqlite', 'postgres'];

  console.log(`claims: ${workers} worker processes, ${tasks} ready tasks, ${repeat} round(s); ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; stores: ${backends.join(', ')}; shapes: ${shapes.join(', ')}`);
  const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-claims-'));
  const cluster = backends.includes('postgres') ? await startRigCluster() : null;
  const results = {};
  try {
    for (let round = 1; round <= repeat; round++) {
      for (const shape of shapes) {
        for (const backend of backends) {
          const location = backend === 'sqlite' ? join(scratch, `round-${round}-${shape}.db`) : await cluster.createDatabase(`claims_${round}_${shape}`);
          const result = await runOnce(backend, location, { workers, tasks, shape });
          (results[`${shape} ${backend}`] ??= []).push(result);
          console.log(`  round ${round} ${shape.padEnd(5)} ${backend.padEnd(8)} ${result.perSecond.toFixed(0).padStart(6)} claims/s  ${result.seconds.toFixed(2)} s  claimed ${result.unique}/${tasks}  duplicates ${result.duplicates}`);
          if (backend === 'sqlite') rmSync(location, { force: true });
        }
      }
      if (cluster) {
        // The floor of this machine: the same processes doing nothing but the cheapest round trip.
        const result = await runOnce('postgres', await cluster.createDatabase(`floor_${round}`), { workers, tasks, shape: 'floor' });
        (results['floor postgres'] ??= []).push(result);
        console.log(`  round ${round} floor postgres ${result.perSecond.toFixed(0).padStart(6)} select 1/s  ${result.seconds.toFixed(2)} s`);
      }
    }
  } finally {
    await cluster?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log('median over rounds:');
  for (const shape of shapes) {
    const baseline = median(results[`${shape} sqlite`].map((r) => r.perSecond));
    for (const backend of backends) {
      const runs = results[`${shape} ${backend}`];
      const perSecond = median(runs.map((r) => r.perSecond));
      const duplicates = runs.reduce((s, r) => s + r.duplicates, 0);
      const missed = runs.reduce((s, r) => s + r.missed, 0);
      console.log(`  ${shape.padEnd(5)} ${backend.padEnd(8)} ${perSecond.toFixed(0).padStart(6)} claims/s (${(perSecond / baseline).toFixed(2)}x SQLite)  duplicates ${duplicates}  unclaimed ${missed}`);
    }
  }
  if (results['floor postgres']) {
    console.log(`  floor postgres ${median(results['floor postgres'].map((r) => r.perSecond)).toFixed(0).padStart(6)} select 1/s (${workers} processes, one connection each: the most round trips this machine makes)`);
  }
  const bad = Object.values(results).flat().some((r) => r.duplicates > 0 || r.missed > 0);
  if (bad) {
    console.error('FAILED: a task was claimed twice, or left unclaimed');
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--worker') await worker(process.argv.slice(3));
else {
  await main().catch((error) => {
    console.error(`bench/claims: ${error.message}`);
    process.exitCode = 1;
  });
}
