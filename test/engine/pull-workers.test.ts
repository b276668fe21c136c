// Pull mode end to end inside the engine: workers Orch starts claim their own tasks through the real
// `orch` CLI (built: run `npm run build` first), in real git repositories, on a real SQLite store.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle, type CycleProgress } from '../../src/engine/cycle.js';
import { projectStatus } from '../../src/engine/projects.js';
import { recover } from '../../src/engine/recovery.js';
import { addTask } from '../../src/engine/tasks.js';
import { registerWorker, runWorker } from '../../src/engine/worker.js';
import { CLI } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;
let home: string;

const env = { PATH: process.env.PATH };
const orchCli = [process.execPath, CLI];

function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

// The ids `orch issue ready --json` lists, one per line.
const READY_IDS = `orch issue ready --json | sed -n 's/^    "id": \\([0-9]*\\),$/\\1/p'`;

/** A worker that does what the kickstart prompt says: claim the first task it can, do it, commit, say done. */
const DILIGENT = `
for id in $(${READY_IDS}); do
  if orch agent claim "$id" > /dev/null 2>&1; then
    if orch agent describe | grep -q 'found BUG'; then fix=fixed; else fix=BUG; fi
    case "$(orch agent describe --json)" in *'"title": "Buggy'*) echo "$fix" > "src/buggy-$id.txt" ;; *) echo "by $ORCH_RUN_ID" > "src/task-$id.txt" ;; esac
    git add -A && git commit -q -m "task $id"
    orch agent done --summary "did task $id"
    exit 0
  fi
done
orch agent done`;

beforeEach(async () => {
  scratch = tempDir('orch-pull-');
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'a.txt'), 'one\n');
  // A real test suite: fails when any file in src/ contains BUG.
  writeFileSync(join(repo, 'test.sh'), '#!/bin/sh\nif grep -rq BUG src; then echo "found BUG in src" >&2; exit 1; fi\necho ok\n');
  chmodSync(join(repo, 'test.sh'), 0o755);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'app with tests']);
  home = join(scratch.path, 'home');
  mkdirSync(home);
  const agents = {
    diligent: script('diligent', DILIGENT),
    idle: script('idle', `orch agent done\necho "I will not claim anything"\necho '{"type":"cost","usd":0.25,"cumulative":true}'`),
    crashing: script('crashing', `orch agent claim "$(${READY_IDS} | head -n 1)" > /dev/null\necho half > src/half.txt\nexit 3`),
  };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 4 },
      agents: Object.fromEntries(Object.entries(agents).map(([name, command]) => [name, { kind: 'command', command }])),
      projects: { app: { path: repo, mode: 'pull', agents: ['diligent'], max_agents: 3, max_attempts: 2, backoff: { base_s: 0.05, cap_s: 0.1, jitter: 0 }, judge: { test: ['./test.sh'] } } },
    }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

/** Runs the built CLI as a worker's agent would, as its own OS process. */
function agentCli(args: string[], runId: string | undefined): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ORCH_HOME: home };
  if (runId === undefined) delete childEnv.ORCH_RUN_ID;
  else childEnv.ORCH_RUN_ID = runId;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv, cwd: scratch.path });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const plan = { project: 'app', agent: 'diligent', runCapUsd: null };

