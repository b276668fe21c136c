// Dispatch latency benchmark: how long from a task being added to its agent process being spawned,
// against a real `orch serve` whose tick interval is long (60 s), so only the tick-on-request path
// counts: POST /tasks asks for a tick itself, and `orch task add` nudges the daemon with POST /tick.
// Run with `npm run bench:latency` (builds first). Options: --tasks N (tasks per path and round,
// default 200), --repeat R (rounds, each with a fresh ORCH_HOME and daemon, default 1), --keep.
//
// Tasks go one at a time (the next is added once the last is done, so each finds an idle daemon),
// alternating HTTP and CLI so load on a shared machine falls on both alike. The agent is a `command`
// script that stamps the time at its first line, writes one file and prints a result block; no judge
// commands. Times come from the store's event timestamps (read from GET /events as they stream):
//
//   from the call     client clock before the request (HTTP) or before starting the CLI process,
//                     to the `run.spawned` event — what a person or script waits;
//   from creation     the `task.created` event to `run.spawned` — the daemon's part (for the CLI,
//                     including its nudge after the task is written);
//   phases            task.created → run.started (tick woken, planned, claimed) → workspace.ready
//                     (clone refreshed, worktree made) → run.spawned (hooks, prompt, spawn);
//   agent first line  the agent's own stamp at its first line, from the call.
/* global fetch, AbortController, TextDecoder, setTimeout, clearTimeout */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, quantile } from './figures.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const TASKS = option('tasks', 200);
const REPEAT = option('repeat', 1);
const KEEP = process.argv.includes('--keep');
const PROJECT = 'app';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const git = (cwd, args) =>
  execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@orch.invalid', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.at(-1), mean: sorted.reduce((s, v) => s + v, 0) / sorted.length };
}

/** A minimal SSE reader: every event of the stream, and waiting for one by type and task. */
async function followEvents(url, headers) {
  const controller = new AbortController();
  const response = await fetch(`${url}/events`, { headers, signal: controller.signal });
  if (!response.ok) throw new Error(`GET /events: ${response.status}`);
  const byKey = new Map();
  const waiters = new Map();
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  const key = (type, taskId) => `${type}:${taskId}`;
  (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = {};
          for (const line of frame.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
          }
          if (fields.event === 'ready') ready();
          if (!fields.data || fields.event === 'ready') continue;
          const event = JSON.parse(fields.data);
          if (event.taskId === null || event.taskId === undefined) continue;
          const k = key(event.type, event.taskId);
          if (!byKey.has(k)) byKey.set(k, event);
          waiters.get(k)?.(event);
        }
      }
    } catch {
      // closed
    }
  })();
  await readyPromise;
  return {
    waitFor(type, taskId, timeoutMs = 60_000) {
      const k = key(type, taskId);
      if (byKey.has(k)) return Promise.resolve(byKey.get(k));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} for task ${taskId} within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(k, (event) => {
          clearTimeout(timer);
          waiters.delete(k);
          resolve(event);
        });
      });
    },
    get: (type, taskId) => byKey.get(key(type, taskId)),
    close: () => controller.abort(),
  };
}

