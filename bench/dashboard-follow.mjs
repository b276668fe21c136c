// Dashboard follow benchmark: can the web app keep up with a busy daemon? An ORCH_HOME with one project
// whose store is seeded with `--tasks` finished tasks (default 100,000), served by the daemon's HTTP app
// with the built dashboard, signed into by a headless Chromium (playwright-core, the system Chromium:
// CHROMIUM_PATH or /usr/bin/chromium). While a page is open, events are appended to the store at
// `--rate` per second (default 1,600), in one batch every 10 ms as the event writer does: agent output
// of one running task, and one task in a hundred a new task on the board. Each phase lasts `--seconds`
// (default 20) after a warm-up:
//   - board: /#/board; each new task's title carries its append time, and the page records when its
//     card appears (a MutationObserver): append → shown, p50 / p99, and how many were shown;
//   - feed: /#/tasks/<the running task>; each agent line carries its append time, likewise.
// For both, in the page: long tasks (> 50 ms, PerformanceObserver) and frames (requestAnimationFrame
// gaps over 50 ms counted as janky), so "keeps up" is measured, not assumed.
// Run with `node bench/dashboard-follow.mjs` after `npm run build`.
/* global fetch, setInterval, setTimeout, clearInterval */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';
import { option, quantile } from './figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const load = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);
const { openOrch } = await load('engine/context.js');
const { createApp } = await load('server/app.js');
const { startServer } = await load('server/serve.js');
const TOKEN = 'c'.repeat(64);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const tasks = option('tasks', 100_000);
const rate = option('rate', 1600);
const seconds = option('seconds', 20);
const BATCH_MS = 10;

function git(cwd, args) {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
}

async function makeHome(dir) {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'README.md'), 'follow\n');
  git(repo, ['add', '-A']);
  git(repo, ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'init']);
  const home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { claude: { kind: 'command', command: 'true' } }, projects: { app: { path: repo, agents: ['claude'] } } }));
  await (await openOrch(home)).close();
  const db = new Database(join(home, 'orch.db'));
  const insert = db.prepare(`insert into tasks (project, title, body, labels, priority, role, state, attempts, cost_usd, created_at, updated_at, version, agent)
    values ('app', ?, '', '[]', 0, 'implement', ?, 1, 0.1, ?, ?, 1, 'claude')`);
  const now = Date.now() - tasks * 60_000;
  db.transaction(() => {
    for (let i = 1; i <= tasks; i++) insert.run(`Task ${i}`, i % 10 === 5 ? 'cancelled' : 'done', now + i * 60_000, now + i * 60_000);
  })();
  db.close();
  return home;
}

/** What the page records: append → shown for each marked line that appears, long tasks, janky frames. */
const PROBE = `(() => {
  const probe = { lags: [], longTasks: 0, longTaskMs: 0, frames: 0, janky: 0, seen: new Set() };
  window.__probe = probe;
  new PerformanceObserver((list) => { for (const entry of list.getEntries()) { probe.longTasks++; probe.longTaskMs += entry.duration; } }).observe({ type: 'longtask', buffered: false });
  let last = performance.now();
  const frame = (t) => { probe.frames++; if (t - last > 50) probe.janky++; last = t; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  const marked = /@@(\\d+)#(\\d+)@@/g;
  new MutationObserver((mutations) => {
    const now = Date.now();
    for (const mutation of mutations) for (const node of mutation.addedNodes) {
      const text = node.textContent ?? '';
      for (const match of text.matchAll(marked)) {
        if (probe.seen.has(match[2])) continue;
        probe.seen.add(match[2]);
        probe.lags.push(now - Number(match[1]));
      }
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})()`;

