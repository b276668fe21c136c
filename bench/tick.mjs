// planTick benchmark: the pure scheduling decision over a large portfolio.
// Run with `npm run bench` (builds first). Prints the median and spread of many timed runs.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { planTick } from '../dist/core/plan-tick.js';

const AGENTS = ['claude', 'codex', 'opencode', 'gemini'];

/** A seeded generator, so every run of the benchmark plans the same portfolio. */
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeInput({ tasks: taskCount, claims: claimCount, projects: projectCount, sorted, allWaiting }) {
  const random = mulberry32(42);
  const now = 1_700_000_000_000;
  const projects = new Map();
  for (let p = 0; p < projectCount; p++) {
    projects.set(`project-${p}`, {
      name: `project-${p}`,
      priority: p % 3,
      paused: p % 17 === 16,
      maxAgents: 4,
      agents: AGENTS.slice(0, 1 + (p % AGENTS.length)),
      running: p % 3,
      budget: { dailyUsd: 50, taskUsd: 5, runUsd: 2 },
      spentTodayUsd: random() * 40,
      backpressure: { openPrs: p % 5, maxOpenPrs: 10, needsReview: 1, maxNeedsReview: 20 },
    });
  }
  const tasks = [];
  for (let id = 1; id <= taskCount; id++) {
    tasks.push({
      id,
      project: `project-${Math.floor(random() * projectCount)}`,
      state: random() < 0.5 ? 'new' : 'routed',
      priority: Math.floor(random() * 4),
      createdAt: now - Math.floor(random() * 86_400_000),
      agent: random() < 0.3 ? AGENTS[Math.floor(random() * AGENTS.length)] : null,
      nextAttemptAt: random() < 0.1 ? now + 60_000 : null,
      costUsd: random() * 2,
      waitingOn: [],
    });
  }
  const claimedTaskIds = new Set();
  while (claimedTaskIds.size < Math.min(claimCount, taskCount)) claimedTaskIds.add(1 + Math.floor(random() * taskCount));
  const agents = new Map(AGENTS.map((name) => [name, { maxConcurrent: 100, running: 10, coolingUntil: null }]));
  if (allWaiting) {
    // Worst case: every task is routed to an agent that is cooling down, so the tick walks the whole queue.
    for (const task of tasks) task.agent = 'gemini';
    agents.set('gemini', { maxConcurrent: 100, running: 0, coolingUntil: now + 60_000 });
  }
  if (sorted) tasks.sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt || a.id - b.id);
  // 200 global slots: enough that the tick walks deep into the queue rather than stopping at once.
  return { now, maxAgents: 200, running: 40, tasks, claimedTaskIds, projects, agents };
}

function measure(input, runs, explain) {
  for (let i = 0; i < 20; i++) planTick(input, { explain }); // warm the JIT
  const times = [];
  let started = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    started = planTick(input, { explain }).starts.length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), started };
}

const scenarios = [
  { name: '10k ready, 1k claims, 50 projects (unsorted input)', tasks: 10_000, claims: 1_000, projects: 50, sorted: false, runs: 200 },
  { name: '10k ready, 1k claims, 50 projects (sorted by the store)', tasks: 10_000, claims: 1_000, projects: 50, sorted: true, runs: 200 },
  { name: '10k ready, all waiting on a cooling agent (worst case)', tasks: 10_000, claims: 1_000, projects: 50, sorted: false, allWaiting: true, runs: 100 },
  { name: '1k ready (growth)', tasks: 1_000, claims: 100, projects: 50, sorted: false, runs: 500 },
  { name: '10k ready (growth)', tasks: 10_000, claims: 1_000, projects: 50, sorted: false, runs: 200 },
  { name: '100k ready (growth)', tasks: 100_000, claims: 10_000, projects: 50, sorted: false, runs: 40 },
];

console.log(`planTick benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}`);
console.log('scenario'.padEnd(58), 'mode'.padEnd(8), 'median ms'.padStart(10), 'p10'.padStart(8), 'p90'.padStart(8), 'starts'.padStart(7));
for (const scenario of scenarios) {
  const input = makeInput(scenario);
  for (const explain of [false, true]) {
    const r = measure(input, scenario.runs, explain);
    console.log(
      scenario.name.padEnd(58),
      (explain ? 'explain' : 'plan').padEnd(8),
      r.median.toFixed(3).padStart(10),
      r.p10.toFixed(3).padStart(8),
      r.p90.toFixed(3).padStart(8),
      String(r.started).padStart(7),
    );
  }
}