describe('pull workers', () => {
  it('never lets two workers claim one task when OS processes race `orch agent claim`', async () => {
    const tasks: Task[] = [];
    for (let i = 0; i < 3; i++) tasks.push(await addTask(orch.store, { project: 'app', title: `Task ${i}` }, orch.now()));
    const workers = [];
    for (let i = 0; i < 6; i++) workers.push(await registerWorker(orch, plan));

    // Every worker goes for the tasks in the same order at the same time: the worst contention there is.
    const raced = await Promise.all(
      workers.map(async (worker) => {
        const tries = [];
        for (const task of tasks) {
          const result = await agentCli(['agent', 'claim', String(task.id)], `w${worker.id}`);
          tries.push({ taskId: task.id, ...result });
          if (result.code === 0) break;
        }
        return { worker, tries };
      }),
    );

    const wins = raced.flatMap((r) => r.tries.filter((t) => t.code === 0).map((t) => ({ worker: r.worker.id, taskId: t.taskId })));
    expect(wins.map((w) => w.taskId).sort()).toEqual(tasks.map((t) => t.id).sort());
    expect(new Set(wins.map((w) => w.worker)).size).toBe(wins.length);
    // A refusal is one line and exit 6, whoever won.
    const refusals = raced.flatMap((r) => r.tries.filter((t) => t.code !== 0));
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal.code).toBe(6);
      expect(refusal.stderr).toMatch(/^orch: task #\d+ is already claimed by another worker: pick another one from `orch issue ready`\n$/);
    }

    const claims = await orch.store.listClaims('app');
    expect(claims.map((c) => c.taskId).sort()).toEqual(tasks.map((t) => t.id).sort());
    for (const task of tasks) {
      expect((await orch.store.listEvents({ taskId: task.id, types: ['claim.acquired'] })).length).toBe(1);
      expect(await orch.store.getTask(task.id)).toMatchObject({ state: 'running', attempts: 1, agent: 'diligent' });
      const runs = await orch.store.listRuns({ taskId: task.id });
      expect(runs).toHaveLength(1);
      const holder = (await orch.store.listWorkers()).find((w) => w.taskId === task.id)!;
      expect(holder.runId).toBe(runs[0]!.id);
      expect(claims.find((c) => c.taskId === task.id)).toMatchObject({ runId: runs[0]!.id, owner: holder.owner });
    }

    // A worker holds one task at a time.
    const holder = wins[0]!;
    const other = tasks.find((t) => t.id !== holder.taskId)!;
    const second = await agentCli(['agent', 'claim', String(other.id)], `w${holder.worker}`);
    expect(second.code).toBe(4);
    expect(second.stderr).toBe(`orch: you already hold task #${holder.taskId}: a worker takes one task; finish it and run \`orch agent done\`\n`);
  });

  it('gives each of several workers racing `orch agent claim` without an id a task of its own, the first ready ones', async () => {
    const tasks: Task[] = [];
    for (let i = 0; i < 5; i++) tasks.push(await addTask(orch.store, { project: 'app', title: `Task ${i}` }, orch.now()));
    const workers = [];
    for (let i = 0; i < 4; i++) workers.push(await registerWorker(orch, plan));

    const raced = await Promise.all(workers.map(async (worker) => ({ worker, ...(await agentCli(['agent', 'claim', '--json'], `w${worker.id}`)) })));
    // No one is refused: each took the first ready task no other had taken.
    for (const { code, stderr } of raced) expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const won = raced.map((r) => (JSON.parse(r.stdout) as { task: { id: number } }).task.id);
    expect([...won].sort((a, b) => a - b)).toEqual(tasks.slice(0, 4).map((t) => t.id));
    for (const { worker, stdout } of raced) {
      const taskId = (JSON.parse(stdout) as { task: { id: number } }).task.id;
      expect((await orch.store.getWorker(worker.id))?.taskId).toBe(taskId);
      expect(await orch.store.getTask(taskId)).toMatchObject({ state: 'running', attempts: 1 });
    }

    // One more worker gets the last one; the next hears that none is ready, in one line.
    const fifth = await registerWorker(orch, plan);
    expect(JSON.parse((await agentCli(['agent', 'claim', '--json'], `w${fifth.id}`)).stdout)).toMatchObject({ task: { id: tasks[4]!.id } });
    const sixth = await registerWorker(orch, plan);
    const none = await agentCli(['agent', 'claim'], `w${sixth.id}`);
    expect(none.stderr).toBe('orch: no task of project app is ready: run `orch agent done` and exit\n');
    expect(none.code).not.toBe(0);
  });

  it('refuses `orch agent` commands to anyone but a running worker, in one line', async () => {
    await addTask(orch.store, { project: 'app', title: 'Task' }, orch.now());
    const ended = await registerWorker(orch, plan);
    await orch.store.updateWorker(ended.id, { endedAt: orch.now(), outcome: 'no_work' }, orch.now());
    const cases = [
      [undefined, 'ORCH_RUN_ID is not set'],
      ['7', 'ORCH_RUN_ID "7" is not a running worker'],
      [`w${ended.id}`, `ORCH_RUN_ID "w${ended.id}" is not a running worker`],
    ] as const;
    const commands = [['agent', 'claim', '1'], ['agent', 'describe'], ['agent', 'done']];
    const results = await Promise.all(cases.flatMap(([runId, why]) => commands.map(async (args) => ({ why, result: await agentCli(args, runId) }))));
    for (const { why, result } of results) {
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`orch: \`orch agent claim|describe|done\` are for agents Orch started as pull workers (${why})\n`);
    }
    // People may list the ready work all the same.
    const ready = await agentCli(['issue', 'ready'], undefined);
    expect(ready.stdout).toMatch(/^ID\s+PRI\s+TITLE\s+LABELS\n#1\s+0\s+Task/);
  });

  it('runs a pull backlog: workers claim their own tasks, and each goes on to judge and merge', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await addTask(orch.store, { project: 'app', title: `File ${i}`, priority: i }, orch.now())).id);
    const progress: CycleProgress[] = [];
    const results = await runCycle(orch, { once: true, pollMs: 50, sourceEnv: env, orchCli, onProgress: (p) => progress.push(p) });

    expect(results.map((r) => r.task.state)).toEqual(['done', 'done', 'done']);
    for (const id of ids) expect(readFileSync(join(repo, 'src', `task-${id}.txt`), 'utf8')).toMatch(/^by w\d+\n$/);
    expect(Number(git(repo, ['rev-list', '--count', 'main']))).toBe(2 + 3);

    const workers = await orch.store.listWorkers();
    const claimed = workers.filter((w) => w.outcome === 'claimed');
    expect(claimed.map((w) => w.taskId).sort()).toEqual([...ids].sort());
    for (const worker of claimed) {
      expect(worker).toMatchObject({ summary: `did task ${worker.taskId}`, endedAt: expect.any(Number), pid: expect.any(Number) });
      // The task's run is the worker's agent run, moved to the task's worktree and branch.
      const run = (await orch.store.getRun(worker.runId!))!;
      expect(run).toMatchObject({ taskId: worker.taskId, outcome: 'succeeded', pid: worker.pid, logPath: worker.logPath });
      expect(run.worktree).toBe(join(home, 'projects', 'app', 'worktrees', String(worker.taskId)));
      expect(run.branch).toMatch(new RegExp(`^orch/${worker.taskId}-file-`));
      expect(readFileSync(join(home, 'runs', String(run.id), 'prompt.md'), 'utf8')).toContain(`# Task #${worker.taskId}: File`);
      expect(readFileSync(worker.logPath!, 'utf8')).toContain(`Noted. Exit now: Orch commits what is left of task #${worker.taskId}`);
      const events = (await orch.store.listEvents({ taskId: worker.taskId! })).map((e) => e.type);
      expect(events).toEqual(expect.arrayContaining(['claim.acquired', 'task.start', 'worker.claimed', 'judge.verdict', 'merge.done', 'task.finish', 'claim.released']));
    }
    // Any worker beyond those found nothing left: a normal end.
    for (const worker of workers.filter((w) => w.outcome !== 'claimed')) expect(worker.outcome).toBe('no_work');
    expect(progress.filter((p) => p.type === 'worker_claimed')).toHaveLength(3);

    // Nothing is left behind: no claim, no worker worktree or branch.
    expect(await orch.store.listClaims()).toEqual([]);
    expect(readdirSync(join(home, 'projects', 'app', 'worktrees'))).toEqual([]);
    expect(git(join(home, 'projects', 'app', 'repo'), ['branch', '--list', 'orch/*'])).toBe('');
  });

  it('retries a judged failure like a push run, and the next worker reads what went wrong', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Buggy feature' }, orch.now());
    const results = await runCycle(orch, { once: true, pollMs: 50, sourceEnv: env, orchCli });
    expect(results.map((r) => r.task.state)).toEqual(['routed', 'done']);
    expect(results[0]!.note).toMatch(/^judge: /);
    expect(readFileSync(join(repo, 'src', `buggy-${task.id}.txt`), 'utf8')).toBe('fixed\n');
    const runs = await orch.store.listRuns({ taskId: task.id });
    expect(runs.map((r) => r.attempt)).toEqual([1, 2]);
    expect(readFileSync(join(home, 'runs', String(runs[1]!.id), 'prompt.md'), 'utf8')).toContain('found BUG in src');
  });

  it('ends a worker that claims nothing, frees its slot, and pauses the project after three in a row', async () => {
    orch.config.projects.app!.agents = ['idle'];
    await addTask(orch.store, { project: 'app', title: 'Nobody takes me' }, orch.now());
    const progress: CycleProgress[] = [];
    const results = await runCycle(orch, { once: true, pollMs: 20, sourceEnv: env, orchCli, onProgress: (p) => progress.push(p) });
    expect(results).toEqual([]);
    const workers = await orch.store.listWorkers();
    expect(workers.map((w) => w.outcome)).toEqual(['unclaimed', 'unclaimed', 'unclaimed']);
    expect(workers[0]!.reason).toBe('it said done and exited without claiming any of the 1 ready task');
    expect(await orch.store.getProject('app')).toMatchObject({ paused: true, pausedReason: 'paused: the last 3 workers ended without claiming any of the ready tasks (the last: unclaimed)' });
    expect(progress.filter((p) => p.type === 'worker_ended').map((p) => (p as { outcome: string }).outcome)).toEqual(['unclaimed', 'unclaimed', 'unclaimed']);
    expect(await orch.store.getTask(1)).toMatchObject({ state: 'new', attempts: 0 });
    // What they cost counts against the project's day, though no run carries it.
    expect(workers.map((w) => w.costUsd)).toEqual([0.25, 0.25, 0.25]);
    expect(await projectStatus(orch, 'app')).toMatchObject({ mode: 'pull', idleWorkers: 0, spentTodayUsd: 0.75 });
    expect(readdirSync(join(home, 'projects', 'app', 'worktrees'))).toEqual([]);
  });

  it('ends a worker `no_work` when nothing is left to claim', async () => {
    const summary = await runWorker(orch, await registerWorker(orch, plan), plan, { sourceEnv: env, orchCli });
    expect(summary.task).toBeNull();
    expect(summary.worker).toMatchObject({ outcome: 'no_work', reason: 'it said done and exited; no ready task was left to claim', taskId: null });
    expect(await orch.store.getProject('app')).toMatchObject({ paused: false });
  });

  it('treats a worker whose agent fails after its claim like a failed push run: the task is retried', async () => {
    const crashing = { ...plan, agent: 'crashing' };
    const task = await addTask(orch.store, { project: 'app', title: 'Crash on me' }, orch.now());
    const summary = await runWorker(orch, await registerWorker(orch, crashing), crashing, { sourceEnv: env, orchCli });
    expect(summary.worker).toMatchObject({ outcome: 'claimed', taskId: task.id });
    expect(summary.task!.task).toMatchObject({ state: 'routed', attempts: 1 });
    expect(summary.task!.note).toMatch(/^agent run failed: /);
    expect(await orch.store.getRun(summary.task!.runId)).toMatchObject({ outcome: 'failed', exitCode: 3 });
    expect(await orch.store.listClaims()).toEqual([]);
    // The attempt's work is kept on the task's branch, as a push run's would be.
    expect(existsSync(join(home, 'projects', 'app', 'worktrees', String(task.id), 'src', 'half.txt'))).toBe(true);
  });

  it('recovers a worker whose Orch died after its claim like any run: the task is retried, the worker crashed', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Orphaned' }, orch.now());
    const deadPid = spawnSync('true').pid!;
    const worker = await orch.store.createWorker({ project: 'app', agent: 'diligent', owner: `${hostname()}:${deadPid}`, host: hostname(), startedAt: orch.now() });
    expect((await agentCli(['agent', 'claim', String(task.id)], `w${worker.id}`)).code).toBe(0);

    const recovered = await recover(orch);
    expect(recovered).toEqual([expect.objectContaining({ taskId: task.id, action: 'retry' })]);
    // Orch's death is not the task's failure: the attempt is given back.
    expect(await orch.store.getTask(task.id)).toMatchObject({ state: 'routed', attempts: 0 });
    expect((await orch.store.listRuns({ taskId: task.id }))[0]).toMatchObject({ outcome: 'crashed' });
    expect(await orch.store.getWorker(worker.id)).toMatchObject({ outcome: 'crashed', endedAt: expect.any(Number) });
    expect(await orch.store.listClaims()).toEqual([]);
  });
});
