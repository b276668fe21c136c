// Dispatch latency across hosts: a task added on host A, its agent spawned by the daemon of host B.
// Two ORCH_HOMEs on one PostgreSQL (a throwaway cluster of the test rig's): B runs `orch serve` with a
// 60 s tick interval, so only the wake-up counts (A's store announces the task with NOTIFY, B's
// daemon LISTENs and ticks at once); A adds tasks through its own store, in this process, as a
// CLI or an HTTP API on A would. Run with `node bench/latency-hosts.mjs` after `npm run build`.
// Options: --tasks N (default 100), --repeat R (rounds, each on a fresh database and daemon, default 3).
//
// Tasks go one at a time (the next is added once the last is done). Times are the store's event
// timestamps (one machine, one clock): `task.created` (written by A) → `run.started` (B claimed it) →
// `workspace.ready` (B's clone refreshed, the task's worktree made) → `run.spawned` (B started the
// agent); and from the call on A to `run.spawned`. The baseline, in the same round: the same tasks
// added through B's own HTTP API (`POST /tasks`, which ticks B itself).
/* global fetch, setTimeout */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openOrch } from '../dist/engine/context.js';
import { addTask } from '../dist/engine/tasks.js';
import { startRigCluster } from './postgres-rig.mjs';
import { option, quantile } from './figures.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const TASKS = option('tasks', 100);
const REPEAT = option('repeat', 3);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const git = (cwd, args) => execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@orch.invalid', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99) };
};
const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5);

async function round(cluster, index) {
  const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-latency-hosts-'));
  const url = await cluster.createDatabase(`latency_${index}`);
  try {
    const source = join(scratch, 'source');
    mkdirSync(source);
    git(source, ['init', '-q', '-b', 'main']);
    writeFileSync(join(source, 'README.md'), '# app\n');
    git(source, ['add', '-A']);
    git(source, ['commit', '-q', '-m', 'initial']);
    const remote = join(scratch, 'remote.git');
    git(scratch, ['clone', '-q', '--bare', source, remote]);
    const agent = join(scratch, 'agent.sh');
    writeFileSync(agent, '#!/bin/sh\necho "task $ORCH_TASK_ID" > "file-$ORCH_TASK_ID.txt"\necho done\n');
    chmodSync(agent, 0o755);
    const homes = {};
    for (const name of ['a', 'b']) {
      homes[name] = join(scratch, name);
      mkdirSync(homes[name]);
      writeFileSync(
        join(homes[name], 'config.yaml'),
        JSON.stringify({
          scheduler: { tick_interval_s: 60, max_agents: 2, host_name: `host-${name}` },
          agents: { script: { kind: 'command', command: agent } },
          projects: { app: { remote, default_branch: 'main', agents: ['script'], sandbox: 'off' } },
        }),
      );
    }
    const env = { ...process.env, ORCH_DATABASE_URL: url, NO_COLOR: '1' };
    const daemon = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: { ...env, ORCH_HOME: homes.b }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    daemon.stderr.on('data', (c) => (stderr += c));
    for (let i = 0; i < 300 && !existsSync(join(homes.b, 'daemon.json')); i++) await sleep(100);
    if (!existsSync(join(homes.b, 'daemon.json'))) throw new Error(`host B's daemon did not start:\n${stderr}`);
    const info = JSON.parse(readFileSync(join(homes.b, 'daemon.json'), 'utf8'));
    const token = readFileSync(join(homes.b, 'token'), 'utf8').trim();

    process.env.ORCH_DATABASE_URL = url;
    const a = await openOrch(homes.a);
    const samples = { wake: [], http: [] };
    try {
      const finished = async (id) => {
        for (;;) {
          const task = await a.store.getTask(id);
          if (task.state === 'done' || task.state === 'needs_review' || task.state === 'failed') return task;
          await sleep(20);
        }
      };
      const timings = async (id, calledAt) => {
        const events = await a.store.listEvents({ taskId: id });
        const at = (type) => events.find((e) => e.type === type)?.at ?? NaN;
        const host = (await a.store.listRuns({ taskId: id }))[0]?.host;
        return {
          host,
          fromCall: at('run.spawned') - calledAt,
          fromCreated: at('run.spawned') - at('task.created'),
          claim: at('run.started') - at('task.created'),
          workspace: at('workspace.ready') - at('run.started'),
          spawn: at('run.spawned') - at('workspace.ready'),
        };
      };
      // One warm-up task each way: B makes its clone.
      for (let i = 0; i < TASKS + 1; i++) {
        for (const path of i % 2 ? ['wake', 'http'] : ['http', 'wake']) {
          const calledAt = Date.now();
          let id;
          if (path === 'wake') {
            id = (await addTask(a.store, { project: 'app', title: `From A ${i}` }, Date.now())).id;
          } else {
            const response = await fetch(`${info.url}/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ project: 'app', title: `Through B ${i}` }) });
            if (!response.ok) throw new Error(`POST /tasks: ${response.status} ${await response.text()}`);
            id = (await response.json()).id;
          }
          const task = await finished(id);
          if (task.state !== 'done') throw new Error(`task ${id} ended ${task.state}: ${task.blockedReason}`);
          const t = await timings(id, calledAt);
          if (t.host !== 'host-b') throw new Error(`task ${id} ran on ${t.host}, not host B`);
          if (i > 0) samples[path].push(t);
        }
      }
    } finally {
      await a.close();
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
    return samples;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (!existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` first');
const cpu = os.cpus();
console.log(`latency across hosts — node ${process.version}, ${cpu[0]?.model ?? 'cpu'} x${cpu.length}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${REPEAT} round(s) x ${TASKS} tasks per path, one at a time, alternating\n`);
const cluster = await startRigCluster();
const rounds = [];
try {
  for (let r = 0; r < REPEAT; r++) {
    const samples = await round(cluster, r);
    rounds.push(samples);
    console.log(`round ${r + 1}`);
    for (const [path, label] of [['wake', 'added on A, spawned on B (NOTIFY)'], ['http', "added through B's API (baseline)"]]) {
      const s = stats(samples[path].map((t) => t.fromCreated));
      const call = stats(samples[path].map((t) => t.fromCall));
      const claim = stats(samples[path].map((t) => t.claim));
      const workspace = stats(samples[path].map((t) => t.workspace));
      const spawn = stats(samples[path].map((t) => t.spawn));
      console.log(`  ${label.padEnd(36)} task.created → run.spawned p50 ${s.p50.toFixed(0)} p90 ${s.p90.toFixed(0)} p99 ${s.p99.toFixed(0)} ms; from the call p50 ${call.p50.toFixed(0)} ms`);
      console.log(`  ${''.padEnd(36)} p50 of each phase: → run.started ${claim.p50.toFixed(0)} ms (claimed), → workspace.ready ${workspace.p50.toFixed(0)} ms, → run.spawned ${spawn.p50.toFixed(0)} ms`);
    }
  }
} finally {
  await cluster.destroy();
}
console.log(`\nsummary: median of the ${REPEAT} rounds' p50 (task.created → run.spawned)`);
for (const [path, label] of [['wake', 'added on A, spawned on B'], ['http', "through B's own API"]]) {
  const p50s = rounds.map((samples) => stats(samples[path].map((t) => t.fromCreated)).p50);
  console.log(`  ${label.padEnd(26)} ${median(p50s).toFixed(0)} ms (rounds ${p50s.map((v) => v.toFixed(0)).join(', ')})`);
}
console.log(`load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
