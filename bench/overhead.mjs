// Pipeline overhead benchmark: what Orch adds per task on top of the git work any tool would do.
// Run with `npm run bench:overhead` (builds first). Options: --tasks N (warm tasks per side and
// variant, default 12), --traced N (traced tasks, default 4), --repeat R (rounds, each on fresh
// clones and a fresh ORCH_HOME, default 3), --keep (leave the scratch directories).
//
// The repository: date-fns, three releases (2.28.0, 2.29.3, 2.30.0) as fetched by `npm pack`, one
// commit each, packed by `git gc`: 5,722 files, 6.7 MB of content (≈ 34 MB on disk). Built once and cached
// under $TMPDIR/orch-bench-overhead/ (the first run needs the npm registry; later runs reuse it).
//
// Orch: a throwaway ORCH_HOME whose projects point at plain `git clone`s of that repository (the
// user's repositories, main checked out), an agent of kind `command` that writes one file and prints a
// result block, and `runTask` — the whole pipeline — for each task in turn. Two variants: no judge
// commands at all, and `judge.test: ["true"]`, each with the sandbox off and on. The first task of each
// variant also makes Orch's bare clone, and is reported apart (cold).
//
// Baseline: bash doing the same git steps per task on a bare clone of another plain clone (see
// BASELINE_SCRIPT below for exactly what). Orch and baseline tasks alternate, and the variants' tasks
// interleave, so load on a shared machine falls on all alike.
//
// Where Orch's time goes: each task's events (their timestamps) split it into phases; the baseline
// script times its own steps with $EPOCHREALTIME; and after the warm tasks of each round a few more
// (--traced N, default 4, per side and variant) run with GIT_TRACE2_EVENT, which tells the git
// processes each side starts, the time spent inside git, and so each side's time apart from checking
// out and deleting the files (`git worktree add` / `remove`: the same work for both, and the part
// that grows with the repository and the machine's file system).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openOrch } from '../dist/engine/context.js';
import { runTask } from '../dist/engine/runner.js';
import { addTask } from '../dist/engine/tasks.js';
import { option, quantile } from './figures.mjs';

// ---------------------------------------------------------------- options

const WARM_TASKS = option('tasks', 12);
const REPEAT = option('repeat', 3);
const KEEP = process.argv.includes('--keep');
const TRACED_TASKS = option('traced', 4);

const PACKAGE = 'date-fns';
const VERSIONS = ['2.28.0', '2.29.3', '2.30.0'];
const CACHE = join(os.tmpdir(), 'orch-bench-overhead');

// ---------------------------------------------------------------- helpers

const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@orch.invalid'];
const git = (cwd, args, env) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env }).trim();

/**
 * CPU milliseconds used so far by this process (Orch runs in it) and by every child it has reaped,
 * their own reaped children included (git, bwrap and what runs inside, the baseline's bash and git):
 * a task's CPU is the difference around it. Unlike its wall time it hardly moves with other load on
 * the machine. The children's part comes from /proc in clock ticks (10 ms at the usual 100 Hz).
 */
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
function cpuMs() {
  const own = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime) are at 13 and 14 once pid and comm are cut off.
  const children = (Number(fields[13]) + Number(fields[14])) * TICK_MS;
  return (own.user + own.system) / 1000 + children;
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9), n: sorted.length };
}
const median = (values) => stats(values).median;
const ms = (v) => (Number.isFinite(v) ? v.toFixed(0) : '-');

