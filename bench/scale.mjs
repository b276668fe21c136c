// Scale benchmark: what a long-lived Orch reads on a timer or per request, with a big store. An
// ORCH_HOME with one project is seeded straight into its SQLite file with `--tasks` tasks (default
// 100,000: most done, some open, each with a run) and `--events` events (default 1,000,000), then
// timed, each `--repeat` times (default 15) after a warm-up, median and p90:
//   - GET /metrics on the daemon's HTTP app;
//   - a tick's planning: the tick input gathered from the store, then planTick; and the same after
//     settling waits (blocking and unblocking), the store's part of a scheduler tick;
//   - GET /tasks?state=… as the dashboard's attention list asks, and GET /tasks (every task: what the
//     board asked for before it was paged);
//   - GET /board (the board's first load: counts and the first page of every column), GET /board?limit=0
//     (the counts the board re-reads after a change), GET /board/column (a column's next page);
//   - `orch task list` and `orch task list --json` (a page of open tasks) as their own process, and
//     `orch task list --limit 1000000` (every open task: what it printed before it was paged).
// The same, in the same run, on an empty store (one task): the baseline the big store is compared to.
// Run with `node bench/scale.mjs` after `npm run build`.
/* global fetch */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { option, quantile } from './figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const load = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);
const { openOrch } = await load('engine/context.js');
const { createApp } = await load('server/app.js');
const { startServer } = await load('server/serve.js');
const { gatherTickInput } = await load('engine/tick-input.js');
const { settleWaits } = await load('engine/wait-graph.js');
const { planTick } = await load('core/plan-tick.js');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TOKEN = 'b'.repeat(64);

function git(cwd, args) {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
}

/** A home with one project on a one-commit repository; the store made by opening it once. */
async function makeHome(dir) {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'README.md'), 'scale\n');
  git(repo, ['add', '-A']);
  git(repo, ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'init']);
  const home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { claude: { kind: 'command', command: 'true' } }, projects: { app: { path: repo, agents: ['claude'] } } }));
  const orch = await openOrch(home);
  await orch.store.createTask({ project: 'app', title: 'the one task' }, Date.now());
  await orch.close();
  return home;
}

/** Rows written straight into the file, in one transaction: seeding through the store would take hours. */
function seed(home, { tasks, events }) {
  const db = new Database(join(home, 'orch.db'));
  const now = Date.now();
  const insertTask = db.prepare(`insert into tasks (project, title, body, labels, priority, role, state, attempts, cost_usd, created_at, updated_at, version, agent)
    values ('app', ?, '', '[]', 0, 'implement', ?, 1, 0.1, ?, ?, 1, 'claude')`);
  const insertRun = db.prepare(`insert into runs (task_id, project, attempt, agent, started_at, ended_at, outcome, end_reason, tokens_in, tokens_out, cost_usd)
    values (?, 'app', 1, 'claude', ?, ?, ?, ?, 1000, 100, 0.1)`);
  const insertEvent = db.prepare(`insert into events (at, type, project, task_id, run_id, data) values (?, ?, 'app', ?, ?, ?)`);
  const perTask = Math.max(1, Math.floor(events / tasks));
  db.transaction(() => {
    for (let i = 1; i <= tasks; i++) {
      // Mostly finished work, as a store a year old holds; 1 % still open.
      const state = i % 100 === 0 ? 'new' : i % 100 === 1 ? 'needs_review' : i % 10 === 5 ? 'cancelled' : 'done';
      const at = now - (tasks - i) * 60_000;
      const { lastInsertRowid: taskId } = insertTask.run(`Task ${i}`, state, at, at);
      const open = state === 'new';
      const { lastInsertRowid: runId } = open ? { lastInsertRowid: null } : insertRun.run(taskId, at, at + 300_000, state === 'done' ? 'succeeded' : 'failed', state === 'done' ? 'merged' : 'agent_failed');
      for (let e = 0; e < perTask; e++) insertEvent.run(at + e, e === 0 ? 'task.created' : 'agent.text', taskId, runId, JSON.stringify({ text: `line ${e} of the agent's output` }));
    }
  })();
  db.close();
}