async function phase(page, path, appendOne) {
  await page.goto(path);
  await page.waitForTimeout(2000);
  await page.evaluate(PROBE);
  let sent = 0;
  let marked = 0;
  let writing = Promise.resolve();
  const started = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * rate) / 1000) - sent;
    if (due <= 0) return;
    const batch = [];
    for (let i = 0; i < due; i++) batch.push(sent + i);
    sent += due;
    writing = writing.then(() => appendOne(batch, () => marked++));
  }, BATCH_MS);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  await writing;
  await page.waitForTimeout(3000); // the last lines arrive
  const probe = await page.evaluate('({ lags: window.__probe.lags, longTasks: window.__probe.longTasks, longTaskMs: window.__probe.longTaskMs, frames: window.__probe.frames, janky: window.__probe.janky })');
  const lags = [...probe.lags].sort((a, b) => a - b);
  const elapsed = (Date.now() - started) / 1000;
  return { sent, rate: sent / seconds, marked, shown: lags.length, p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags.at(-1) ?? NaN, longTasks: probe.longTasks, longTaskMs: probe.longTaskMs, fps: probe.frames / elapsed, janky: probe.janky };
}

if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed and is not at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
console.log(`dashboard follow: ${tasks} tasks in the store, ${rate} events/s for ${seconds} s per phase; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`);
const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-follow-'));
let browser;
try {
  const home = await makeHome(scratch);
  const orch = await openOrch(home);
  const app = createApp({ orch, token: TOKEN, requestTick: () => undefined, tickStats: () => ({ lastTickMs: null, lastTickAt: null, ticks: 0 }), dashboardDir: join(ROOT, 'dist', 'dashboard') });
  const server = await startServer(app, { port: 0 });
  try {
    // The running task whose output the feed phase follows.
    const running = await orch.store.createTask({ project: 'app', title: 'The running task' }, Date.now());
    const claim = await orch.store.claimTask({ taskId: running.id, owner: 'bench', leaseMs: 3_600_000, now: Date.now() });
    const run = await orch.store.createRun({ taskId: running.id, project: 'app', attempt: 1, agent: 'claude', startedAt: Date.now() }, claim.token);
    const agentLine = (n, mark) => ({ event: { type: 'agent.assistant_text', project: 'app', taskId: running.id, runId: run.id, data: { type: 'assistant_text', text: mark ? `line ${n} @@${Date.now()}#${n}@@` : `line ${n}` } }, at: Date.now() });
    let priority = 1_000_000;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const login = await fetch(`${server.url}/login-codes`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{}' });
    await page.goto(`${server.url}${(await login.json()).path}`);

    const results = {};
    // Board: 99 of 100 events agent output (which the board ignores), 1 a new task whose card must appear.
    results.board = await phase(page, `${server.url}/#/board`, async (batch, mark) => {
      const lines = [];
      for (const n of batch) {
        if (n % 100 === 0) {
          mark();
          await orch.store.createTask({ project: 'app', title: `New @@${Date.now()}#${n}@@`, priority: ++priority }, Date.now());
        } else lines.push(agentLine(n, false));
      }
      if (lines.length) await orch.store.appendEvents(lines);
    });
    // Feed: every event a line of the running task's output, one in ten marked.
    results.feed = await phase(page, `${server.url}/#/tasks/${running.id}`, async (batch, mark) => {
      await orch.store.appendEvents(
        batch.map((n) => {
          if (n % 10 === 0) mark();
          return agentLine(n, n % 10 === 0);
        }),
      );
    });
    console.log(`load after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`${'phase'.padEnd(8)} ${'events/s'.padStart(9)} ${'marked'.padStart(7)} ${'shown'.padStart(6)} ${'lag p50'.padStart(8)} ${'p99'.padStart(7)} ${'max'.padStart(7)} ${'long tasks'.padStart(11)} ${'(ms)'.padStart(7)} ${'fps'.padStart(5)} ${'janky'.padStart(6)}`);
    for (const [name, r] of Object.entries(results)) {
      console.log(`${name.padEnd(8)} ${r.rate.toFixed(0).padStart(9)} ${String(r.marked).padStart(7)} ${String(r.shown).padStart(6)} ${r.p50.toFixed(0).padStart(8)} ${r.p99.toFixed(0).padStart(7)} ${r.max.toFixed(0).padStart(7)} ${String(r.longTasks).padStart(11)} ${r.longTaskMs.toFixed(0).padStart(7)} ${r.fps.toFixed(0).padStart(5)} ${String(r.janky).padStart(6)}`);
    }
  } finally {
    await browser?.close();
    await server.close();
    await orch.close();
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
