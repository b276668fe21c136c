// A pull worker whose agent runs in Orch's sandbox, ORCH_HOME hidden (no orch.db, no token) and its
// network empty: the built `orch issue ready` and `orch agent claim|describe|done` inside still work,
// through the worker's API socket in its HOME. Needs the build: `npx tsc -p tsconfig.build.json`.

import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { askOrch } from '../../src/cli/worker-api-client.js';
import type { CommandIo } from '../../src/cli/run.js';
import { OrchError } from '../../src/core/errors.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { openWorkerApi } from '../../src/engine/worker-api.js';
import { registerWorker, runWorker, workerDirectory } from '../../src/engine/worker.js';
import { CLI } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;
let home: string;

function script(name: string, body: string): string {
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  const path = join(scratch.path, 'bin', name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

// The worker's agent, run by Orch in its sandbox (network model-only: no model API, nothing else).
const INNER = `
set -e
if [ -e "$ORCH_HOME/orch.db" ] || [ -e "$ORCH_HOME/token" ] || [ -e "$ORCH_HOME/config.yaml" ]; then echo "ORCH_HOME is visible" >&2; exit 3; fi
id=$(orch issue ready --json | sed -n 's/^    "id": \\([0-9]*\\),$/\\1/p' | head -n 1)
orch agent claim "$id"
title=$(orch agent describe --json | sed -n 's/^  "title": "\\(.*\\)",$/\\1/p')
echo "$title, done in a sandbox" > sandboxed.txt
orch agent done --summary "wrote sandboxed.txt"
echo pwned > "$ORCH_HOME/pwned" || true
`;

beforeEach(async () => {
  scratch = tempDir('orch-sbx-pull-');
  repo = makeRepo(scratch.path, 'app');
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'start']);
  home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { boxed: { kind: 'command', command: script('boxed', INNER) } },
      projects: { app: { path: repo, mode: 'pull', agents: ['boxed'], max_agents: 1, sandbox: 'on', network: 'model-only' } },
    }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

const plan = { project: 'app', agent: 'boxed', runCapUsd: null };

describe('the worker API', () => {
  it('lets a sandboxed worker list, claim, read and finish its task without seeing ORCH_HOME', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Write from the box' }, orch.now());
    const summary = await runWorker(orch, await registerWorker(orch, plan), plan, { sourceEnv: { PATH: process.env.PATH }, orchCli: [process.execPath, CLI] });
    expect(summary.worker, summary.worker.reason ?? '').toMatchObject({ outcome: 'claimed', taskId: task.id, summary: 'wrote sandboxed.txt' });
    expect(summary.task!.task.state).toBe('done');
    expect(git(repo, ['show', 'main:sandboxed.txt'])).toBe('Write from the box, done in a sandbox');
    // Its refused write is the task's, named as the sandbox's refusal.
    const denied = await orch.store.listEvents({ types: ['run.sandbox_denied'] });
    expect(denied).toEqual([expect.objectContaining({ taskId: task.id, data: { line: expect.stringContaining(`${home}/pwned`), worker: summary.worker.id } })]);
    expect(existsSync(join(home, 'pwned'))).toBe(false);
  });

  it("answers for its own worker only, and only with that worker's token", async () => {
    await addTask(orch.store, { project: 'app', title: 'Mine' }, orch.now());
    const mine = await registerWorker(orch, plan);
    const other = await registerWorker(orch, plan);
    const api = await openWorkerApi(orch, { worker: mine.id }, workerDirectory(home, mine.id));
    try {
      const io = { orch: () => Promise.reject(new Error('the store must not be opened')) } as unknown as CommandIo;
      // Whatever ORCH_RUN_ID says, the API's worker is the one it was opened for.
      const env = { ...api.env, ORCH_RUN_ID: `w${other.id}` };
      expect(await askOrch(io, { kind: 'claim', taskId: 1 }, env)).toMatchObject({ kind: 'claim', task: { id: 1 } });
      expect((await orch.store.getWorker(mine.id))!.taskId).toBe(1);
      expect((await orch.store.getWorker(other.id))!.taskId).toBeNull();
      const refused = askOrch(io, { kind: 'describe' }, { ...env, ORCH_WORKER_TOKEN: 'not-the-token' });
      await expect(refused).rejects.toThrow(OrchError);
      await expect(refused).rejects.toThrow(/needs this worker's token/);
      await expect(askOrch(io, { kind: 'claim', taskId: 1 }, env)).rejects.toThrow(/you already hold task #1/);
    } finally {
      await api.close();
    }
    await expect(askOrch({} as CommandIo, { kind: 'describe' }, api.env)).rejects.toThrow(/cannot reach Orch through the worker API/);
  });
});