async function timed(repeat, fn) {
  await fn(); // warm-up
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p90: quantile(times, 0.9) };
}

async function measure(home, repeat) {
  const orch = await openOrch(home);
  const app = createApp({ orch, token: TOKEN, requestTick: () => undefined, tickStats: () => ({ lastTickMs: null, lastTickAt: null, ticks: 0 }), dashboardDir: null });
  const server = await startServer(app, { port: 0 });
  const get = async (path) => {
    const response = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.text();
  };
  try {
    const body = await get('/tasks');
    const board = await get('/board');
    const { columns } = JSON.parse(board);
    const done = columns.done.next ? `&after=${encodeURIComponent(columns.done.next)}` : '';
    const open = columns.new.next ? `&after=${encodeURIComponent(columns.new.next)}` : '';
    const cli = (...args) => {
      const result = spawnSync(process.execPath, [CLI, 'task', 'list', ...args], { env: { ...process.env, ORCH_HOME: home }, encoding: 'utf8', maxBuffer: 1 << 30 });
      if (result.status !== 0) throw new Error(`orch task list: ${result.stderr}`);
    };
    return {
      'GET /metrics': await timed(repeat, () => get('/metrics')),
      'tick (gather + plan)': await timed(repeat, async () => planTick(await gatherTickInput(orch.store, orch.config, Date.now()))),
      'tick (settle waits + gather + plan)': await timed(repeat, async () => {
        await orch.store.transaction((tx) => settleWaits(tx, Date.now()));
        planTick(await gatherTickInput(orch.store, orch.config, Date.now()));
      }),
      'GET /tasks?state=needs_review,blocked': await timed(repeat, () => get('/tasks?state=needs_review,blocked')),
      [`GET /tasks (every task, ${(body.length / 1e6).toFixed(1)} MB)`]: await timed(Math.min(repeat, 5), () => get('/tasks')),
      [`GET /board (the board, ${(board.length / 1e3).toFixed(0)} kB)`]: await timed(repeat, () => get('/board')),
      'GET /board?limit=0 (counts after a change)': await timed(repeat, () => get('/board?limit=0')),
      'GET /board/column (done, next page)': await timed(repeat, () => get(`/board/column?state=done${done}`)),
      'GET /board/column (new, next page)': await timed(repeat, () => get(`/board/column?state=new${open}`)),
      'orch task list': await timed(Math.min(repeat, 9), () => cli()),
      'orch task list --json': await timed(Math.min(repeat, 9), () => cli('--json')),
      'orch task list --limit 1000000 (unpaged, as before)': await timed(Math.min(repeat, 5), () => cli('--limit', '1000000')),
    };
  } finally {
    await server.close();
    await orch.close();
  }
}

const tasks = option('tasks', 100_000);
const events = option('events', 1_000_000);
const repeat = option('repeat', 15);
console.log(`scale: ${tasks} tasks, ${events} events; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`);
const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-scale-'));
try {
  for (const name of ['empty', 'big']) mkdirSync(join(scratch, name));
  const emptyHome = await makeHome(join(scratch, 'empty'));
  const bigHome = await makeHome(join(scratch, 'big'));
  const seeding = performance.now();
  seed(bigHome, { tasks, events });
  console.log(`seeded in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
  const baseline = await measure(emptyHome, repeat);
  const big = await measure(bigHome, repeat);
  console.log(`${'ms'.padEnd(54)} ${'empty p50'.padStart(10)} ${'p90'.padStart(8)} ${'big p50'.padStart(10)} ${'p90'.padStart(8)}`);
  const bigNames = Object.keys(big);
  Object.keys(baseline).forEach((name, i) => {
    const b = baseline[name];
    const s = big[bigNames[i]];
    console.log(`${bigNames[i].padEnd(54)} ${b.p50.toFixed(1).padStart(10)} ${b.p90.toFixed(1).padStart(8)} ${s.p50.toFixed(1).padStart(10)} ${s.p90.toFixed(1).padStart(8)}`);
  });
  console.log(`load after the run ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
