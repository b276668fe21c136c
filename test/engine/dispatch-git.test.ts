import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { countGitStarts, type GitCounter } from '../helpers/git-counter.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { commitFile } from '../workspace/fixtures.js';

// The git processes Orch starts between claiming a task and spawning its agent, counted (never
// timed): each costs a few milliseconds to start, and they run one after another on the dispatch path.
// A warm dispatch on a repository nobody else changed reads the clone's refs and the source's tip
// (moving the tracking ref when the source is at what Orch delivered), makes the task's branch in the
// spare worktree made while the last agent ran, and moves that into place.

/** At most this many git processes from claim to spawn for a task on a warm clone. */
const WARM_DISPATCH_LIMIT = 5;
const AGENT_STARTED = '# agent started';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;
let counter: GitCounter;

beforeEach(async () => {
  scratch = tempDir('orch-dispatch-git-');
  repo = makeRepo(scratch.path, 'app');
  commitFile(repo, 'README.md', '# app\n');
  counter = countGitStarts(scratch.path);
  const agent = join(scratch.path, 'agent.sh');
  writeFileSync(
    agent,
    [
      '#!/bin/sh',
      `echo '${AGENT_STARTED}' >> '${counter.log}'`,
      'echo "task $ORCH_TASK_ID" > "task-$ORCH_TASK_ID.txt"',
      "printf '%s\\n' '```json' '{\"status\":\"done\",\"summary\":\"ok\",\"remaining\":\"\",\"follow_ups\":[]}' '```'",
      '',
    ].join('\n'),
  );
  chmodSync(agent, 0o755);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  // The agent marks its start in the test's log outside its worktree, which a sandboxed run may not
  // write: the sandbox is tested in test/e2e/sandbox-escape.e2e.test.ts.
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({ agents: { stamp: { kind: 'command', command: agent } }, projects: { app: { path: repo, default_branch: 'main', agents: ['stamp'], sandbox: 'off' } } }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  counter.restore();
  await orch.close();
  scratch.cleanup();
});

/** Runs a new task to the end; returns the git commands started before its agent. */
async function dispatch(title: string): Promise<string[]> {
  counter.reset();
  const task = await addTask(orch.store, { project: 'app', title }, orch.now());
  const summary = await runTask(orch, task.id, { sourceEnv: { PATH: process.env.PATH ?? '' } });
  expect(summary.task.state, summary.note).toBe('done');
  expect(counter.lines()).toContain(AGENT_STARTED);
  return counter.commands(AGENT_STARTED);
}

describe('git processes on the dispatch path', () => {
  it('a second task on an unchanged repository starts few, and neither fetches nor writes settings', async () => {
    await dispatch('First task, makes the clone');
    // The first task's merge was delivered to the user's repository: the source is at the clone's tip.
    const second = await dispatch('Second task');
    expect(second.length, second.join(', ')).toBeLessThanOrEqual(WARM_DISPATCH_LIMIT);
    for (const avoided of ['fetch', 'ls-remote', 'config', 'check-ref-format', 'symbolic-ref', 'worktree prune', 'worktree list']) {
      expect(second, avoided).not.toContain(avoided);
    }
    // The worktree is the spare made while the first task's agent ran: the branch switched in it, and moved into place.
    expect(second.filter((command) => command.startsWith('worktree'))).toEqual(['worktree move']);
    expect(second.filter((command) => command === 'checkout')).toHaveLength(1);
  });

  it('fetches once when the user committed since the last task', async () => {
    await dispatch('First task, makes the clone');
    commitFile(repo, 'user.txt', 'the user was here\n');
    const next = await dispatch('After the user committed');
    expect(next.filter((command) => command === 'fetch')).toEqual(['fetch']);
    // Besides the warm dispatch: the fetch, the fetched tip, whether it fast-forwards, and the move.
    expect(next.length, next.join(', ')).toBeLessThanOrEqual(WARM_DISPATCH_LIMIT + 4);
    expect(git(repo, ['log', '-1', '--format=%s', 'main'])).toBe('After the user committed');
  });
});
