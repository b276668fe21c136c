// Concurrency benchmark: 32 agents at once under a real `orch serve` (max_agents 32), each a small node
// script printing 50 JSON-line `assistant_text` events a second for ~10 s (1,600 events/s in all, each
// stored by the daemon as it arrives), with one SSE client following GET /events.
// Run with `npm run bench:concurrency` (builds first). Options: --agents N (default 32), --seconds S
// (how long each agent talks, default 10), --rate R (events per second per agent, default 50),
// --repeat R (rounds, each with a fresh ORCH_HOME and daemon, default 1), --keep, --cpu-prof DIR (the
// daemon runs under `node --cpu-prof`, its profile written to DIR when it stops).
//
// Measured:
//   daemon CPU   utime+stime deltas from /proc/<pid>/stat, sampled every 250 ms: the average over the
//                window where every agent was running ("all running") and over the whole run (first
//                spawn to last agent's end);
//   launchers    the same for the daemon's launcher processes (src/launcher/: they start its git
//                commands and agents), shown beside the daemon's and added to it;
//   daemon RSS   VmRSS from /proc/<pid>/status, sampled alike: the peak;
//   event lag    each agent event carries its emit time (Date.now() in the agent) in its text; lag is
//                the SSE client's receive time minus that; also emit → stored (the event's `at`);
//   delivery     events the agents printed (counted from their logs) against events the client got;
//   spawns       the 32 tasks are posted at once; first → last `run.spawned`, and each task's first run
//                from its claim (`run.started`) to `run.spawned`, with the `workspace.ready` between;
//   baseline     after the daemon's round, the same agents read, parsed and stored in batched SQLite
//                transactions by a minimal process (bench/concurrency-baseline.mjs): its CPU while all
//                ran, beside the daemon's, and the ratio.
/* global fetch, AbortController, TextDecoder, setTimeout, setInterval, clearInterval */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, quantile } from './figures.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./concurrency-baseline.mjs', import.meta.url));

const AGENTS = option('agents', 32);
const SECONDS = option('seconds', 10);
const RATE = option('rate', 50);
const REPEAT = option('repeat', 1);
const KEEP = process.argv.includes('--keep');
const CPU_PROF = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : null;
const PROJECT = 'app';
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const git = (cwd, args) =>
  execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@orch.invalid', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function stats(values) {
  const sorted = Float64Array.from(values).sort();
  return { n: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.at(-1), mean: sorted.reduce((s, v) => s + v, 0) / sorted.length };
}

/** CPU time (ms, user + system) of a process; NaN once it is gone. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is index 0, so utime (14th field) is index 11 and stime index 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** The daemon's launchers (src/launcher/): the processes it starts git and the agents from. */
function launcherPids(pid) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
  return children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('launcher');
    } catch {
      return false;
    }
  });
}

/**
 * CPU time (ms, user + system) and resident memory (KiB) of the daemon, and the CPU time of its
 * launchers: their work (starting git and the agents) is the daemon's, done in another process.
 */
function sample(pid, launchers) {
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return { at: Date.now(), cpuMs: cpuOf(pid), launcherCpuMs: launchers.reduce((sum, launcher) => sum + cpuOf(launcher), 0), rssKiB };
}

const AGENT_SCRIPT = `
// A fake agent: ${RATE} assistant_text events a second, each carrying its emit time, for ${SECONDS} s.
const { writeFileSync, appendFileSync } = require('node:fs');
const id = process.env.ORCH_TASK_ID;
const log = process.argv[2];
const end = Date.now() + ${SECONDS * 1000};
let seq = 0;
const timer = setInterval(() => {
  const now = Date.now();
  process.stdout.write(JSON.stringify({ type: 'assistant_text', text: 'emit ' + now + ' task ' + id + ' seq ' + seq++ }) + '\\n');
  if (now >= end) {
    clearInterval(timer);
    writeFileSync('task-' + id + '.txt', 'task ' + id + '\\n');
    appendFileSync(log, id + ' ' + seq + '\\n');
    process.stdout.write(['\`\`\`json', '{"status":"done","summary":"talked","remaining":"","follow_ups":[]}', '\`\`\`'].join('\\n') + '\\n');
  }
}, ${1000 / RATE});
`;

