// `orch run --once` against a fake Linear, through the built CLI: an issue blocked by another runs in the
// same command as its blocker, and every state a task passes through shows in Linear as it happens, even
// those shorter than a scheduling pass.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { startFakeLinear, type FakeLinear } from '../rig/fake-linear/server.js';
import { runCli } from '../rig/run-cli.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const LINEAR_KEY = 'lin_api_once';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  linear: FakeLinear;
  home: string;
  repo: string;
}

async function setup(stateMap?: Record<string, string>): Promise<Setup> {
  const scratch = tempDir('orch-linear-once-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  const agent = join(scratch.path, 'agent.sh');
  writeFileSync(agent, '#!/bin/sh\necho "work of $ORCH_TASK_ID" > "work-$ORCH_TASK_ID.txt"\necho done\n');
  chmodSync(agent, 0o755);
  const linear = await startFakeLinear({ apiKey: LINEAR_KEY });
  cleanups.push(() => linear.close());
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const tracker = { kind: 'linear', team: 'ENG', api_url: linear.url, ...(stateMap ? { state_map: stateMap } : {}) };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { worker: { kind: 'command', command: agent } },
      projects: { app: { path: repo, default_branch: 'main', agents: ['worker'], merge_strategy: 'direct', tracker } },
    }),
  );
  return { linear, home, repo };
}

function runOnce(s: Setup) {
  return runCli([process.execPath, CLI, 'run', '--once'], { cwd: s.repo, env: { ...process.env, ORCH_HOME: s.home, LINEAR_API_KEY: LINEAR_KEY } as Record<string, string>, timeoutMs: 120_000 });
}

/** The workflow state names Orch moved an issue through, in order. */
function movesOf(linear: FakeLinear, id: string): string[] {
  const issue = linear.workspace.issue(id);
  return linear.requests
    .filter((r) => r.operationName === 'OrchMoveIssue' && r.status === 200 && r.variables.id === issue.id)
    .map((r) => linear.workspace.statesOf(issue.teamId).find((state) => state.id === r.variables.stateId)!.name);
}

describe('orch run --once with Linear', () => {
  it('runs an issue blocked by another in the same command, after its blocker', async () => {
    const s = await setup();
    s.linear.workspace.addTeam('ENG');
    const blocker = s.linear.workspace.addIssue({ team: 'ENG', title: 'Lay the foundation', description: 'First.', state: 'Todo' });
    const blocked = s.linear.workspace.addIssue({ team: 'ENG', title: 'Build on it', description: 'Second.', state: 'Todo' });
    s.linear.workspace.addRelation(blocker.id, blocked.id);

    const run = await runOnce(s);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(s.linear.failures).toEqual([]);
    expect(s.linear.workspace.stateNamed(blocker.teamId, 'Done').id).toBe(s.linear.workspace.issue(blocker.id).stateId);
    expect(s.linear.workspace.stateNamed(blocked.teamId, 'Done').id).toBe(s.linear.workspace.issue(blocked.id).stateId);

    const store = await openSqliteStore(join(s.home, 'orch.db'));
    try {
      const tasks = await store.listTasks({ project: 'app' });
      expect(tasks.map((t) => [t.title, t.state])).toEqual([
        ['Lay the foundation', 'done'],
        ['Build on it', 'done'],
      ]);
      const [first, second] = tasks;
      expect(second!.dependsOn).toEqual([first!.id]);
      const runs = await store.listRuns({});
      const firstRun = runs.find((r) => r.taskId === first!.id)!;
      const secondRun = runs.find((r) => r.taskId === second!.id)!;
      // The blocked one started only once its blocker had ended.
      expect(secondRun.startedAt).toBeGreaterThanOrEqual(firstRun.endedAt!);
    } finally {
      await store.close();
    }
  });

  it('shows every state a short task passes through in Linear, in order', async () => {
    const s = await setup({ running: 'In Progress', judging: 'Verifying', merging: 'Merging', done: 'Done' });
    s.linear.workspace.addTeam('ENG', {
      states: [
        { name: 'Todo', type: 'unstarted' },
        { name: 'In Progress', type: 'started' },
        { name: 'Verifying', type: 'started' },
        { name: 'Merging', type: 'started' },
        { name: 'Done', type: 'completed' },
        { name: 'Canceled', type: 'canceled' },
      ],
    });
    const issue = s.linear.workspace.addIssue({ team: 'ENG', title: 'A quick one', description: 'Quick.', state: 'Todo' });

    const run = await runOnce(s);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(s.linear.failures).toEqual([]);
    expect(movesOf(s.linear, issue.id)).toEqual(['In Progress', 'Verifying', 'Merging', 'Done']);
  });
});