function runCli(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`orch ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

async function round() {
  const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-latency-'));
  const repo = join(scratch, PROJECT);
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'README.md'), 'latency bench\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'initial commit']);
  const stamps = join(scratch, 'stamps');
  mkdirSync(stamps);
  const agent = join(scratch, 'agent.sh');
  writeFileSync(
    agent,
    [
      '#!/bin/sh',
      `date +%s%3N > "${stamps}/$ORCH_TASK_ID"`,
      'echo "task $ORCH_TASK_ID" > "task-$ORCH_TASK_ID.txt"',
      "printf '%s\\n' '```json' '{\"status\":\"done\",\"summary\":\"ok\",\"remaining\":\"\",\"follow_ups\":[]}' '```'",
      '',
    ].join('\n'),
  );
  chmodSync(agent, 0o755);
  const home = join(scratch, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 4, tick_interval_s: 60 },
      agents: { fast: { kind: 'command', command: agent } },
      projects: { [PROJECT]: { path: repo, default_branch: 'main', agents: ['fast'], max_agents: 4 } },
    }),
  );
  const env = { ...process.env, ORCH_HOME: home, NO_COLOR: '1' };
  const daemon = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--grace', '5'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  daemon.stdout.on('data', (c) => (logs += c));
  daemon.stderr.on('data', (c) => (logs += c));
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  let url;
  for (let i = 0; i < 300 && !url; i++) {
    await sleep(100);
    try {
      const info = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8'));
      if (info.pid === daemon.pid) url = info.url;
    } catch {
      // not yet
    }
  }
  if (!url) throw new Error(`the daemon did not start:\n${logs}`);
  const headers = { authorization: `Bearer ${readFileSync(join(home, 'token'), 'utf8').trim()}` };
  const events = await followEvents(url, headers);

  // One task before measuring: Orch's clone of the project is made on the first task (cold).
  const warm = await (await fetch(`${url}/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ project: PROJECT, title: 'warm-up' }) })).json();
  await events.waitFor('task.finish', warm.id);

  const samples = { http: [], cli: [] };
  for (let i = 0; i < 2 * TASKS; i++) {
    const path = i % 2 === 0 ? 'http' : 'cli';
    const title = `Latency ${path} ${i}`;
    const t0 = Date.now();
    let id;
    if (path === 'http') {
      const response = await fetch(`${url}/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ project: PROJECT, title }) });
      if (response.status !== 201) throw new Error(`POST /tasks: ${response.status} ${await response.text()}`);
      id = (await response.json()).id;
    } else {
      id = JSON.parse(await runCli(['task', 'add', title, '--project', PROJECT, '--json'], env, scratch)).id;
    }
    const spawned = await events.waitFor('run.spawned', id);
    const finished = await events.waitFor('task.finish', id);
    const created = events.get('task.created', id);
    const started = events.get('run.started', id);
    const ready = events.get('workspace.ready', id);
    const stampFile = join(stamps, String(id));
    const agentAt = existsSync(stampFile) ? Number(readFileSync(stampFile, 'utf8').trim()) : NaN;
    samples[path].push({
      fromCall: spawned.at - t0,
      fromCreation: spawned.at - created.at,
      toStarted: started.at - created.at,
      toWorkspace: ready.at - started.at,
      toSpawn: spawned.at - ready.at,
      agentFirstLine: agentAt - t0,
      toDone: finished.at - created.at,
    });
  }
  events.close();
  daemon.kill('SIGTERM');
  await exited;
  if (!KEEP) rmSync(scratch, { recursive: true, force: true });
  else console.log(`kept ${scratch}`);
  return samples;
}

const fmt = (v) => (Number.isFinite(v) ? v.toFixed(0).padStart(6) : '     -');
console.log(`orch dispatch latency: ${TASKS} tasks per path, ${REPEAT} round(s); ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const measures = [
  ['fromCall', 'call → agent spawned'],
  ['fromCreation', 'task created → spawned'],
  ['toStarted', '  created → claimed/run.started'],
  ['toWorkspace', '  run.started → workspace ready'],
  ['toSpawn', '  workspace ready → spawned'],
  ['agentFirstLine', 'call → agent first line'],
  ['toDone', 'created → done (whole pipeline)'],
];
const summary = [];
for (let r = 1; r <= REPEAT; r++) {
  const samples = await round();
  console.log(`\nround ${r} (load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}) — ms:   p50    p90    p99    max   mean`);
  for (const path of ['http', 'cli']) {
    for (const [field, label] of measures) {
      const s = stats(samples[path].map((x) => x[field]));
      console.log(`${path.padEnd(4)} ${label.padEnd(33)} ${fmt(s.p50)} ${fmt(s.p90)} ${fmt(s.p99)} ${fmt(s.max)} ${fmt(s.mean)}`);
      summary.push({ round: r, path, field, ...s });
    }
  }
}
console.log(`\nJSON ${JSON.stringify(summary)}`);