async function round() {
  const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-concurrency-'));
  const repo = join(scratch, PROJECT);
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'README.md'), 'concurrency bench\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'initial commit']);
  const agent = join(scratch, 'agent.cjs');
  writeFileSync(agent, AGENT_SCRIPT);
  const counts = join(scratch, 'emitted.txt');
  writeFileSync(counts, '');
  const home = join(scratch, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      // A short tick and backoff: an attempt that fails for a reason of Orch's own (see failures in the
      // output) is started again at once rather than after the default 30 s backoff.
      scheduler: { max_agents: AGENTS, tick_interval_s: 1 },
      agents: { talker: { kind: 'command', command: process.execPath, args: [agent, counts], max_concurrent: AGENTS } },
      // The sandbox off: its cost is bench/overhead's to measure, and the agent script and its log are
      // in the scratch directory, which a sandboxed run does not see.
      projects: { [PROJECT]: { path: repo, default_branch: 'main', agents: ['talker'], max_agents: AGENTS, max_attempts: 10, sandbox: 'off', backoff: { base_s: 0.2, cap_s: 1, jitter: 0 } } },
    }),
  );
  const env = { ...process.env, ORCH_HOME: home, NO_COLOR: '1' };
  const profiling = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
  const daemon = spawn(process.execPath, [...profiling, CLI, 'serve', '--port', '0', '--grace', '5'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

  // The SSE client: every agent event's lag, and when runs spawn and end.
  const lags = [];
  const stored = [];
  const spawned = new Map(); // run id → at
  const claimed = new Map(); // run id → at (`run.started`: the task claimed, its run made)
  const workspaceReady = new Map(); // run id → at
  const ended = new Map(); // run id → at
  const finished = new Set();
  const failures = [];
  const controller = new AbortController();
  const response = await fetch(`${url}/events`, { headers, signal: controller.signal });
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        const receivedAt = Date.now();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type;
          let data;
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data = line.slice(6);
          }
          if (type === 'ready') ready();
          if (!data) continue;
          if (type === 'agent.assistant_text') {
            const event = JSON.parse(data);
            const emit = /^emit (\d+) /.exec(event.data.text);
            if (emit) {
              lags.push(receivedAt - Number(emit[1]));
              stored.push(event.at - Number(emit[1]));
            }
          } else if (type === 'run.spawned') spawned.set(JSON.parse(data).runId, JSON.parse(data).at);
          else if (type === 'run.started') claimed.set(JSON.parse(data).runId, JSON.parse(data).at);
          else if (type === 'workspace.ready') workspaceReady.set(JSON.parse(data).runId, JSON.parse(data).at);
          else if (type === 'run.ended') ended.set(JSON.parse(data).runId, JSON.parse(data).at);
          else if (type === 'run.failed') failures.push(`#${JSON.parse(data).taskId}: ${JSON.parse(data).data.reason}`);
          else if (type === 'task.finish') finished.add(JSON.parse(data).taskId);
        }
      }
    } catch {
      // closed
    }
  })();
  await readyPromise;

  const launchers = launcherPids(daemon.pid);
  if (launchers.length === 0) console.log('  (no launcher processes found: their CPU is not counted)');
  const samples = [sample(daemon.pid, launchers)];
  const sampler = setInterval(() => samples.push(sample(daemon.pid, launchers)), 250);
  const started = Date.now();
  // All posted at once, as a client adding a batch would.
  await Promise.all(
    Array.from({ length: AGENTS }, async (_, i) => {
      const r = await fetch(`${url}/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ project: PROJECT, title: `Talker ${i + 1}` }) });
      if (r.status !== 201) throw new Error(`POST /tasks: ${r.status}`);
    }),
  );
  // Until every task's agent has talked to its end (its run ended with a spawn behind it) and been merged.
  while (finished.size < AGENTS) {
    if (Date.now() - started > (SECONDS + 180) * 1000) throw new Error(`only ${finished.size} of ${AGENTS} tasks done:\n${failures.join('\n')}\n${logs.slice(-3000)}`);
    await sleep(200);
  }
  const allDone = Date.now();
  clearInterval(sampler);
  samples.push(sample(daemon.pid, launchers));
  await sleep(500); // the last events reach the client
  controller.abort();
  await reading;
  daemon.kill('SIGTERM');
  await exited;

  // How many agents ran at each moment, from the runs' spawn and end events; the "all running" window
  // is the longest stretch at the peak (all AGENTS when every task's first attempt got going together).
  const moves = [];
  for (const [run, at] of spawned) {
    moves.push([at, +1]);
    moves.push([ended.get(run) ?? Infinity, -1]);
  }
  moves.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  let peakFrom = NaN;
  let peakWindow = [NaN, NaN];
  for (const [at, delta] of moves) {
    if (delta < 0 && running === peak && at - peakFrom > (peakWindow[1] - peakWindow[0] || 0)) peakWindow = [peakFrom, at];
    running += delta;
    if (running > peak) {
      peak = running;
      peakWindow = [NaN, NaN];
    }
    if (running === peak && delta > 0) peakFrom = at;
  }
  const firstSpawn = Math.min(...spawned.values());
  const lastSpawn = Math.max(...spawned.values());
  const lastEnd = Math.max(...ended.values());
  const cpuBetween = (from, to, which = 'cpuMs') => {
    const inside = samples.filter((s) => s.at >= from && s.at <= to);
    if (inside.length < 2) return NaN;
    const [a, b] = [inside[0], inside.at(-1)];
    return (100 * (b[which] - a[which])) / (b.at - a.at);
  };
  const emitted = readFileSync(counts, 'utf8')
    .split('\n')
    .filter(Boolean)
    .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
  // Claim → spawn of each task's first run, and its two phases: the workspace (clone refreshed,
  // worktree made) and what follows it (hooks, prompt, sandbox, spawn).
  const firstRuns = [...spawned.keys()].sort((a, b) => a - b).slice(0, AGENTS);
  const phase = (from, to) => stats(firstRuns.filter((run) => from.has(run) && to.has(run)).map((run) => to.get(run) - from.get(run)));
  const result = {
    agents: AGENTS,
    spawnSpreadMs: lastSpawn - firstSpawn,
    claimSpreadMs: Math.max(...claimed.values()) - Math.min(...claimed.values()),
    claimToSpawned: phase(claimed, spawned),
    claimToWorkspace: phase(claimed, workspaceReady),
    workspaceToSpawned: phase(workspaceReady, spawned),
    peakRunning: peak,
    allRunningMs: peakWindow[1] - peakWindow[0],
    cpuAllRunningPct: cpuBetween(peakWindow[0], peakWindow[1]),
    launcherCpuAllRunningPct: cpuBetween(peakWindow[0], peakWindow[1], 'launcherCpuMs'),
    launcherCpuWholeRunPct: cpuBetween(firstSpawn, lastEnd, 'launcherCpuMs'),
    runs: spawned.size,
    failures,
    cpuWholeRunPct: cpuBetween(firstSpawn, lastEnd),
    cpuMergeTailPct: cpuBetween(lastEnd, allDone),
    peakRssMiB: Math.max(...samples.map((s) => s.rssKiB)) / 1024,
    startRssMiB: samples[0].rssKiB / 1024,
    lag: stats(lags),
    emitToStored: stats(stored),
    emitted,
    received: lags.length,
    merged: finished.size,
    mergeTailMs: allDone - lastEnd,
    // The spare kept ready for a next task is not left over.
    worktreesLeft: (() => {
      try {
        return readdirSync(join(home, 'projects', PROJECT, 'worktrees')).filter((name) => name !== 'spare').length;
      } catch {
        return 0;
      }
    })(),
  };
  // The baseline in the same conditions, right after: the same agents read, parsed and stored by a
  // minimal process (bench/concurrency-baseline.mjs).
  const baseline = JSON.parse(
    execFileSync(process.execPath, [BASELINE, agent, String(AGENTS), join(scratch, 'baseline')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1),
  );
  result.baseline = baseline;
  if (!KEEP) rmSync(scratch, { recursive: true, force: true });
  else console.log(`kept ${scratch}`);
  return result;
}

const f = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
console.log(`orch concurrency: ${AGENTS} agents × ${RATE} events/s × ${SECONDS} s; ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const results = [];
for (let r = 1; r <= REPEAT; r++) {
  const x = await round();
  results.push(x);
  console.log(`\nround ${r} (load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  console.log(`  ${x.runs} agent runs, spawns spread over ${f(x.spawnSpreadMs)} ms; at most ${x.peakRunning} running together, for ${f(x.allRunningMs)} ms`);
  console.log(`  spawns: first → last run.spawned ${f(x.spawnSpreadMs)} ms (claims spread over ${f(x.claimSpreadMs)} ms); claim → spawned p50 ${f(x.claimToSpawned.p50)} p99 ${f(x.claimToSpawned.p99)} ms (claim → workspace.ready p50 ${f(x.claimToWorkspace.p50)} p99 ${f(x.claimToWorkspace.p99)}, → spawned p50 ${f(x.workspaceToSpawned.p50)} p99 ${f(x.workspaceToSpawned.p99)})`);
  if (x.failures.length > 0) console.log(`  attempts that failed (retried):\n    ${x.failures.join('\n    ')}`);
  console.log(`  daemon CPU: ${f(x.cpuAllRunningPct)} % while ${x.peakRunning} ran, ${f(x.cpuWholeRunPct)} % first spawn → last end, ${f(x.cpuMergeTailPct)} % in the merge tail (${f(x.mergeTailMs)} ms)`);
  console.log(`  its launchers' CPU: ${f(x.launcherCpuAllRunningPct, 1)} % while ${x.peakRunning} ran, ${f(x.launcherCpuWholeRunPct, 1)} % first spawn → last end; daemon with launchers ${f(x.cpuAllRunningPct + x.launcherCpuAllRunningPct)} % while ${x.peakRunning} ran`);
  console.log(`  baseline (read, parse, store in batches; bench/concurrency-baseline.mjs): ${f(x.baseline.cpuAllRunningPct, 1)} % while all ${x.agents} ran (${f(x.baseline.allRunningMs)} ms), ${x.baseline.stored} events stored; daemon/baseline ${f(x.cpuAllRunningPct / x.baseline.cpuAllRunningPct, 1)}× (with its launchers ${f((x.cpuAllRunningPct + x.launcherCpuAllRunningPct) / x.baseline.cpuAllRunningPct, 1)}×)`);
  console.log(`  daemon RSS: ${f(x.startRssMiB)} MiB at start, peak ${f(x.peakRssMiB)} MiB`);
  console.log(`  SSE lag ms: p50 ${f(x.lag.p50)}  p90 ${f(x.lag.p90)}  p99 ${f(x.lag.p99)}  max ${f(x.lag.max)}  (emit → stored p50 ${f(x.emitToStored.p50)}, p99 ${f(x.emitToStored.p99)})`);
  console.log(`  events: ${x.emitted} printed by agents, ${x.received} received over SSE; ${x.merged}/${x.agents} tasks merged; ${x.worktreesLeft} task worktrees left`);
}
console.log(`\nJSON ${JSON.stringify(results)}`);
