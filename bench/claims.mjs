// Claim benchmark: several Orch processes claiming from one backlog at once, as several schedulers
// (on one host, or on many sharing PostgreSQL) do. 8 worker processes claim from 20,000 ready tasks
// until none is left; each claim is what the scheduler's begin-attempt does to the store in one
// transaction: take the claim, read the task, move it to `running` through the claim's fence.
// Run with `node bench/claims.mjs` after `npm run build`. Options: --workers N (default 8),
// --tasks N (default 20000), --repeat R (rounds, default 3), --sqlite-only (leave PostgreSQL out; by
// default it runs on a throwaway PostgreSQL cluster of its own as well).
//
// Each worker lists a page of ready tasks (`new`, oldest first), tries them in its own random order
// until a claim succeeds, and lists again: the head of the backlog is contended as it is between
// schedulers. Measured per run: claims per second (tasks claimed / wall time from `go` to the last
// worker's end), claim attempts refused (someone else had it), and duplicates — a task claimed by
// more than one worker — which must be 0. Every round runs SQLite (the baseline) and then each
// other store, each on a fresh database; the summary is the median over the rounds.
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

async function worker([backend, location, owner]) {
  const store = await (await openerFor(backend))(location);
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send({ type: 'ready' });
  await go;
  const claimed = [];
  let refused = 0;
  for (;;) {
    const page = await store.listTasks({ project: PROJECT, states: ['new'], limit: PAGE });
    if (page.length === 0) break;
    for (let i = page.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [page[i], page[j]] = [page[j], page[i]];
    }
    for (const task of page) {
      const now = Date.now();
      const won = await store.transaction(async (tx) => {
        const claim = await tx.claimTask({ taskId: task.id, owner, leaseMs: 600_000, now });
        if (!claim) return false;
        const current = await tx.getTask(task.id);
        await tx.updateTask(task.id, { fence: claim.token, expectedVersion: current.version }, { state: 'running' }, now, { type: 'bench.claimed', data: { owner } });
        return true;
      });
      if (won) {
        claimed.push(task.id);
        break;
      }
      refused++;
    }
  }
  await store.close();
  process.send({ type: 'done', claimed, refused }, () => process.disconnect());
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

async function runOnce(backend, location, { workers, tasks }) {
  const open = await openerFor(backend);
  await seed(open, location, tasks);
  const children = Array.from({ length: workers }, (_, i) => fork(fileURLToPath(import.meta.url), ['--worker', backend, location, `bench-worker-${i}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }));
  try {
    await Promise.all(children.map((c) => nextMessage(c, 'ready')));
    const done = children.map((c) => nextMessage(c, 'done'));
    const began = performance.now();
    for (const c of children) c.send({ type: 'go' });
    const reports = await Promise.all(done);
    const seconds = (performance.now() - began) / 1000;
    const all = reports.flatMap((r) => r.claimed);
    const unique = new Set(all).size;
    return { claims: all.length, unique, duplicates: all.length - unique, missed: tasks - unique, refused: reports.reduce((s, r) => s + r.refused, 0), seconds, perSecond: all.length / seconds };
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
  if (!existsSync(join(DIST, 'store/sqlite/sqlite-store.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  // SQLite is the baseline; `--sqlite-only` leaves PostgreSQL out (a machine without it installed).
  const backends = process.argv.includes('--sqlite-only') ? ['sqlite'] : ['sqlite', 'postgres'];

  console.log(`claims: ${workers} worker processes, ${tasks} ready tasks, ${repeat} round(s); ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; stores: ${backends.join(', ')}`);
  const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-claims-'));
  const cluster = backends.includes('postgres') ? await startRigCluster() : null;
  const results = Object.fromEntries(backends.map((b) => [b, []]));
  try {
    for (let round = 1; round <= repeat; round++) {
      for (const backend of backends) {
        const location = backend === 'sqlite' ? join(scratch, `round-${round}.db`) : await cluster.createDatabase(`claims_${round}`);
        const result = await runOnce(backend, location, { workers, tasks });
        results[backend].push(result);
        console.log(`  round ${round} ${backend.padEnd(8)} ${result.perSecond.toFixed(0).padStart(6)} claims/s  ${result.seconds.toFixed(2)} s  claimed ${result.unique}/${tasks}  refused ${result.refused}  duplicates ${result.duplicates}`);
        if (backend === 'sqlite') rmSync(location, { force: true });
      }
    }
  } finally {
    await cluster?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log('median over rounds:');
  const baseline = median(results.sqlite.map((r) => r.perSecond));
  for (const backend of backends) {
    const runs = results[backend];
    const perSecond = median(runs.map((r) => r.perSecond));
    const duplicates = runs.reduce((s, r) => s + r.duplicates, 0);
    const missed = runs.reduce((s, r) => s + r.missed, 0);
    console.log(`  ${backend.padEnd(8)} ${perSecond.toFixed(0).padStart(6)} claims/s (${(perSecond / baseline).toFixed(2)}x SQLite)  refused ${median(runs.map((r) => r.refused))}  duplicates ${duplicates}  unclaimed ${missed}`);
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
