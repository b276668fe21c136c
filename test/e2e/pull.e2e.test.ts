// A pull project under `orch serve`, as real processes: nobody assigns tasks. The daemon starts
// workers, each a `command` agent that is a shell script running `orch issue ready`, `orch agent
// claim`, `orch agent describe` and `orch agent done` itself; three tasks reach done through the
// workers that claimed them, and the daemon stops cleanly with nothing left behind.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { openOrch } from '../../src/engine/context.js';
import { CLI, orch as runOrch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
};

// The agent: a worker doing exactly what its kickstart prompt says, with the `orch` Orch put on its PATH.
const WORKER_SCRIPT = `#!/bin/sh
for id in $(orch issue ready --json | sed -n 's/^    "id": \\([0-9]*\\),$/\\1/p'); do
  if orch agent claim "$id"; then
    title=$(orch agent describe --json | sed -n 's/^  "title": "\\(.*\\)",$/\\1/p')
    echo "$title, by $ORCH_RUN_ID" > "notes-$id.txt"
    git add -A && git commit -q -m "$title"
    orch agent done --summary "wrote notes-$id.txt"
    exit 0
  fi
done
orch agent done
`;

describe('a pull project under orch serve', () => {
  it('takes three tasks to done through workers that claim their own work', async () => {
    const scratch = tempDir('orch-pull-e2e-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'notes');
    writeFileSync(join(repo, 'check.sh'), '#!/bin/sh\nfor f in notes-*.txt; do [ -e "$f" ] || exit 0; grep -q ", by w" "$f" || exit 1; done\n');
    chmodSync(join(repo, 'check.sh'), 0o755);
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'notes with a check']);
    const script = join(scratch.path, 'worker.sh');
    writeFileSync(script, WORKER_SCRIPT);
    chmodSync(script, 0o755);
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.yaml'),
      JSON.stringify({
        scheduler: { max_agents: 3, tick_interval_s: 1 },
        agents: { worker: { kind: 'command', command: script } },
        projects: { notes: { path: repo, default_branch: 'main', mode: 'pull', agents: ['worker'], max_agents: 3, judge: { test: ['./check.sh'] } } },
      }),
    );

    const cli = (...args: string[]) => runOrch(args, { cwd: scratch.path, home });
    for (const title of ['Write the intro', 'Write the usage', 'Write the licence']) expect(cli('task', 'add', title, '--project', 'notes').code).toBe(0);
    const ready = cli('issue', 'ready', '--json').json<{ id: number; title: string; priority: number; labels: string[] }[]>();
    expect(ready.map((t) => t.title)).toEqual(['Write the intro', 'Write the usage', 'Write the licence']);
    const plan = cli('plan', '--dry-run', '--json').json<{ plan: { starts: unknown[]; workers: { project: string; agent: string }[] } }>();
    expect(plan.plan.starts).toEqual([]);
    expect(plan.plan.workers).toEqual([
      { project: 'notes', agent: 'worker', runCapUsd: null },
      { project: 'notes', agent: 'worker', runCapUsd: null },
      { project: 'notes', agent: 'worker', runCapUsd: null },
    ]);

    const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '10', '--port', '0'], { cwd: scratch.path, env: { ...process.env, ORCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    daemon.stdout.on('data', (c: Buffer) => (logs += c.toString()));
    daemon.stderr.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    });
    const tasks = () => cli('task', 'list', '--json').json<Task[]>();
    await until(() => tasks().every((t) => t.state === 'done'), 120_000, `three tasks done\n${logs}`);

    for (const task of tasks()) expect(git(repo, ['show', `main:notes-${task.id}.txt`])).toMatch(new RegExp(`^${task.title}, by w\\d+$`));
    expect(readFileSync(join(repo, `notes-1.txt`), 'utf8')).toMatch(/^Write the intro, by w\d+\n$/);
    expect(logs).toMatch(/worker w\d+ claimed #1 Write the intro/);

    daemon.kill('SIGTERM');
    expect(await exited, logs).toBe(0);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    const after = await openOrch(home);
    cleanups.push(() => after.close());
    expect(await after.store.listClaims()).toEqual([]);
    const workers = await after.store.listWorkers();
    const claimed = workers.filter((w) => w.outcome === 'claimed');
    expect(claimed.map((w) => w.taskId).sort()).toEqual([1, 2, 3]);
    expect(new Set(claimed.map((w) => w.id)).size).toBe(3);
    for (const worker of workers) expect(['claimed', 'no_work']).toContain(worker.outcome);
    for (const task of await after.store.listTasks()) {
      const runs = await after.store.listRuns({ taskId: task.id });
      expect(runs).toEqual([expect.objectContaining({ outcome: 'succeeded', attempt: 1 })]);
      expect(claimed.find((w) => w.taskId === task.id)!.runId).toBe(runs[0]!.id);
    }
  });
});