function run(command, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

// ---------------------------------------------------------------- the repository (cached)

/** date-fns as a git repository: one commit per release, objects packed as a fetched clone's are. */
function sourceRepository() {
  const dir = join(CACHE, `${PACKAGE}-${VERSIONS.join('_')}`);
  if (existsSync(join(dir, '.git', 'orch-bench-complete'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const partial = mkdtempSync(join(CACHE, 'partial-'));
  try {
    const packs = join(partial, 'packs');
    const work = join(partial, 'repo');
    mkdirSync(packs);
    mkdirSync(work);
    git(work, ['init', '-q', '-b', 'main']);
    VERSIONS.forEach((version, i) => {
      process.stdout.write(`  npm pack ${PACKAGE}@${version}\n`);
      const out = execFileSync('npm', ['pack', `${PACKAGE}@${version}`, '--pack-destination', packs, '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const tarball = join(packs, out.trim().split('\n').pop());
      for (const entry of readdirSync(work)) if (entry !== '.git') rmSync(join(work, entry), { recursive: true, force: true });
      execFileSync('tar', ['xzf', tarball, '--strip-components=1', '-C', work]);
      git(work, ['add', '-A']);
      const date = `2023-0${i + 1}-01T12:00:00Z`;
      git(work, [...IDENTITY, 'commit', '-q', '-m', `${PACKAGE} ${version}`], { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    });
    git(work, ['gc', '--quiet']);
    writeFileSync(join(work, '.git', 'orch-bench-complete'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return dir;
}

function describeRepository(dir) {
  const files = git(dir, ['ls-files']).split('\n').length;
  const bytes = git(dir, ['ls-tree', '-r', '-l', 'HEAD'])
    .split('\n')
    .reduce((sum, line) => sum + (Number(line.split(/\s+/)[3]) || 0), 0);
  const commits = Number(git(dir, ['rev-list', '--count', 'HEAD']));
  const packDir = join(dir, '.git', 'objects', 'pack');
  const packBytes = readdirSync(packDir).reduce((sum, f) => sum + statSync(join(packDir, f)).size, 0);
  return { files, mb: bytes / 1e6, commits, packMb: packBytes / 1e6 };
}

// ---------------------------------------------------------------- the agent and the baseline

const AGENT_SCRIPT = `#!/bin/sh
# One small change, then the result block Orch reads.
echo "$ORCH_TASK_ID" > "bench-$ORCH_TASK_ID.txt"
printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"wrote one file","remaining":"","follow_ups":[]}' '\`\`\`'
`;

/**
 * One task, the way a careful shell script would do it. Arguments: bare clone, worktree directory,
 * user's repository, agent script, task number, test command ('' for none), step-times file.
 */
const BASELINE_SCRIPT = `#!/bin/bash
set -euo pipefail
bare=$1 wt=$2 user=$3 agent=$4 i=$5 test=$6 times=$7
t() { printf '%s %s\\n' "$1" "$EPOCHREALTIME" >> "$times"; }
t start
cd "$bare"
# 1. what Orch's refresh does: fetch the user's main into the tracking ref
git fetch --quiet --prune origin +refs/heads/main:refs/remotes/origin/main
t fetch
# 2. a fresh worktree on a new branch from main
git worktree add --quiet -b "b$i" "$wt" main
t worktree
# 3. the agent (the same script Orch runs)
cd "$wt"
ORCH_TASK_ID=$i "$agent" "prompt" > /dev/null
t agent
# 4. commit what it left
git add -A
git -c user.name=Bench -c user.email=bench@orch.invalid commit --quiet --no-verify -m "task $i"
t commit
# 5. the judge's test command, when there is one
if [ -n "$test" ]; then $test; fi
t judge
# 6. rebase onto main (a no-op here) and fast-forward main, compare-and-set
git rebase --quiet main
head=$(git rev-parse HEAD)
old=$(git rev-parse refs/heads/main)
git update-ref refs/heads/main "$head" "$old"
t merge
# 7. deliver: push main into the user's checkout, which git updates only if it is clean
cd "$bare"
git push --quiet --receive-pack='git -c receive.denyCurrentBranch=updateInstead receive-pack' "$user" main:main
t deliver
# 8. clean up
git worktree remove --force "$wt"
git branch --quiet -D "b$i"
t cleanup
`;

const BASELINE_STEPS = ['fetch', 'worktree', 'agent', 'commit', 'judge', 'merge', 'deliver', 'cleanup'];

// ---------------------------------------------------------------- Orch's phases, from its events

const PHASES = [
  ['claim', 'start → run.started (claim, route, start, open the run)'],
  ['fetch+worktree', 'run.started → workspace.ready (refresh the clone, add the worktree)'],
  ['prompt+spawn', 'workspace.ready → run.spawned (hooks, prompt, budget, spawn)'],
  ['agent', 'run.spawned → last agent.* event (the agent runs, each output line an event)'],
  ['exit+commit', 'last agent.* → workspace.committed (exit, after_run, status, add, commit)'],
  ['record run', 'workspace.committed → run.ended'],
  ['judge', 'run.ended → judge.verdict'],
  ['merge', 'judge.verdict → merge.done (transition, refresh again, rebase check, fast-forward)'],
  ['deliver', 'merge.done → delivery.done (push into the user checkout)'],
  ['finish', 'delivery.done → task.finish'],
  ['clean-up', 'task.finish → workspace.removed'],
  ['release', 'workspace.removed → runTask returns (release the claim, settle waits)'],
];

async function orchPhases(orch, taskId, t0, t1) {
  const events = await orch.store.listEvents({ taskId });
  const at = (type) => events.find((e) => e.type === type)?.at ?? NaN;
  const lastAgent = events.filter((e) => e.type.startsWith('agent.')).at(-1)?.at ?? at('run.spawned');
  const marks = [t0, at('run.started'), at('workspace.ready'), at('run.spawned'), lastAgent, at('workspace.committed'), at('run.ended'), at('judge.verdict'), at('merge.done'), at('delivery.done'), at('task.finish'), at('workspace.removed'), t1];
  return Object.fromEntries(PHASES.map(([name], i) => [name, marks[i + 1] - marks[i]]));
}

// ---------------------------------------------------------------- GIT_TRACE2: git processes per task

/**
 * Top-level git processes in a trace2 event file: how many, the milliseconds git reported for them
 * (its own `t_abs` at exit, children such as receive-pack included), and both by subcommand.
 */
function readTrace(file) {
  const trace = { processes: 0, gitMs: 0, byCommand: {} };
  if (!existsSync(file)) return trace;
  const commands = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.sid.includes('/')) continue; // a child of another git process (receive-pack, upload-pack, ...)
    if (e.event === 'start') {
      const words = e.argv.slice(1).filter((a, i, all) => !a.startsWith('-') && all[i - 1] !== '-c');
      commands.set(e.sid, words[0] === 'worktree' ? `worktree ${words[1]}` : (words[0] ?? '?'));
    }
    if (e.event === 'exit' && commands.has(e.sid)) {
      const command = commands.get(e.sid);
      const entry = (trace.byCommand[command] ??= { count: 0, ms: 0 });
      entry.count++;
      entry.ms += e.t_abs * 1000;
      trace.processes++;
      trace.gitMs += e.t_abs * 1000;
    }
  }
  return trace;
}

// ---------------------------------------------------------------- one round

// Each judge variant runs with Orch's sandbox off and on (bubblewrap around the agent and the judge's
// commands), so the sandbox's cost per task is measured in the same round, against the same baseline.
const VARIANTS = [
  { name: 'no judge', project: 'plain', judge: null, test: '', sandbox: 'off' },
  { name: 'no judge, sandboxed', project: 'plain-sandboxed', judge: null, test: '', sandbox: 'on', unsandboxed: 0 },
  { name: 'judge.test: ["true"]', project: 'judged', judge: { test: ['true'] }, test: 'true', sandbox: 'off' },
  { name: 'judge.test, sandboxed', project: 'judged-sandboxed', judge: { test: ['true'] }, test: 'true', sandbox: 'on', unsandboxed: 2 },
];

/** Scratch directories of rounds in progress, removed if the benchmark is interrupted. */
const scratches = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    if (!KEEP) for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

async function round(source, index) {
  const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-overhead-run-'));
  scratches.add(scratch);
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  const agent = join(bin, 'bench-agent.sh');
  writeFileSync(agent, AGENT_SCRIPT);
  chmodSync(agent, 0o755);
  const baselineScript = join(bin, 'baseline-task.sh');
  writeFileSync(baselineScript, BASELINE_SCRIPT);
  chmodSync(baselineScript, 0o755);

  const home = join(scratch, 'orch-home');
  mkdirSync(home);
  const projects = {};
  for (const v of VARIANTS) {
    v.orchUser = join(scratch, `orch-user-${v.project}`);
    v.baseUser = join(scratch, `base-user-${v.project}`);
    v.bare = join(scratch, `base-bare-${v.project}`);
    git(scratch, ['clone', '--quiet', source, v.orchUser]);
    git(scratch, ['clone', '--quiet', source, v.baseUser]);
    projects[v.project] = { path: v.orchUser, default_branch: 'main', agents: ['bench'], sandbox: v.sandbox, ...(v.judge ? { judge: v.judge } : {}) };
  }
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { bench: { kind: 'command', command: agent } }, projects }, null, 2));

  const orch = await openOrch(home);
  const sourceEnv = { PATH: process.env.PATH };
  const results = [];
  try {
    // Each variant set up (and its cold task run) first; then the warm and traced tasks of every
    // variant interleaved, task by task, so that load coming and going falls on every variant alike.
    const prepared = [];
    for (const v of VARIANTS) {
      const total = 1 + WARM_TASKS + TRACED_TASKS;
      const ids = [];
      for (let i = 0; i < total; i++) ids.push((await addTask(orch.store, { project: v.project, title: `Write bench file ${i}` }, orch.now())).id);

      // With `trace`, git writes trace2 events to a file of this task's own: Orch's git calls inherit
      // this process's environment, the baseline's its script's.
      const orchTask = async (id, trace) => {
        if (trace) process.env.GIT_TRACE2_EVENT = trace;
        try {
          const t0 = Date.now();
          const p0 = performance.now();
          const c0 = cpuMs();
          const summary = await runTask(orch, id, { agent: 'bench', sourceEnv });
          const elapsed = performance.now() - p0;
          const cpu = cpuMs() - c0;
          if (summary.task.state !== 'done' || !summary.delivery?.delivered) throw new Error(`Orch task ${id} ended ${summary.task.state}: ${summary.note}`);
          return { elapsed, cpu, phases: await orchPhases(orch, id, t0, Date.now()), trace: trace ? readTrace(trace) : null };
        } finally {
          delete process.env.GIT_TRACE2_EVENT;
        }
      };
      const baselineTask = async (i, trace) => {
        const times = join(scratch, `times-${v.project}-${i}`);
        const env = trace ? { ...process.env, GIT_TRACE2_EVENT: trace } : process.env;
        const p0 = performance.now();
        const c0 = cpuMs();
        await run(baselineScript, [v.bare, join(scratch, `base-wt-${v.project}`, String(i)), v.baseUser, agent, String(i), v.test, times], { env });
        const elapsed = performance.now() - p0;
        const cpu = cpuMs() - c0;
        const marks = readFileSync(times, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]) * 1000);
        return { elapsed, cpu, steps: Object.fromEntries(BASELINE_STEPS.map((s, k) => [s, marks[k + 1] - marks[k]])), trace: trace ? readTrace(trace) : null };
      };

      // Cold: Orch makes its bare clone inside the first task; the baseline clones, then runs its first.
      const orchCold = (await orchTask(ids[0])).elapsed;
      const b0 = performance.now();
      git(scratch, ['clone', '--quiet', '--bare', '--single-branch', '--branch', 'main', v.baseUser, v.bare]);
      await baselineTask(0);
      const baseCold = performance.now() - b0;

      prepared.push({ v, total, orchCold, baseCold, orchTask, baselineTask, ids, orchWarm: [], baseWarm: [], orchTraced: [], baseTraced: [] });
    }

    // Warm tasks, then traced ones, the variants in turn (their order alternating); the two sides of a
    // variant alternate which goes first.
    const total = 1 + WARM_TASKS + TRACED_TASKS;
    for (let i = 1; i < total; i++) {
      const order = i % 2 ? prepared : [...prepared].reverse();
      for (const p of order) {
        const { v, ids, orchTask, baselineTask, orchWarm, baseWarm, orchTraced, baseTraced } = p;
        const traced = i > WARM_TASKS;
        const orchRun = () => orchTask(ids[i], traced ? join(scratch, `trace-orch-${v.project}-${i}.jsonl`) : null);
        const baseRun = () => baselineTask(i, traced ? join(scratch, `trace-base-${v.project}-${i}.jsonl`) : null);
        let o;
        let b;
        if (i % 2) {
          o = await orchRun();
          b = await baseRun();
        } else {
          b = await baseRun();
          o = await orchRun();
        }
        (traced ? orchTraced : orchWarm).push(o);
        (traced ? baseTraced : baseWarm).push(b);
      }
    }

    for (const { v, orchCold, baseCold, orchWarm, baseWarm, orchTraced, baseTraced } of prepared) {
      // Both users' repositories must hold every task's commit, checked out, and nothing else changed.
      const expected = VERSIONS.length + total;
      for (const user of [v.orchUser, v.baseUser]) {
        const commits = Number(git(user, ['rev-list', '--count', 'main']));
        const dirty = git(user, ['status', '--porcelain']);
        const files = readdirSync(user).filter((f) => /^bench-\d+\.txt$/.test(f)).length;
        if (commits !== expected || dirty !== '' || files !== total) throw new Error(`${user}: ${commits} commits (expected ${expected}), ${files} bench files, status "${dirty}"`);
      }

      results.push({ variant: v.name, orchCold, baseCold, orchWarm, baseWarm, orchTraced, baseTraced });
    }
  } finally {
    await orch.close();
    if (KEEP) console.log(`  round ${index + 1}: scratch kept in ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
    scratches.delete(scratch);
  }
  return results;
}

// ---------------------------------------------------------------- main

const cpu = os.cpus();
console.log(`Orch pipeline overhead — node ${process.version}, ${cpu[0]?.model ?? 'unknown cpu'} x${cpu.length}, ${git(process.cwd(), ['--version'])}`);
console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const source = sourceRepository();
const repo = describeRepository(source);
console.log(
  `repository: ${PACKAGE} ${VERSIONS.join(', ')} from npm pack, one commit per release (${source})\n` +
    `            ${repo.files} files, ${repo.mb.toFixed(1)} MB checked out, ${repo.commits} commits, ${repo.packMb.toFixed(1)} MB packed`,
);
console.log(`${REPEAT} round(s) x ${WARM_TASKS} warm tasks per side and variant, each round on fresh clones and a fresh ORCH_HOME\n`);

const rounds = [];
for (let r = 0; r < REPEAT; r++) {
  const results = await round(source, r);
  rounds.push(results);
  console.log(`round ${r + 1}`);
  console.log(`  ${'variant'.padEnd(22)} ${'side'.padEnd(9)} ${'cold ms'.padStart(8)} ${'median'.padStart(7)} ${'p10'.padStart(6)} ${'p90'.padStart(6)}   Orch/baseline`);
  for (const res of results) {
    const o = stats(res.orchWarm.map((t) => t.elapsed));
    const b = stats(res.baseWarm.map((t) => t.elapsed));
    console.log(`  ${res.variant.padEnd(22)} ${'Orch'.padEnd(9)} ${ms(res.orchCold).padStart(8)} ${ms(o.median).padStart(7)} ${ms(o.p10).padStart(6)} ${ms(o.p90).padStart(6)}   ${(o.median / b.median).toFixed(2)}x`);
    console.log(`  ${''.padEnd(22)} ${'baseline'.padEnd(9)} ${ms(res.baseCold).padStart(8)} ${ms(b.median).padStart(7)} ${ms(b.p10).padStart(6)} ${ms(b.p90).padStart(6)}`);
  }
}

/** A task's time apart from checking out and deleting the files (git worktree add / remove), from its trace. */
const CHECKOUT = ['worktree add', 'worktree remove'];
const apartFromCheckout = (task) => task.elapsed - CHECKOUT.reduce((sum, c) => sum + (task.trace.byCommand[c]?.ms ?? 0), 0);
const x = (r) => `${r.toFixed(2)}x`;
const range = (xs, f = ms) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

console.log(`\nsummary: median of the ${REPEAT} rounds' medians (range of the rounds' medians)`);
for (let v = 0; v < VARIANTS.length; v++) {
  const per = rounds.map((results) => results[v]);
  const orchMedians = per.map((res) => median(res.orchWarm.map((t) => t.elapsed)));
  const baseMedians = per.map((res) => median(res.baseWarm.map((t) => t.elapsed)));
  const ratios = orchMedians.map((o, i) => o / baseMedians[i]);
  const diffs = stats(per.flatMap((res) => res.orchWarm.map((t, i) => t.elapsed - res.baseWarm[i].elapsed)));
  const orchRest = stats(per.flatMap((res) => res.orchTraced.map(apartFromCheckout)));
  const baseRest = stats(per.flatMap((res) => res.baseTraced.map(apartFromCheckout)));
  console.log(`  ${VARIANTS[v].name}`);
  console.log(`    Orch     warm ${ms(median(orchMedians))} ms (${range(orchMedians)})   cold ${ms(median(per.map((res) => res.orchCold)))} ms`);
  console.log(`    baseline warm ${ms(median(baseMedians))} ms (${range(baseMedians)})   cold ${ms(median(per.map((res) => res.baseCold)))} ms`);
  console.log(`    Orch/baseline ${x(median(ratios))} (${range(ratios, x)})`);
  console.log(`    Orch − baseline, paired task by task: median ${ms(diffs.median)} ms (p10 ${ms(diffs.p10)}, p90 ${ms(diffs.p90)}, ${diffs.n} pairs)`);
  console.log(
    `    apart from checking out and deleting the ${repo.files} files (traced tasks): Orch ${ms(orchRest.median)} ms (p10 ${ms(orchRest.p10)}, p90 ${ms(orchRest.p90)}), ` +
      `baseline ${ms(baseRest.median)} ms (p10 ${ms(baseRest.p10)}, p90 ${ms(baseRest.p90)}): ${x(orchRest.median / baseRest.median)}, +${ms(orchRest.median - baseRest.median)} ms`,
  );
}

for (let v = 0; v < VARIANTS.length; v++) {
  const orchTasks = rounds.flatMap((results) => results[v].orchWarm);
  const baseTasks = rounds.flatMap((results) => results[v].baseWarm);
  console.log(`\nwhere the time goes — ${VARIANTS[v].name} (median ms over all ${orchTasks.length} warm tasks of each side)`);
  console.log('  Orch, from its events:');
  for (const [name, what] of PHASES) console.log(`    ${name.padEnd(15)} ${ms(median(orchTasks.map((t) => t.phases[name]))).padStart(5)}   ${what}`);
  console.log('  baseline, from $EPOCHREALTIME in the script:');
  for (const step of BASELINE_STEPS) console.log(`    ${step.padEnd(15)} ${ms(median(baseTasks.map((t) => t.steps[step]))).padStart(5)}`);

  const orchTraced = rounds.flatMap((results) => results[v].orchTraced);
  const baseTraced = rounds.flatMap((results) => results[v].baseTraced);
  console.log(`  git, from GIT_TRACE2_EVENT (the ${orchTraced.length} traced tasks of each side; medians per task):`);
  for (const [side, tasks] of [['Orch', orchTraced], ['baseline', baseTraced]]) {
    const wall = median(tasks.map((t) => t.elapsed));
    const inside = median(tasks.map((t) => t.trace.gitMs));
    const outside = median(tasks.map((t) => t.elapsed - t.trace.gitMs));
    const processes = median(tasks.map((t) => t.trace.processes));
    console.log(`    ${side.padEnd(8)} ${ms(wall)} ms: ${processes} git processes, ${ms(inside)} ms inside git, ${ms(outside)} ms outside git`);
    const commands = [...new Set(tasks.flatMap((t) => Object.keys(t.trace.byCommand)))]
      .map((c) => [c, median(tasks.map((t) => t.trace.byCommand[c]?.count ?? 0)), median(tasks.map((t) => t.trace.byCommand[c]?.ms ?? 0))])
      .sort((a, b) => b[2] - a[2]);
    console.log(`      ${commands.map(([c, n, t]) => `${c} ${n}× ${t.toFixed(1)}`).join(', ')}`);
  }
}
console.log('\nthe sandbox: Orch with it on against Orch with it off (median of the rounds\' warm medians; range of the rounds\' ratios)');
for (let v = 0; v < VARIANTS.length; v++) {
  if (VARIANTS[v].unsandboxed === undefined) continue;
  const on = rounds.map((results) => median(results[v].orchWarm.map((t) => t.elapsed)));
  const off = rounds.map((results) => median(results[VARIANTS[v].unsandboxed].orchWarm.map((t) => t.elapsed)));
  const ratios = on.map((o, i) => o / off[i]);
  const extra = on.map((o, i) => o - off[i]);
  console.log(`  ${VARIANTS[v].name.padEnd(22)} on ${ms(median(on))} ms, off ${ms(median(off))} ms: ${x(median(ratios))} (${range(ratios, x)}), ${median(extra) >= 0 ? '+' : ''}${ms(median(extra))} ms per task`);
}
// The same, each Orch task divided by the baseline task run right beside it: load that comes and goes
// during a round falls on both of a pair alike, so this ratio is what the sandbox itself adds.
console.log('\nthe sandbox, load-normalised: median of (Orch task / the baseline task beside it), on against off (per round)');
for (let v = 0; v < VARIANTS.length; v++) {
  if (VARIANTS[v].unsandboxed === undefined) continue;
  const paired = (results) => median(results.orchWarm.map((t, i) => t.elapsed / results.baseWarm[i].elapsed));
  const ratios = rounds.map((results) => paired(results[v]) / paired(results[VARIANTS[v].unsandboxed]));
  console.log(`  ${VARIANTS[v].name.padEnd(22)} ${x(median(ratios))} (${range(ratios, x)})`);
}
// The whole task once more, with the phases that check out and delete the files held equal. Those phases
// (refresh + `git worktree add`, the refinery's worktree for the merge, `git worktree remove`) run on the
// host, never in the sandbox, and do the same git work on and off; their time swings by seconds with the
// disk and drowns a difference of a tenth of a second. Each task's own time in them is replaced by the
// median over every warm task of the pair (on and off pooled), so what differs between the two sides is
// only what the sandbox can touch. The raw phase medians are printed beside it, to show that those phases
// do not differ on and off beyond their noise.
const HOST_ONLY = ['fetch+worktree', 'merge', 'clean-up'];
console.log(`\nthe sandbox, whole task with the checkout phases (${HOST_ONLY.join(', ')}) held equal: median over every round's warm tasks`);
for (let v = 0; v < VARIANTS.length; v++) {
  if (VARIANTS[v].unsandboxed === undefined) continue;
  const onTasks = rounds.flatMap((results) => results[v].orchWarm);
  const offTasks = rounds.flatMap((results) => results[VARIANTS[v].unsandboxed].orchWarm);
  const hostOnly = (t) => HOST_ONLY.reduce((sum, name) => sum + t.phases[name], 0);
  const pooled = median([...onTasks, ...offTasks].map(hostOnly));
  const adjusted = (tasks) => median(tasks.map((t) => t.elapsed - hostOnly(t) + pooled));
  const on = adjusted(onTasks);
  const off = adjusted(offTasks);
  console.log(`  ${VARIANTS[v].name.padEnd(22)} on ${ms(on)} ms, off ${ms(off)} ms: ${x(on / off)}, ${on - off >= 0 ? '+' : ''}${ms(on - off)} ms per task (${onTasks.length} tasks a side)`);
  const phaseLine = (names) => names.map((name) => `${name} ${ms(median(onTasks.map((t) => t.phases[name])))}/${ms(median(offTasks.map((t) => t.phases[name])))}`).join(', ');
  console.log(`    held equal (on/off ms, as measured): ${phaseLine(HOST_ONLY)}`);
  console.log(`    the rest (on/off ms): ${phaseLine(PHASES.map(([name]) => name).filter((name) => !HOST_ONLY.includes(name)))}`);
}
// The cost in CPU: what the machine spends on a task, this process and everything it starts, which other
// load on a shared machine hardly changes (it changes how long the task waits for a core, not how much
// work it is).
console.log('\nthe sandbox in CPU per task (Orch and every process it starts): median over every round\'s warm tasks');
for (let v = 0; v < VARIANTS.length; v++) {
  if (VARIANTS[v].unsandboxed === undefined) continue;
  const on = median(rounds.flatMap((results) => results[v].orchWarm.map((t) => t.cpu)));
  const off = median(rounds.flatMap((results) => results[VARIANTS[v].unsandboxed].orchWarm.map((t) => t.cpu)));
  const base = median(rounds.flatMap((results) => [...results[v].baseWarm, ...results[VARIANTS[v].unsandboxed].baseWarm].map((t) => t.cpu)));
  const perRound = rounds.map((results) => median(results[v].orchWarm.map((t) => t.cpu)) / median(results[VARIANTS[v].unsandboxed].orchWarm.map((t) => t.cpu)));
  console.log(`  ${VARIANTS[v].name.padEnd(22)} on ${ms(on)} ms, off ${ms(off)} ms: ${x(on / off)} (rounds ${range(perRound, x)}), ${on - off >= 0 ? '+' : ''}${ms(on - off)} ms per task; the baseline script ${ms(base)} ms`);
}
console.log(`\nload average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
